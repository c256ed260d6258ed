// The oracle's own reading of the rules against the engine's, on the rule
// shapes and values the simulator generates. The oracle never calls the
// engine's rules; this test is where the two readings meet, so a
// disagreement shows up here, named, rather than as a failing seed.
#include "sim/rules_model.h"

#include <gtest/gtest.h>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"

namespace walsim::sim {
namespace {

Relation table(const std::string& name, bool full, bool body) {
  Relation relation;
  relation.relid = 16384;
  relation.name = name;
  relation.identity = full ? ReplicaIdentity::kFull : ReplicaIdentity::kDefault;
  relation.columns = {{"id", 25, true}, {"owner", 25, full}, {"title", 25, full}};
  if (body) relation.columns.push_back({"body", 25, full});
  return relation;
}

std::vector<Row> sample_rows(bool body) {
  std::vector<Row> rows;
  const std::vector<Value> owners = {Value::of("o1"), Value::of("o\"2"), Value::null()};
  const std::vector<Value> titles = {Value::of("plain"),       Value::of("\"quoted\""),
                                     Value::of("back\\slash"), Value::of("caf\xC3\xA9"),
                                     Value::of("line\nbreak"), Value::of("tab\there"),
                                     Value::null()};
  int id = 1;
  for (const Value& owner : owners) {
    for (const Value& title : titles) {
      Row row = {Value::of("0000000" + std::to_string(id++ % 10)), owner, title};
      if (body) row.push_back(Value::of("body x"));
      rows.push_back(row);
    }
  }
  return rows;
}

TEST(RulesModel, AgreesWithTheEngineOnEveryGeneratedShape) {
  const std::vector<Relation> tables = {table("t0", false, true), table("t1", true, false),
                                        table("t2", false, true)};
  for (uint64_t seed = 1; seed <= 200; seed++) {
    Prng prng(seed);
    RulesSpec spec = draw_rules(tables, prng);
    const std::string yaml = rules_yaml(spec);
    auto engine_rules = BucketRules::parse(yaml);
    ASSERT_TRUE(engine_rules.is_ok()) << engine_rules.status().to_string() << "\n" << yaml;
    RulesModel model(spec, tables);
    for (size_t t = 0; t < tables.size(); t++) {
      auto engine_table = engine_rules->for_table(tables[t]);
      ASSERT_TRUE(engine_table.is_ok()) << engine_table.status().to_string();
      for (const Row& row : sample_rows(tables[t].columns.size() == 4)) {
        std::vector<BucketRow> engine = engine_table->evaluate(row);
        std::vector<PlacedRow> oracle = model.place(t, row);
        ASSERT_EQ(engine.size(), oracle.size()) << yaml;
        for (size_t i = 0; i < engine.size(); i++) {
          EXPECT_EQ(engine[i].bucket, oracle[i].bucket) << yaml;
          EXPECT_EQ(engine[i].data_json, oracle[i].data_json) << yaml;
        }
        EXPECT_EQ(row_id_of(tables[t].key_of(row)), model.row_id(t, row));
      }
    }
  }
}

TEST(RulesModel, RendersTheShapesItClaims) {
  RulesSpec spec;
  spec.definitions.push_back(
      {"owned",
       {QuerySpec{"t0", false, {{"id", "id"}, {"title", "label"}}, "owner", "who", "title"},
        QuerySpec{"t1", true, {}, "owner", "who", std::nullopt}}});
  spec.definitions.push_back(
      {"all", {QuerySpec{"t0", false, {{"id", "id"}}, std::nullopt, "", std::nullopt}}});
  EXPECT_EQ(rules_yaml(spec),
            "bucket_definitions:\n"
            "  owned:\n"
            "    data:\n"
            "      - SELECT id, title AS label FROM t0 WHERE owner = bucket.who AND title IS NOT NULL\n"
            "      - SELECT * FROM t1 WHERE owner = bucket.who\n"
            "  all:\n"
            "    data:\n"
            "      - SELECT id FROM t0\n");
  RulesModel model(spec, {table("t0", false, false), table("t1", true, false)});
  Row row = {Value::of("00000001"), Value::of("o1"), Value::of("hi")};
  std::vector<PlacedRow> placed = model.place(0, row);
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_EQ(placed[0].bucket, "owned[\"o1\"]");
  EXPECT_EQ(placed[0].data_json, "{\"id\":\"00000001\",\"label\":\"hi\"}");
  EXPECT_EQ(placed[1].bucket, "all[]");
  row[2] = Value::null();  // fails the filter
  EXPECT_EQ(model.place(0, row).size(), 1u);
  EXPECT_EQ(model.row_id(1, row), "[\"00000001\",\"o1\",null]");
}

TEST(RulesModel, JsonStringEscapesTheStandardWay) {
  EXPECT_EQ(json_string("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
}

}  // namespace
}  // namespace walsim::sim
