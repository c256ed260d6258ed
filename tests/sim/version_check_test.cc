// sim/version_check.h: on every generated rules edit, the store's deploy
// plan agrees with the simulator's own model of the edit, and the check
// names a disagreement (it can fail).
#include "sim/version_check.h"

#include <gtest/gtest.h>

#include "engine/sqlite_db.h"

namespace walsim::sim {
namespace {

Relation table(const std::string& name, uint32_t relid) {
  Relation relation;
  relation.relid = relid;
  relation.name = name;
  relation.columns = {{"id", 25, true}, {"owner", 25, false}, {"title", 25, false}};
  return relation;
}

BucketRules parse(const RulesSpec& spec) {
  auto rules = BucketRules::parse(rules_yaml(spec));
  EXPECT_TRUE(rules.is_ok()) << rules.status().to_string();
  return std::move(*rules);
}

TEST(VersionCheck, TheStoresPlanIsTheModelsForEveryGeneratedEdit) {
  const std::vector<Relation> tables = {table("t0", 1), table("t1", 2), table("t2", 3)};
  int planned_copies = 0;
  for (uint64_t seed = 1; seed <= 100; seed++) {
    SCOPED_TRACE(seed);
    Prng prng(seed);
    const RulesSpec spec = draw_rules(tables, prng);
    const BucketRules rules = parse(spec);
    auto db = SqliteDb::open(":memory:");
    ASSERT_TRUE(db.is_ok());
    auto storage = BucketStorage::open(**db, rules, {.op_ids_reserved_ahead = 0});
    ASSERT_TRUE(storage.is_ok()) << storage.status().to_string();
    ASSERT_TRUE((*storage)->register_table(tables[0]).is_ok());
    const RulesEdit edit = edit_rules(spec, prng);
    const BucketRules edited = parse(edit.spec);
    static const BucketRules kReader;
    auto reader = BucketStorage::open(**db, kReader, {.op_ids_reserved_ahead = 0});
    ASSERT_TRUE(reader.is_ok());
    auto violation = check_versions_after_refused_edit(**reader, rules, spec, edit, edited);
    EXPECT_FALSE(violation.has_value()) << violation->invariant << ": " << violation->detail;
    planned_copies += static_cast<int>((*reader)->plan_deploy(edited)->copies.size());
  }
  EXPECT_GT(planned_copies, 0) << "some edit must copy a table";
}

TEST(VersionCheck, AWrongPlanIsNamed) {
  const std::vector<Relation> tables = {table("t0", 1), table("t1", 2)};
  Prng prng(7);
  const RulesSpec spec = draw_rules(tables, prng);
  const BucketRules rules = parse(spec);
  auto db = SqliteDb::open(":memory:");
  ASSERT_TRUE(db.is_ok());
  auto storage = BucketStorage::open(**db, rules, {.op_ids_reserved_ahead = 0});
  ASSERT_TRUE(storage.is_ok());
  RulesEdit edit = edit_rules(spec, prng);
  const BucketRules edited = parse(edit.spec);
  // The model claims a definition changed that the edit left alone.
  edit.changed.push_back("not_a_definition");
  auto violation = check_versions_after_refused_edit(**storage, rules, spec, edit, edited);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "deploy_plan_wrong");
  // A store that served other rules is named too.
  Prng other_prng(8);
  const RulesSpec other = draw_rules({table("u0", 9)}, other_prng);
  violation = check_versions_after_refused_edit(**storage, parse(other), other,
                                                edit_rules(other, other_prng), edited);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "rules_version_changed");
}

}  // namespace
}  // namespace walsim::sim
