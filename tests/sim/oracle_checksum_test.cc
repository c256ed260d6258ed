// The oracle's op checksum, by known answers: fixed ops, fixed numbers
// (worked out by hand from FNV-1a's definition, written down as literals),
// which the engine's op_checksum must give too. If either side changes
// its checksum, one of these fails before a campaign does.
#include "sim/oracle_checksum.h"

#include <gtest/gtest.h>

#include "engine/op_log.h"

namespace walsim::sim {
namespace {

constexpr const char* kBucket = "lists[\"a\"]";
constexpr const char* kRowId = "[\"7\"]";
constexpr const char* kData = "{\"id\":\"7\",\"title\":\"x\"}";

TEST(OracleChecksum, APutHasItsKnownAnswer) {
  EXPECT_EQ(oracle_op_checksum(true, kBucket, "todos", kRowId, kData), 2691783211u);
  EXPECT_EQ(op_checksum(OpKind::kPut, kBucket, "todos", kRowId, std::string(kData)), 2691783211u);
}

TEST(OracleChecksum, ARemoveHasItsKnownAnswer) {
  EXPECT_EQ(oracle_op_checksum(false, kBucket, "todos", kRowId, std::nullopt), 86615747u);
  EXPECT_EQ(op_checksum(OpKind::kRemove, kBucket, "todos", kRowId, std::nullopt), 86615747u);
}

// The separator byte: moving a character from one field to the next
// changes the checksum.
TEST(OracleChecksum, FieldsAreSeparated) {
  EXPECT_NE(oracle_op_checksum(true, "ab", "c", kRowId, kData),
            oracle_op_checksum(true, "a", "bc", kRowId, kData));
  EXPECT_NE(oracle_op_checksum(true, kBucket, "todos", kRowId, std::string_view("")),
            oracle_op_checksum(true, kBucket, "todos", kRowId, std::nullopt));
}

}  // namespace
}  // namespace walsim::sim
