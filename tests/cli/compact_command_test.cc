// `walsim compact`: on a store whose rows were written over and over, the
// op history shrinks to one op per live row plus a CLEAR, the checksums at
// the published checkpoint stay, and the bytes before and after are
// printed; bad input (a missing file, not a store, a bound past the
// checkpoint, a store in use) is refused with one line and its exit code.
#include "cli/compact_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "engine/bucket_storage.h"
#include "engine/store_lock.h"
#include "engine/write_batch.h"

namespace walsim {
namespace {

constexpr const char* kRules = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner
)";

Relation todos() {
  Relation relation;
  relation.relid = 1;
  relation.name = "todos";
  relation.columns = {{"id", 25, true}, {"owner", 25, false}, {"title", 25, false}};
  return relation;
}

struct Ran {
  int exit_code;
  std::string out;
  std::string err;
};

Ran compact(std::vector<std::string> args) {
  args.insert(args.begin(), "compact");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int exit_code = compact_command(static_cast<int>(argv.size()), argv.data());
  std::string out = testing::internal::GetCapturedStdout();
  return {exit_code, out, testing::internal::GetCapturedStderr()};
}

class CompactCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("walsim-compact-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/store.db";
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // 100 rows, each written `versions` times; published at the last write.
  void write_store(int versions) {
    auto rules = BucketRules::parse(kRules);
    ASSERT_TRUE(rules.is_ok());
    auto db = SqliteDb::open(path_);
    ASSERT_TRUE(db.is_ok());
    auto storage = BucketStorage::open(**db, *rules, {});
    ASSERT_TRUE(storage.is_ok());
    BucketStorage& store = **storage;
    ASSERT_TRUE(store.register_table(todos()).is_ok());
    ASSERT_TRUE(store.mark_table_snapshot_done("todos", Lsn(1)).is_ok());
    ASSERT_TRUE(store.mark_all_snapshot_done(Lsn(1)).is_ok());
    auto batch = store.stream_batch();
    for (int version = 0; version < versions; version++) {
      for (int id = 0; id < 100; id++) {
        const std::string title(200, static_cast<char>('a' + version));
        batch->insert(todos(), {Value::of(std::to_string(id)), Value::of("o"), Value::of(title)});
      }
      ASSERT_TRUE(batch->commit(Lsn(16 * (version + 1))).is_ok());
    }
    ASSERT_TRUE(store.make_durable(Lsn(16 * versions)).is_ok());
    checksum_ = *store.bucket_checksum("by_owner[\"o\"]", (*store.checkpoint())->op_id);
  }

  std::vector<StoredOp> read_ops() {
    auto db = SqliteDb::open(path_, false);
    static const BucketRules kNoRules;
    auto storage = BucketStorage::open(**db, kNoRules, {});
    return *(*storage)->ops(0, INT64_MAX);
  }

  std::string dir_, path_;
  uint32_t checksum_ = 0;
};

TEST_F(CompactCommandTest, ShrinksTheHistoryAndKeepsTheChecksum) {
  write_store(4);
  ASSERT_EQ(read_ops().size(), 400u);
  const Ran ran = compact({"--store", path_});
  ASSERT_EQ(ran.exit_code, kExitOk) << ran.err;
  EXPECT_NE(ran.out.find("up to op 400: 1 buckets, 300 ops moved, 299 folded into 1 CLEARs"),
            std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("store bytes: before="), std::string::npos) << ran.out;
  const std::vector<StoredOp> ops = read_ops();
  ASSERT_EQ(ops.size(), 101u);
  EXPECT_EQ(ops.front().kind, OpKind::kClear);
  EXPECT_EQ(ops.front().op_id, 300);
  uint32_t sum = 0;
  for (const StoredOp& op : ops) sum += op.checksum;
  EXPECT_EQ(sum, checksum_);
  // The bytes printed: after is below before (200-byte titles, 3 of 4 gone).
  const size_t before_at = ran.out.find("before=") + 7, after_at = ran.out.find("after=") + 6;
  EXPECT_LT(std::stoll(ran.out.substr(after_at)), std::stoll(ran.out.substr(before_at)));
}

TEST_F(CompactCommandTest, BadInputIsRefusedWithOneLine) {
  Ran missing = compact({"--store", dir_ + "/nothing.db"});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  std::ofstream(dir_ + "/text.db") << "not a database at all, just some text\n";
  Ran text = compact({"--store", dir_ + "/text.db"});
  EXPECT_EQ(text.exit_code, kExitUsage);
  EXPECT_NE(text.err.find("is not a walsim store"), std::string::npos) << text.err;
  write_store(2);
  Ran past = compact({"--store", path_, "--up-to-op", "9999"});
  EXPECT_EQ(past.exit_code, kExitUsage);
  EXPECT_NE(past.err.find("must be between 0 and the published checkpoint, op 200"),
            std::string::npos) << past.err;
  Ran flag = compact({"--store", path_, "--bogus"});
  EXPECT_EQ(flag.exit_code, kExitUsage);
}

TEST_F(CompactCommandTest, AStoreInUseIsRefused) {
  write_store(2);
  FileStoreLocks locks;
  auto held = locks.acquire(path_);
  ASSERT_TRUE(held.is_ok());
  const Ran ran = compact({"--store", path_});
  EXPECT_EQ(ran.exit_code, kExitFailed);
  EXPECT_NE(ran.err.find("is in use by another walsim"), std::string::npos) << ran.err;
  EXPECT_EQ(read_ops().size(), 200u);  // nothing compacted
}

}  // namespace
}  // namespace walsim
