// `walsim inspect`: on a store file (--json), per bucket the rows, ops and
// the checksum a client verifies at the published checkpoint, read from the
// bucket totals, with ops written after the checkpoint shown as pending,
// and each rules version with its state and progress; on
// paths that are not stores, exit 2 and one line that says what the path is.
#include "cli/inspect_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "engine/bucket_storage.h"
#include "engine/rules_fingerprint.h"
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

Row todo(const char* id, const char* owner) {
  return {Value::of(id), Value::of(owner), Value::of("t")};
}

nlohmann::json inspect_json(const std::string& path) {
  std::vector<std::string> args = {"inspect", "--store", path, "--json"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  testing::internal::CaptureStdout();
  const int exit_code = inspect_command(static_cast<int>(argv.size()), argv.data());
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(exit_code, kExitOk) << out;
  return nlohmann::json::parse(out);
}

TEST(InspectCommandTest, PrintsTheCheckpointsChecksumsFromTheTotals) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("walsim-inspect-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/store.db";
  auto rules = BucketRules::parse(kRules);
  ASSERT_TRUE(rules.is_ok());
  auto db = SqliteDb::open(path);
  ASSERT_TRUE(db.is_ok());
  auto storage = BucketStorage::open(**db, *rules, {});
  ASSERT_TRUE(storage.is_ok());
  BucketStorage& store = **storage;
  ASSERT_TRUE(store.register_table(todos()).is_ok());
  ASSERT_TRUE(store.mark_table_snapshot_done("todos", Lsn(1)).is_ok());
  ASSERT_TRUE(store.mark_all_snapshot_done(Lsn(1)).is_ok());
  auto batch = store.stream_batch();
  batch->insert(todos(), todo("1", "a"));
  batch->insert(todos(), todo("2", "a"));
  batch->insert(todos(), todo("3", "b"));
  ASSERT_TRUE(batch->commit(Lsn(16)).is_ok());
  ASSERT_TRUE(store.make_durable(Lsn(16)).is_ok());  // publishes the checkpoint
  auto checkpoint = store.checkpoint();
  ASSERT_TRUE(checkpoint.is_ok() && checkpoint->has_value());
  const int64_t up_to = (*checkpoint)->op_id;
  const uint32_t checksum_a = *store.bucket_checksum("by_owner[\"a\"]", up_to);
  // After the checkpoint: one more op in bucket a, not yet published.
  batch->remove(todos(), {Value::of("1"), Value::null(), Value::null()});
  ASSERT_TRUE(batch->flush().is_ok());

  const nlohmann::json out = inspect_json(path);
  EXPECT_EQ(out["checkpoint"]["op_id"], up_to);
  ASSERT_EQ(out["buckets"].size(), 2u);
  const nlohmann::json& a = out["buckets"][0];
  EXPECT_EQ(a["bucket"], "by_owner[\"a\"]");
  EXPECT_EQ(a["rows"], 1);  // as of the newest op: row 1 was removed
  EXPECT_EQ(a["ops"], 3);
  EXPECT_EQ(a["checksum"], checksum_a);  // at the checkpoint, before the REMOVE
  EXPECT_EQ(a["pending_ops"], 1);
  const nlohmann::json& b = out["buckets"][1];
  EXPECT_EQ(b["bucket"], "by_owner[\"b\"]");
  EXPECT_EQ(b["rows"], 1);
  EXPECT_EQ(b["checksum"], *store.bucket_checksum("by_owner[\"b\"]", up_to));
  EXPECT_EQ(b["pending_ops"], 0);
  // Issue 11: the store's one rules version, and the checkpoint names it.
  EXPECT_EQ(out["checkpoint"]["rules_version"], 1);
  ASSERT_EQ(out["rules_versions"].size(), 1u);
  const nlohmann::json& version = out["rules_versions"][0];
  EXPECT_EQ(version["id"], 1);
  EXPECT_EQ(version["state"], "active");
  EXPECT_EQ(version["progress"], "serving checkpoint op " + std::to_string(up_to));
  ASSERT_EQ(version["definitions"].size(), 1u);
  EXPECT_EQ(version["definitions"][0]["name"], "by_owner");
  EXPECT_EQ(version["definitions"][0]["fingerprint"],
            fingerprint_definitions(*rules)[0].fingerprint);
  storage->reset();
  db->reset();
  std::filesystem::remove_all(dir);
}

struct Outcome {
  int exit_code;
  std::string err;
};

Outcome inspect(std::vector<std::string> args) {
  args.insert(args.begin(), "inspect");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStderr();
  const int code = inspect_command(static_cast<int>(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStderr()};
}

TEST(InspectCommand, ADirectoryIsNamedAsOne) {
  const std::string directory = ::testing::TempDir() + "/inspect-a-directory";
  std::filesystem::create_directories(directory);
  Outcome outcome = inspect({"--store", directory});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "walsim inspect: '" + directory +
                             "' is a directory; the store is a file in one: name the file, "
                             "e.g. '" + directory + "/walsim.db'\n");
}

TEST(InspectCommand, AMissingStoreIsNamedAsMissing) {
  const std::string path = ::testing::TempDir() + "/inspect-no-such-store.db";
  Outcome outcome = inspect({"--store", path});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "walsim inspect: store '" + path + "' does not exist\n");
}

}  // namespace
}  // namespace walsim
