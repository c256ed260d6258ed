// `walsim rules diff` (issue 11): the plan of deploying new rules on a
// store, printed without changing it; clear errors for a missing store, a
// bad rules file, and rules that change nothing.
#include "cli/rules_diff_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "engine/bucket_storage.h"
#include "engine/write_batch.h"

namespace walsim {
namespace {

constexpr const char* kRules = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner
  titles:
    data:
      - SELECT id, title FROM todos
)";

// by_owner respelled (unchanged), titles changed, tags new.
constexpr const char* kNewRules = R"(bucket_definitions:
  titles:
    data:
      - SELECT id, title AS name FROM todos
  by_owner:
    data:
      - select id, title from todos where owner = bucket.owner
  tags:
    data:
      - SELECT id FROM tags
)";

Relation todos() {
  Relation relation;
  relation.relid = 1;
  relation.name = "todos";
  relation.columns = {{"id", 25, true}, {"owner", 25, false}, {"title", 25, false}};
  return relation;
}

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

Outcome rules_command_run(std::vector<std::string> args) {
  args.insert(args.begin(), "rules");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = rules_command(static_cast<int>(argv.size()), argv.data());
  std::string out = ::testing::internal::GetCapturedStdout();
  return {code, std::move(out), ::testing::internal::GetCapturedStderr()};
}

class RulesDiffCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("walsim-rules-diff-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    store_ = dir_ + "/store.db";
    auto rules = BucketRules::parse(kRules);
    ASSERT_TRUE(rules.is_ok());
    auto db = SqliteDb::open(store_);
    ASSERT_TRUE(db.is_ok());
    auto storage = BucketStorage::open(**db, *rules, {});
    ASSERT_TRUE(storage.is_ok());
    ASSERT_TRUE((*storage)->register_table(todos()).is_ok());
    auto batch = (*storage)->stream_batch();
    for (const char* id : {"1", "2", "3"}) {
      batch->insert(todos(), {Value::of(id), Value::of("a"), Value::of("t")});
    }
    ASSERT_TRUE(batch->commit(Lsn(16)).is_ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_rules(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string read_store_bytes() {
    std::ifstream in(store_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_, store_;
};

TEST_F(RulesDiffCommandTest, PrintsThePlanAndWritesNothing) {
  const std::string rules = write_rules("new.yaml", kNewRules);
  const std::string before = read_store_bytes();
  Outcome outcome = rules_command_run({"diff", "--store", store_, "--rules", rules});
  EXPECT_EQ(outcome.exit_code, kExitOk) << outcome.err;
  EXPECT_EQ(outcome.out,
            "store " + store_ + ", active rules version 1; deploying " + rules +
                " would build version 2:\n"
                "  new definitions:       tags\n"
                "  changed:               titles\n"
                "  removed:               none\n"
                "  unchanged (kept, not copied, clients download nothing again): by_owner\n"
                "tables to copy (2):\n"
                "  tags                           not in the store yet (no active definition"
                " reads it)\n"
                "  todos                          3 rows in the store\n"
                "nothing was written: this is the plan only\n");
  EXPECT_EQ(read_store_bytes(), before);
}

TEST_F(RulesDiffCommandTest, TheSameRulesAreNothingToDeploy) {
  const std::string rules = write_rules("same.yaml", kRules);
  Outcome outcome = rules_command_run({"diff", "--store", store_, "--rules", rules});
  EXPECT_EQ(outcome.exit_code, kExitFailed);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "walsim rules diff: nothing to deploy: " + rules +
                             " has the same bucket definitions as the store's active rules"
                             " version 1 (whitespace, order and case do not count)\n");
}

TEST_F(RulesDiffCommandTest, AMissingStoreAndBadRulesAreNamed) {
  const std::string rules = write_rules("new.yaml", kNewRules);
  const std::string missing = dir_ + "/no-such.db";
  Outcome outcome = rules_command_run({"diff", "--store", missing, "--rules", rules});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_EQ(outcome.err, "walsim rules diff: store '" + missing + "' does not exist\n");
  EXPECT_FALSE(std::filesystem::exists(missing));

  const std::string broken = write_rules("broken.yaml", "bucket_definitions:\n  b: 1\n");
  outcome = rules_command_run({"diff", "--store", store_, "--rules", broken});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_EQ(outcome.err.rfind("walsim rules diff: " + broken + ": rules line", 0), 0u)
      << outcome.err;

  const std::string not_a_store = write_rules("notes.txt", "hello");
  outcome = rules_command_run({"diff", "--store", not_a_store, "--rules", rules});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_NE(outcome.err.find("is not a walsim store"), std::string::npos) << outcome.err;
}

TEST_F(RulesDiffCommandTest, HelpAndUnknownSubcommands) {
  Outcome outcome = rules_command_run({"diff", "--help"});
  EXPECT_EQ(outcome.exit_code, kExitOk);
  EXPECT_NE(outcome.out.find("--store"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("Writes nothing"), std::string::npos) << outcome.out;
  outcome = rules_command_run({"--help"});
  EXPECT_EQ(outcome.exit_code, kExitOk);
  EXPECT_NE(outcome.out.find("walsim rules diff"), std::string::npos) << outcome.out;
  outcome = rules_command_run({"apply"});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_EQ(outcome.err.rfind("walsim rules: unknown subcommand 'apply'\n", 0), 0u) << outcome.err;
  outcome = rules_command_run({"diff", "--store", store_});
  EXPECT_EQ(outcome.exit_code, kExitUsage);
  EXPECT_NE(outcome.err.find("--rules is required"), std::string::npos) << outcome.err;
}

}  // namespace
}  // namespace walsim
