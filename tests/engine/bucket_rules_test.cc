#include "engine/bucket_rules.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace walsim {
namespace {

Relation table(std::string name, std::vector<std::string> columns) {
  Relation relation;
  relation.relid = 1;
  relation.name = std::move(name);
  for (std::string& column : columns)
    relation.columns.push_back({std::move(column)});
  return relation;
}

Row row(std::vector<std::optional<std::string>> values) {
  Row result;
  for (auto& value : values) {
    result.push_back(value ? Value::of(std::move(*value)) : Value::null());
  }
  return result;
}

BucketRules parse_ok(const std::string& yaml) {
  auto rules = BucketRules::parse(yaml);
  EXPECT_TRUE(rules.is_ok()) << rules.status().to_string();
  return rules.is_ok() ? std::move(rules).value() : BucketRules();
}

TableRules rules_for(const BucketRules& rules, const Relation& relation) {
  auto table_rules = rules.for_table(relation);
  EXPECT_TRUE(table_rules.is_ok()) << table_rules.status().to_string();
  return table_rules.is_ok() ? std::move(table_rules).value() : TableRules();
}

// One query per definition, so each test states only what it is about.
std::string single_query(const std::string& sql) {
  return "bucket_definitions:\n  b:\n    data:\n      - " + sql + "\n";
}

const char kByOwner[] = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner
      - SELECT * FROM lists WHERE owner_id = bucket.owner
  everything:
    data:
      - SELECT id, name AS label FROM lists
)";

TEST(BucketRulesTest, ByOwnerExample) {
  BucketRules rules = parse_ok(kByOwner);
  TableRules todos = rules_for(rules, table("todos", {"id", "title", "owner"}));
  EXPECT_EQ(todos.evaluate(row({"1", "buy milk", "alice"})),
            (std::vector<BucketRow>{
                {R"(by_owner["alice"])", R"({"id":"1","title":"buy milk"})"}}));

  TableRules lists =
      rules_for(rules, table("lists", {"id", "name", "owner_id"}));
  EXPECT_EQ(lists.evaluate(row({"7", "groceries", "bob"})),
            (std::vector<BucketRow>{
                {R"(by_owner["bob"])",
                 R"({"id":"7","name":"groceries","owner_id":"bob"})"},
                {"everything[]", R"({"id":"7","label":"groceries"})"}}));
}

TEST(BucketRulesTest, SelectStarFollowsColumnOrder) {
  BucketRules rules = parse_ok(single_query("SELECT * FROM t"));
  TableRules t = rules_for(rules, table("t", {"z", "a", "m"}));
  EXPECT_EQ(t.evaluate(row({"1", std::nullopt, "3"})),
            (std::vector<BucketRow>{{"b[]", R"({"z":"1","a":null,"m":"3"})"}}));
}

TEST(BucketRulesTest, AliasRenamesOutputAndKeepsSelectOrder) {
  BucketRules rules =
      parse_ok(single_query("select title AS name, id as \"Key\" from t;"));
  TableRules t = rules_for(rules, table("t", {"id", "title"}));
  EXPECT_EQ(t.evaluate(row({"5", "x"})),
            (std::vector<BucketRow>{{"b[]", R"({"name":"x","Key":"5"})"}}));
}

TEST(BucketRulesTest, TableInSeveralDefinitions) {
  BucketRules rules = parse_ok(R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id FROM todos WHERE owner = bucket.owner
  by_list:
    data:
      - SELECT id, title FROM public.todos WHERE list_id = bucket.list
  all_todos:
    data:
      - SELECT title FROM todos
)");
  TableRules todos =
      rules_for(rules, table("todos", {"id", "title", "owner", "list_id"}));
  EXPECT_EQ(
      todos.evaluate(row({"1", "t", "al", "9"})),
      (std::vector<BucketRow>{{R"(by_owner["al"])", R"({"id":"1"})"},
                              {R"(by_list["9"])", R"({"id":"1","title":"t"})"},
                              {"all_todos[]", R"({"title":"t"})"}}));
}

TEST(BucketRulesTest, TwoParametersFollowFirstQueryOrder) {
  BucketRules rules = parse_ok(R"(bucket_definitions:
  by_org_user:
    data:
      - SELECT id FROM a WHERE user_id = bucket.user AND bucket.org = org_id
      - SELECT id FROM b WHERE org = bucket.org AND usr = bucket.user
)");
  TableRules a = rules_for(rules, table("a", {"id", "org_id", "user_id"}));
  EXPECT_EQ(a.evaluate(row({"1", "acme", "u1"})),
            (std::vector<BucketRow>{
                {R"(by_org_user["u1","acme"])", R"({"id":"1"})"}}));
  // The second query names its parameters the other way round; the bucket id
  // still lists them in the first query's order.
  TableRules b = rules_for(rules, table("b", {"id", "usr", "org"}));
  EXPECT_EQ(b.evaluate(row({"2", "u1", "acme"})),
            (std::vector<BucketRow>{
                {R"(by_org_user["u1","acme"])", R"({"id":"2"})"}}));
}

TEST(BucketRulesTest, GlobalBucketHasNoParameters) {
  BucketRules rules = parse_ok(single_query("SELECT id FROM t"));
  TableRules t = rules_for(rules, table("t", {"id"}));
  EXPECT_EQ(t.evaluate(row({std::nullopt})),
            (std::vector<BucketRow>{{"b[]", R"({"id":null})"}}));
}

TEST(BucketRulesTest, NullOrUnchangedToastParameterMeansNoBucket) {
  BucketRules rules =
      parse_ok(single_query("SELECT id FROM t WHERE o = bucket.o"));
  TableRules t = rules_for(rules, table("t", {"id", "o"}));
  EXPECT_EQ(t.evaluate(row({"1", std::nullopt})), std::vector<BucketRow>{});
  EXPECT_EQ(t.evaluate(Row{Value::of("1"), Value::unchanged_toast()}),
            std::vector<BucketRow>{});
  EXPECT_EQ(t.evaluate(row({"1", ""})),
            (std::vector<BucketRow>{{R"(b[""])", R"({"id":"1"})"}}));
}

TEST(BucketRulesTest, LiteralFilter) {
  BucketRules rules = parse_ok(single_query(
      "SELECT id FROM t WHERE status = 'it''s open' AND o = bucket.o"));
  TableRules t = rules_for(rules, table("t", {"id", "status", "o"}));
  EXPECT_EQ(t.evaluate(row({"1", "it's open", "x"})),
            (std::vector<BucketRow>{{R"(b["x"])", R"({"id":"1"})"}}));
  EXPECT_EQ(t.evaluate(row({"2", "closed", "x"})), std::vector<BucketRow>{});
  EXPECT_EQ(t.evaluate(row({"3", std::nullopt, "x"})),
            std::vector<BucketRow>{});

  // The literal may come first too.
  TableRules reversed = rules_for(
      parse_ok(single_query("SELECT id FROM t WHERE 'open' = status")),
      table("t", {"id", "status"}));
  EXPECT_EQ(reversed.evaluate(row({"4", "open"})),
            (std::vector<BucketRow>{{"b[]", R"({"id":"4"})"}}));
}

TEST(BucketRulesTest, IsNullAndIsNotNullFilters) {
  BucketRules rules = parse_ok(R"(bucket_definitions:
  live:
    data:
      - SELECT id FROM t WHERE deleted_at IS NULL
  gone:
    data:
      - SELECT id FROM t WHERE deleted_at is not null
)");
  TableRules t = rules_for(rules, table("t", {"id", "deleted_at"}));
  EXPECT_EQ(t.evaluate(row({"1", std::nullopt})),
            (std::vector<BucketRow>{{"live[]", R"({"id":"1"})"}}));
  EXPECT_EQ(t.evaluate(row({"2", "2024-01-01"})),
            (std::vector<BucketRow>{{"gone[]", R"({"id":"2"})"}}));
}

TEST(BucketRulesTest, EscapesJsonInValuesAndBucketIds) {
  BucketRules rules =
      parse_ok(single_query("SELECT v FROM t WHERE o = bucket.o"));
  TableRules t = rules_for(rules, table("t", {"v", "o"}));
  EXPECT_EQ(t.evaluate(row({"say \"hi\"\\\n\t\x01", "a\"b\\c\nd"})),
            (std::vector<BucketRow>{
                {R"(b["a\"b\\c\nd"])", R"({"v":"say \"hi\"\\\n\t\u0001"})"}}));
}

TEST(BucketRulesTest, SameBucketFromTwoQueriesIsKeptOnce) {
  BucketRules rules = parse_ok(R"(bucket_definitions:
  b:
    data:
      - SELECT id FROM t WHERE o = bucket.o
      - SELECT id, x FROM t WHERE x = bucket.o
)");
  TableRules t = rules_for(rules, table("t", {"id", "o", "x"}));
  EXPECT_EQ(t.evaluate(row({"1", "k", "k"})),
            (std::vector<BucketRow>{{R"(b["k"])", R"({"id":"1"})"}}));
  EXPECT_EQ(t.evaluate(row({"1", "k", "j"})),
            (std::vector<BucketRow>{{R"(b["k"])", R"({"id":"1"})"},
                                    {R"(b["j"])", R"({"id":"1","x":"j"})"}}));
}

TEST(BucketRulesTest, TablesAreSortedAndUnique) {
  BucketRules rules = parse_ok(kByOwner);
  EXPECT_EQ(rules.tables(), (std::vector<std::string>{"lists", "todos"}));
}

TEST(BucketRulesTest, TableNotInRulesIsInNoBucket) {
  BucketRules rules = parse_ok(kByOwner);
  TableRules other = rules_for(rules, table("other", {"id"}));
  EXPECT_EQ(other.evaluate(row({"1"})), std::vector<BucketRow>{});
}

TEST(BucketRulesTest, ForTableRejectsMissingColumn) {
  BucketRules rules = parse_ok(kByOwner);
  auto result = rules.for_table(table("todos", {"id", "title", "ownr"}));
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      result.status().message(),
      "rules for table 'todos' name column 'owner', which the table lacks");
}

struct ParseErrorCase {
  const char* name;
  std::string yaml;
  int line;
  std::string problem;  // a substring of the message
};

std::ostream& operator<<(std::ostream& out, const ParseErrorCase& c) {
  return out << c.name;
}

class ParseErrorTest : public testing::TestWithParam<ParseErrorCase> {};

TEST_P(ParseErrorTest, NamesLineAndProblem) {
  const ParseErrorCase& c = GetParam();
  auto rules = BucketRules::parse(c.yaml);
  ASSERT_FALSE(rules.is_ok());
  EXPECT_EQ(rules.status().code(), ErrorCode::kInvalidArgument);
  const std::string& message = rules.status().message();
  const std::string prefix = "rules line " + std::to_string(c.line) + ": ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  EXPECT_NE(message.find(c.problem), std::string::npos) << message;
}

const char kHead[] = "bucket_definitions:\n  by_owner:\n    data:\n";

INSTANTIATE_TEST_SUITE_P(
    All, ParseErrorTest,
    testing::Values(
        ParseErrorCase{
            "YamlSyntax",
            std::string(kHead) + "      - SELECT id FROM t\n    - x\n", 5,
            "YAML syntax error: end of map not found"},
        ParseErrorCase{"Empty", "# nothing here\n", 1, "empty rules"},
        ParseErrorCase{"MissingBucketDefinitions",
                       "# rules\nbuckets:\n  a:\n    data: []\n", 2,
                       "missing bucket_definitions"},
        ParseErrorCase{"EmptyBucketDefinitions", "\nbucket_definitions: {}\n",
                       2, "bucket_definitions is empty"},
        ParseErrorCase{
            "UnknownTopLevelKey",
            std::string(kHead) + "      - SELECT id FROM t\nextra: 1\n", 5,
            "unknown top-level key 'extra'"},
        ParseErrorCase{
            "DefinitionNotMap",
            "bucket_definitions:\n  by_owner:\n    - SELECT id FROM t\n", 3,
            "bucket definition by_owner must be a map"},
        ParseErrorCase{
            "DefinitionNameNotIdentifier",
            "bucket_definitions:\n  by-owner:\n    data: [SELECT id FROM t]\n",
            2, "bucket definition name 'by-owner' is not an identifier"},
        ParseErrorCase{
            "DataMissing",
            "bucket_definitions:\n  a:\n    data: [SELECT id FROM t]\n"
            "  by_owner: {}\n",
            4, "bucket definition by_owner lacks data:"},
        ParseErrorCase{
            "DataNotList",
            "bucket_definitions:\n  by_owner:\n    data: SELECT id FROM t\n", 3,
            "data of by_owner must be a list of queries"},
        ParseErrorCase{
            "DataEntryNotString",
            std::string(kHead) + "      - SELECT id FROM t\n      - [x]\n", 5,
            "data entry 2 of by_owner must be an SQL string"},
        ParseErrorCase{
            "BadSqlOnLine5",
            std::string(kHead) +
                "      - SELECT id FROM todos WHERE owner = bucket.owner\n"
                "      - SELECT id WHERE owner = bucket.owner\n",
            5, "query in by_owner: expected FROM, found 'WHERE'"},
        ParseErrorCase{
            "UnknownKeyword",
            std::string(kHead) + "      - SELECT id FROM t ORDER BY id\n", 4,
            "unknown keyword 'ORDER', expected WHERE or end of query"},
        ParseErrorCase{
            "UnknownKeywordAfterCondition",
            std::string(kHead) +
                "      - SELECT id FROM t WHERE a = 'x' OR b = 'y'\n",
            4, "unknown keyword 'OR', expected AND or end of query"},
        ParseErrorCase{"NotSelect",
                       std::string(kHead) + "      - DELETE FROM t\n", 4,
                       "expected SELECT, found 'DELETE'"},
        ParseErrorCase{
            "UnterminatedString",
            std::string(kHead) + "      - SELECT id FROM t WHERE a = 'x\n", 4,
            "unterminated string literal"},
        ParseErrorCase{
            "MismatchedParameters",
            std::string(kHead) +
                "      - SELECT id FROM todos WHERE owner = bucket.owner\n"
                "      - SELECT id FROM lists WHERE owner = bucket.ownr\n",
            5,
            "unknown bucket parameter 'bucket.ownr' in by_owner: its "
            "first query binds bucket.owner"},
        ParseErrorCase{
            "MissingParameter",
            std::string(kHead) +
                "      - SELECT id FROM todos WHERE owner = bucket.owner\n"
                "      - SELECT id FROM lists\n",
            5,
            "query in by_owner does not bind bucket.owner, which its "
            "first query binds"},
        ParseErrorCase{
            "BucketParameterOnBothSides",
            std::string(kHead) +
                "      - SELECT id FROM t WHERE bucket.a = bucket.b\n",
            4, "bucket parameters on both sides of bucket.a = bucket.b"},
        ParseErrorCase{
            "DuplicateOutputColumn",
            std::string(kHead) + "      - SELECT id, title AS id FROM t\n", 4,
            "duplicate output column 'id'"},
        ParseErrorCase{
            "UnknownDefinitionKey",
            "bucket_definitions:\n  by_owner:\n    data: [SELECT id FROM t]\n"
            "    parameters: x\n    priority: 1\n",
            4, "unknown key 'parameters', 'priority' in by_owner"}),
    [](const testing::TestParamInfo<ParseErrorCase>& info) {
      return std::string(info.param.name);
    });

TEST(BucketRulesTest, LoadFileNamesMissingPath) {
  auto rules = BucketRules::load_file("/nonexistent/rules.yaml");
  ASSERT_FALSE(rules.is_ok());
  EXPECT_EQ(rules.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(rules.status().message(),
            "cannot read rules file '/nonexistent/rules.yaml': "
            "No such file or directory");
}

TEST(BucketRulesTest, LoadFilePrefixesParseErrorsWithPath) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/bad_rules.yaml";
  std::FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("bucket_definitions:\n  b:\n    data: x\n", file);
  std::fclose(file);
  auto rules = BucketRules::load_file(path);
  ASSERT_FALSE(rules.is_ok());
  EXPECT_EQ(rules.status().message(),
            path + ": rules line 3: data of b must be a list of queries");
}

TEST(BucketRulesTest, RefusesRulesThatAreNotUtf8) {
  // Names and literals reach bucket ids and JSON data, which must be UTF-8.
  std::string rules = single_query("SELECT id AS \"x\x8c\xa0y\" FROM todos");
  auto parsed = BucketRules::parse(rules);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message().rfind("rules line 4: not valid UTF-8 (byte ", 0), 0u)
      << parsed.status().message();
  EXPECT_TRUE(BucketRules::parse(single_query("SELECT id AS \"h\xc3\xa9\" FROM todos")).is_ok())
      << "well-formed UTF-8 (e-acute) is fine";
}

}  // namespace
}  // namespace walsim
