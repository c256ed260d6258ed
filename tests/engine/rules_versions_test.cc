// Rules versions in the store (issue 11, engine/rules_versions.h): a new
// store records its rules as version 1, active, with their text; a format
// 5 store is upgraded with its definitions as version 1; every checkpoint
// names the version it belongs to (a format 5 store goes on to format 7,
// compaction's, in the same upgrade); and the plan of a deploy
// (engine/rules_plan.h) sorts definitions by fingerprint and copies only
// the tables new and changed ones read, sized from the store.
#include "engine/rules_versions.h"

#include <gtest/gtest.h>

#include "engine/rules_plan.h"
#include "engine/storage_schema.h"
#include "tests/engine/store_fixture.h"

namespace walsim {
namespace {

BucketRules rules(const std::string& yaml) {
  auto parsed = BucketRules::parse(yaml);
  EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  return std::move(*parsed);
}

class RulesVersionsTest : public StoreFixture {
 protected:
  std::vector<RulesVersion> versions() {
    auto read = storage_->rules_versions();
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    return read.is_ok() ? std::move(*read) : std::vector<RulesVersion>();
  }
  CheckpointVersions checkpoint_versions() {
    auto read = storage_->checkpoint_versions();
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    return read.is_ok() ? *read : CheckpointVersions{};
  }
  // A store of this build turned into what a format 5 build wrote (its op
  // log first back to format 6's).
  void downgrade_to_format_5() {
    downgrade_op_log_to_format_6();
    ASSERT_TRUE(db_->exec(R"sql(
      DROP TABLE rules_versions;
      CREATE TABLE old_definitions (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
                                    normalized TEXT NOT NULL);
      INSERT INTO old_definitions SELECT name, fingerprint, normalized FROM bucket_definitions;
      DROP TABLE bucket_definitions;
      ALTER TABLE old_definitions RENAME TO bucket_definitions;
      ALTER TABLE replication_state DROP COLUMN checkpoint_version;
      ALTER TABLE replication_state DROP COLUMN published_version;
      UPDATE walsim_meta SET value = '5' WHERE key = 'version';
    )sql").is_ok());
  }
};

TEST_F(RulesVersionsTest, ANewStoreServesItsRulesAsVersionOneActive) {
  const std::vector<RulesVersion> stored = versions();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id, 1);
  EXPECT_EQ(stored[0].state, VersionState::kActive);
  EXPECT_EQ(stored[0].rules_text, std::optional<std::string>(kRules));
  EXPECT_EQ(stored[0].definitions, fingerprint_definitions(rules_));
  EXPECT_EQ(stored[0].created_lsn, std::nullopt);
  // A restart with the same rules records nothing new.
  restart();
  EXPECT_EQ(versions().size(), 1u);
}

TEST_F(RulesVersionsTest, ACheckpointBelongsToTheVersionActiveWhenItWasCreated) {
  EXPECT_EQ(checkpoint_versions(), (CheckpointVersions{std::nullopt, std::nullopt}));
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "1/1");
  EXPECT_EQ(checkpoint_versions(), (CheckpointVersions{1, std::nullopt}));  // created, not durable
  ASSERT_EQ(checkpoint(), (Checkpoint{1, lsn("1/1")}));  // make_durable publishes
  EXPECT_EQ(checkpoint_versions(), (CheckpointVersions{1, 1}));
}

TEST_F(RulesVersionsTest, AFormat5StoreKeepsItsDefinitionsAsVersionOne) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "1/1");
  ASSERT_EQ(checkpoint(), (Checkpoint{1, lsn("1/1")}));
  storage_.reset();
  downgrade_to_format_5();
  // A reader refuses it; a writer upgrades it.
  EXPECT_EQ(check_store_schema(*db_).code(), ErrorCode::kInvalidArgument);
  restart();
  ASSERT_TRUE(check_store_schema(*db_).is_ok());
  const std::vector<RulesVersion> stored = versions();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id, 1);
  EXPECT_EQ(stored[0].state, VersionState::kActive);
  EXPECT_EQ(stored[0].rules_text, std::nullopt);  // format 5 kept no text
  EXPECT_EQ(stored[0].definitions, fingerprint_definitions(rules_));
  EXPECT_EQ(checkpoint_versions(), (CheckpointVersions{1, 1}));
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("1/1")}));
  // The same transaction went on to format 7 (compaction): once the row is
  // updated, its first PUT is superseded and the op log takes the MOVE
  // compaction leaves in its place (which format 6's CHECK refused).
  auto update = storage_->stream_batch();
  update->update(todos(), std::nullopt, todo("1", "a", "t2"));
  commit(*update, "2/1");
  ASSERT_EQ(checkpoint(), (Checkpoint{2, lsn("2/1")}));
  auto compacted = storage_->compact(std::nullopt);
  ASSERT_TRUE(compacted.is_ok()) << compacted.status().to_string();
  EXPECT_EQ(compacted->ops_moved, 1);
  EXPECT_EQ(ops().front(), "MOVE by_owner[\"a\"] [\"1\"]");
}

TEST_F(RulesVersionsTest, TheStoreKeepsOneActiveVersionWhateverTheCode) {
  // The partial unique index: a second active (or building) version is
  // refused by SQLite itself.
  EXPECT_FALSE(db_->exec("INSERT INTO rules_versions (id, state) VALUES (2, 'active')").is_ok());
  ASSERT_TRUE(db_->exec("INSERT INTO rules_versions (id, state) VALUES (2, 'building')").is_ok());
  EXPECT_FALSE(db_->exec("INSERT INTO rules_versions (id, state) VALUES (3, 'building')").is_ok());
  ASSERT_TRUE(db_->exec("INSERT INTO rules_versions (id, state) VALUES (3, 'retired'),"
                        " (4, 'retired')").is_ok());
  EXPECT_EQ(versions().size(), 4u);
}

constexpr const char* kTwoTables = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title, body FROM todos WHERE owner = bucket.owner
  titles:
    data:
      - SELECT id, title FROM todos
  lists:
    data:
      - SELECT id FROM lists
)";

TEST(RulesPlan, CopiesOnlyTheTablesNewAndChangedDefinitionsRead) {
  const BucketRules active = rules(kTwoTables);
  const BucketRules next = rules(R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title, body FROM todos WHERE owner = bucket.owner
  lists:
    data:
      - SELECT id, name FROM lists
  tags:
    data:
      - SELECT id FROM tags
)");
  const DeployPlan plan = plan_deploy(3, fingerprint_definitions(active), next,
                                      {{"todos", 10}, {"lists", 4}});
  EXPECT_EQ(plan.from_version, 3);
  EXPECT_EQ(plan.change.added, std::vector<std::string>({"tags"}));
  EXPECT_EQ(plan.change.changed, std::vector<std::string>({"lists"}));
  EXPECT_EQ(plan.change.removed, std::vector<std::string>({"titles"}));
  EXPECT_EQ(plan.change.unchanged, std::vector<std::string>({"by_owner"}));
  // todos is read only by an unchanged definition: not copied.
  EXPECT_EQ(plan.copies, (std::vector<TableCopy>{{"lists", 4}, {"tags", std::nullopt}}));
  EXPECT_FALSE(plan.empty());
  const DeployPlan same = plan_deploy(3, fingerprint_definitions(active), active, {});
  EXPECT_TRUE(same.empty());
  EXPECT_TRUE(same.copies.empty());
  EXPECT_EQ(same.change.unchanged.size(), 3u);
}

TEST_F(RulesVersionsTest, APlanIsSizedFromTheStoreAndWritesNothing) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->insert(todos(), todo("2", "b", "t"));
  batch->insert(todos(), todo("3", "b", "t"));
  batch->remove(todos(), key("3"));
  commit(*batch, "1/1");
  const std::vector<std::string> ops_before = ops();
  auto plan = storage_->plan_deploy(rules(kTwoTables));
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  EXPECT_EQ(plan->change.added, std::vector<std::string>({"lists", "titles"}));
  EXPECT_EQ(plan->change.unchanged, std::vector<std::string>({"by_owner"}));
  EXPECT_EQ(plan->copies, (std::vector<TableCopy>{{"lists", std::nullopt}, {"todos", 2}}));
  EXPECT_EQ(ops(), ops_before);
  EXPECT_EQ(versions().size(), 1u);
}

}  // namespace
}  // namespace walsim
