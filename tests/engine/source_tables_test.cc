// The table registry reads each table's relation back from its stored JSON
// (engine/source_tables.cc). Decoded relations are remembered by their
// exact text; these tests hold that a read always gives the relation last
// stored, whichever were decoded before and however many.
#include "engine/source_tables.h"

#include <gtest/gtest.h>

#include "tests/engine/store_fixture.h"

namespace walsim {
namespace {

using SourceTablesTest = StoreFixture;

Relation todos_as(uint32_t relid, bool title_is_key) {
  Relation relation = StoreFixture::todos();
  relation.relid = relid;
  for (Column& column : relation.columns) {
    if (column.name == "title") column.is_key = title_is_key;
  }
  return relation;
}

void expect_stored(BucketStorage& storage, const Relation& want) {
  auto state = storage.table("todos");
  ASSERT_TRUE(state.is_ok()) << state.status().to_string();
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->relation, want) << "relid " << want.relid;
}

// More distinct relations than are remembered, then the first ones again:
// each read gives the one just stored, none an older decoding.
TEST_F(SourceTablesTest, EveryReadGivesTheRelationLastStored) {
  std::vector<Relation> versions;
  for (uint32_t i = 0; i < 12; i++) versions.push_back(todos_as(30000 + i, i % 2 == 1));
  for (int round = 0; round < 2; round++) {
    for (const Relation& version : versions) {
      auto changed = storage_->register_table(version);
      ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
      EXPECT_TRUE(*changed) << "a new relid is a new table";
      expect_stored(*storage_, version);
      expect_stored(*storage_, version);  // a second read: the remembered one
    }
  }
}

// The same relation stored again is the same table: no new copy.
TEST_F(SourceTablesTest, ARelationStoredAgainIsUnchanged) {
  const Relation relation = todos_as(30100, false);
  ASSERT_TRUE(storage_->register_table(relation).is_ok());
  auto again = storage_->register_table(relation);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again);
  expect_stored(*storage_, relation);
}

}  // namespace
}  // namespace walsim
