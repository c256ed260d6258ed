#include "sim/oracle_checksum.h"

namespace walsim::sim {

namespace {

constexpr uint32_t kFnvOffsetBasis = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;
constexpr unsigned char kFieldSeparator = 0xFF;  // ("ab","c") and ("a","bc") differ

void mix_byte(uint32_t& hash, unsigned char byte) {
  hash ^= byte;
  hash *= kFnvPrime;
}

void mix_field(uint32_t& hash, std::string_view field) {
  for (char c : field) mix_byte(hash, static_cast<unsigned char>(c));
  mix_byte(hash, kFieldSeparator);
}

}  // namespace

uint32_t oracle_op_checksum(bool is_put, std::string_view bucket, std::string_view table,
                            std::string_view row_id, const std::optional<std::string_view>& data) {
  uint32_t hash = kFnvOffsetBasis;
  mix_field(hash, is_put ? "PUT" : "REMOVE");
  mix_field(hash, bucket);
  mix_field(hash, table);
  mix_field(hash, row_id);
  if (data) mix_field(hash, *data);
  return hash;
}

}  // namespace walsim::sim
