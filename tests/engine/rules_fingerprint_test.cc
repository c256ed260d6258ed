// Rules fingerprints (engine/rules_fingerprint.h): what counts as a change
// of a bucket definition, and the refusal a store built with other rules
// gives at open.
#include "engine/rules_fingerprint.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/bucket_storage.h"
#include "engine/rules_versions.h"

namespace walsim {
namespace {

BucketRules rules(const std::string& yaml) {
  auto parsed = BucketRules::parse(yaml);
  EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  return std::move(*parsed);
}

constexpr const char* kRules = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner AND title IS NOT NULL
      - SELECT * FROM lists WHERE owner_id = bucket.owner
  everything:
    data:
      - SELECT id, name AS label FROM lists
)";

// The same definitions: other whitespace, definition order, query order,
// filter order and keyword case.
constexpr const char* kRulesRespelled = R"(bucket_definitions:
  everything:
    data:
      - select   id,  name as label   from lists
  by_owner:
    data:
      - SELECT * FROM lists WHERE owner_id = bucket.owner
      - SELECT id, title FROM todos WHERE title IS NOT NULL AND owner = bucket.owner
)";

TEST(RulesFingerprint, WhitespaceAndOrderDoNotCount) {
  EXPECT_EQ(fingerprint_definitions(rules(kRules)), fingerprint_definitions(rules(kRulesRespelled)));
}

TEST(RulesFingerprint, ColumnsParametersAndTablesCount) {
  const auto base = fingerprint_definitions(rules(kRules));
  ASSERT_EQ(base.size(), 2u);
  const auto renamed = fingerprint_definitions(rules(R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner AND title IS NOT NULL
      - SELECT * FROM lists WHERE owner_id = bucket.owner
  everything:
    data:
      - SELECT id, name AS title FROM lists
)"));
  const auto one_table_less = fingerprint_definitions(rules(R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner AND title IS NOT NULL
  other:
    data:
      - SELECT id, name AS label FROM lists
)"));
  RulesChange change = compare_definitions(base, renamed);
  EXPECT_EQ(change.changed, std::vector<std::string>({"everything"}));
  EXPECT_TRUE(change.added.empty() && change.removed.empty());
  change = compare_definitions(base, one_table_less);
  EXPECT_EQ(change.added, std::vector<std::string>({"other"}));
  EXPECT_EQ(change.changed, std::vector<std::string>({"by_owner"}));
  EXPECT_EQ(change.removed, std::vector<std::string>({"everything"}));
}

TEST(RulesFingerprint, AStoreBuiltWithOtherRulesIsRefusedSayingWhatChanged) {
  auto db = SqliteDb::open(":memory:");
  ASSERT_TRUE(db.is_ok());
  const BucketRules built = rules(kRules);
  ASSERT_TRUE(BucketStorage::open(**db, built, {.op_ids_reserved_ahead = 0}).is_ok());
  const BucketRules respelled = rules(kRulesRespelled);
  EXPECT_TRUE(BucketStorage::open(**db, respelled, {.op_ids_reserved_ahead = 0}).is_ok());
  const BucketRules edited = rules(R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner
      - SELECT * FROM lists WHERE owner_id = bucket.owner
  added:
    data:
      - SELECT id FROM todos
)");
  auto refused = BucketStorage::open(**db, edited, {.op_ids_reserved_ahead = 0});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "store ':memory:' was built with other bucket rules (new definitions: added;"
            " changed: by_owner; removed: everything); a store serves the rules it was built"
            " with: start a new store (another --store) for these rules, or run with the rules"
            " this store was built with");
  // A reader (no definitions, as `walsim inspect` opens it) is not refused.
  static const BucketRules kReader;
  EXPECT_TRUE(BucketStorage::open(**db, kReader, {.op_ids_reserved_ahead = 0}).is_ok());
  // The refusal wrote nothing: the store still serves the rules it was built with.
  auto stored = read_definitions(**db);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_EQ(*stored, fingerprint_definitions(built));
}

// A format 3 store (before fingerprints) is upgraded and adopts the rules
// of its first start; from then on they are checked.
TEST(RulesFingerprint, AFormat3StoreAdoptsTheRulesOfItsFirstStart) {
  auto db = SqliteDb::open(":memory:");
  ASSERT_TRUE(db.is_ok());
  const BucketRules built = rules(kRules);
  ASSERT_TRUE(BucketStorage::open(**db, built, {.op_ids_reserved_ahead = 0}).is_ok());
  Status dropped = (*db)->exec("DROP TABLE bucket_definitions; DROP TABLE rules_versions;"
                          " ALTER TABLE replication_state DROP COLUMN checkpoint_version;"
                          " ALTER TABLE replication_state DROP COLUMN published_version;"
                          " ALTER TABLE source_tables DROP COLUMN publication_member");
  ASSERT_TRUE(dropped.is_ok()) << dropped.to_string();
  ASSERT_TRUE((*db)->exec("UPDATE walsim_meta SET value = '3' WHERE key = 'version'").is_ok());
  const BucketRules other = rules(kRules + std::string("  more:\n    data:\n      - SELECT id FROM todos\n"));
  ASSERT_TRUE(BucketStorage::open(**db, other, {.op_ids_reserved_ahead = 0}).is_ok());
  auto stored = read_definitions(**db);
  ASSERT_TRUE(stored.is_ok());
  EXPECT_EQ(*stored, fingerprint_definitions(other));
  EXPECT_FALSE(BucketStorage::open(**db, built, {.op_ids_reserved_ahead = 0}).is_ok());
}

}  // namespace
}  // namespace walsim
