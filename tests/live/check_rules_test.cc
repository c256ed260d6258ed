// `walsim check-rules --source`: the rules against a real server, every
// problem named at once (live/rules_check.h), and the command's output and
// exit codes through the built binary.
#include "live/rules_check.h"

#include <gtest/gtest.h>

#include "tests/live/live_fixture.h"
#include "tests/live/walsim_process.h"

namespace walsim::live::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CheckRulesTest : public LiveFixture {
 protected:
  std::vector<RulesProblem> problems(const std::string& yaml, const std::string& publication) {
    Result<BucketRules> rules = BucketRules::parse(yaml);
    EXPECT_TRUE(rules.is_ok()) << rules.status().to_string();
    Result<std::unique_ptr<PgConnection>> connection =
        PgConnection::open(server_->conninfo(), PgConnection::Mode::kNormal);
    EXPECT_TRUE(connection.is_ok()) << connection.status().to_string();
    if (!rules.is_ok() || !connection.is_ok()) return {{"?", "set-up failed"}};
    Result<std::vector<RulesProblem>> found =
        check_rules_against_source(**connection, *rules, publication);
    EXPECT_TRUE(found.is_ok()) << found.status().to_string();
    return found.is_ok() ? *found : std::vector<RulesProblem>{{"?", "check failed"}};
  }

  static std::string all(const std::vector<RulesProblem>& found) {
    std::string text;
    for (const RulesProblem& problem : found) text += problem.table + ": " + problem.message + "\n";
    return text;
  }
};

TEST_F(CheckRulesTest, RulesThatFitHaveNoProblems) {
  sql("CREATE TABLE cr_ok (id int PRIMARY KEY, owner text, title text);"
      "CREATE PUBLICATION cr_ok_pub FOR TABLE cr_ok");
  std::vector<RulesProblem> found = problems(
      "bucket_definitions:\n  b:\n    data:\n"
      "      - SELECT id, title FROM cr_ok WHERE owner = bucket.owner\n",
      "cr_ok_pub");
  EXPECT_TRUE(found.empty()) << all(found);
}

TEST_F(CheckRulesTest, NamesEveryProblemAtOnce) {
  sql("CREATE SCHEMA cr_other;"
      "CREATE TABLE cr_other.cr_elsewhere (id int PRIMARY KEY);"
      "CREATE TABLE cr_items (id int PRIMARY KEY, owner text, secret text, score int);"
      "CREATE TABLE cr_nokey (id int, v text);"
      "CREATE TABLE cr_unpublished (id int PRIMARY KEY);"
      "CREATE TABLE cr_cols (id int PRIMARY KEY, a text);"
      "CREATE PUBLICATION cr_pub FOR TABLE cr_items (id, owner, score) WHERE (score > 5), "
      "cr_nokey, cr_cols");
  const std::string yaml =
      "bucket_definitions:\n  b:\n    data:\n"
      "      - SELECT id, secret FROM cr_items WHERE owner = bucket.owner\n"
      "      - SELECT id FROM cr_nokey WHERE v = bucket.owner\n"
      "      - SELECT id FROM cr_unpublished WHERE id = bucket.owner\n"
      "      - SELECT id, nope FROM cr_cols WHERE a = bucket.owner\n"
      "      - SELECT id FROM cr_elsewhere WHERE id = bucket.owner\n";
  std::vector<RulesProblem> found = problems(yaml, "cr_pub");
  const std::string text = all(found);
  EXPECT_EQ(found.size(), 6u) << text;
  EXPECT_TRUE(contains(text, "cr_elsewhere: table cr_elsewhere does not exist on the source "
                             "(there is cr_other.cr_elsewhere; name the schema in the rules)"))
      << text;
  EXPECT_TRUE(contains(text, "cr_cols: rules for table 'cr_cols' name column 'nope'"))
      << text;
  EXPECT_TRUE(contains(text, "cr_items: publication \"cr_pub\" publishes only column(s) id, "
                             "owner, score of cr_items; the rules also read secret"))
      << text;
  EXPECT_TRUE(contains(text, "cr_items: publication \"cr_pub\" publishes only part of table "
                             "cr_items (row filter WHERE (score > 5); column list id, owner, "
                             "score): walsim copies whole tables"))
      << text;
  EXPECT_TRUE(contains(text, "cr_nokey: table 'cr_nokey' has no replica identity")) << text;
  EXPECT_TRUE(contains(text, "cr_unpublished: publication \"cr_pub\" does not publish table "
                             "cr_unpublished (ALTER PUBLICATION cr_pub ADD TABLE "
                             "cr_unpublished)"))
      << text;
}

TEST_F(CheckRulesTest, AMissingPublicationIsNamedOnceAndTablesStillChecked) {
  sql("CREATE TABLE cr_nopub (id int PRIMARY KEY)");
  std::vector<RulesProblem> found =
      problems("bucket_definitions:\n  b:\n    data:\n      - SELECT id, gone FROM cr_nopub\n",
               "cr_no_such_pub");
  ASSERT_EQ(found.size(), 2u) << all(found);
  EXPECT_EQ(found[0], (RulesProblem{"", "publication \"cr_no_such_pub\" does not exist (CREATE "
                                        "PUBLICATION cr_no_such_pub FOR TABLE ...)"}));
  EXPECT_TRUE(contains(found[1].message, "'gone', which the table lacks")) << all(found);
}

TEST_F(CheckRulesTest, APublicationThatLeavesOutChangesIsAProblem) {
  sql("CREATE TABLE cr_inserts (id int PRIMARY KEY);"
      "CREATE PUBLICATION cr_inserts_pub FOR TABLE cr_inserts WITH (publish = 'insert')");
  std::vector<RulesProblem> found = problems(
      "bucket_definitions:\n  b:\n    data:\n      - SELECT id FROM cr_inserts\n", "cr_inserts_pub");
  ASSERT_EQ(found.size(), 1u) << all(found);
  EXPECT_EQ(found[0].table, "");
  EXPECT_TRUE(contains(found[0].message, "publication \"cr_inserts_pub\" does not publish update, "
                                         "delete, truncate"))
      << all(found);
}

TEST_F(CheckRulesTest, CommandExitsNonZeroAndPrintsEachProblem) {
  sql("CREATE TABLE cr_cli (id int PRIMARY KEY, owner text);"
      "CREATE PUBLICATION cr_cli_pub FOR TABLE cr_cli");
  const std::string good = write_file(
      "good.yaml", "bucket_definitions:\n  b:\n    data:\n      - SELECT id FROM cr_cli WHERE "
                   "owner = bucket.owner\n");
  WalsimRun ok = run_walsim({"check-rules", "--rules", good, "--source", server_->conninfo(),
                             "--publication", "cr_cli_pub"},
                            temp_dir_);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(contains(ok.out, "fits the source")) << ok.out;

  const std::string bad = write_file(
      "bad.yaml", "bucket_definitions:\n  b:\n    data:\n      - SELECT id, title FROM cr_cli\n"
                  "      - SELECT id FROM cr_cli_absent\n");
  WalsimRun failed = run_walsim({"check-rules", "--rules", bad, "--source", server_->conninfo(),
                                 "--publication", "cr_cli_pub"},
                                temp_dir_);
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_TRUE(contains(failed.err, "does not fit the source (2 problem(s)):")) << failed.err;
  EXPECT_TRUE(contains(failed.err, "  cr_cli: rules for table 'cr_cli' name column 'title'"))
      << failed.err;
  EXPECT_TRUE(contains(failed.err, "  cr_cli_absent: table cr_cli_absent does not exist"))
      << failed.err;

  // Without --source nothing but the file is checked.
  WalsimRun offline = run_walsim({"check-rules", "--rules", bad}, temp_dir_);
  EXPECT_EQ(offline.exit_code, 0) << offline.err;

  WalsimRun unreachable = run_walsim(
      {"check-rules", "--rules", good, "--source", "host=/nonexistent dbname=x"}, temp_dir_);
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_TRUE(contains(unreachable.err, "walsim check-rules: ")) << unreachable.err;
}

}  // namespace
}  // namespace walsim::live::testing
