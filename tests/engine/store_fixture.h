// StoreFixture: an in-memory bucket store with a `todos` table and a
// by_owner bucket definition, plus helpers that print ops so tests can
// assert exact op lists.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"

namespace walsim {

inline Lsn lsn(const char* text) { return *Lsn::parse(text); }

class StoreFixture : public ::testing::Test {
 public:
  static Relation todos();
  // Row of todos with text values.
  static Row todo(const std::string& id, const std::string& owner, const std::string& title,
                  const std::string& body = "b");
  // A delete's key tuple: id set, the other columns null.
  static Row key(const std::string& id);

 protected:
  static constexpr const char* kRules = R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title, body FROM todos WHERE owner = bucket.owner
)";

  void SetUp() override;

  // A new BucketStorage over the same database: what a restarted engine
  // sees. Batches made before it are dropped with everything they buffered.
  void restart();

  // Registers `todos` and marks every snapshot done at 0/0, as after an
  // initial copy of an empty table.
  void activate();

  // Turns the op log back into what a format 6 build wrote (op CHECK
  // without MOVE and CLEAR) and marks the store version 6; a test of an
  // older format goes on from there.
  void downgrade_op_log_to_format_6();

  // Every op in the store, in op id order: "PUT by_owner["a"] ["1"] {...}".
  std::vector<std::string> ops();
  // The rows of a bucket up to the current checkpoint, as data JSON.
  std::vector<std::string> bucket_rows(const std::string& bucket);
  // Makes the store durable (which publishes the newest checkpoint the
  // rules created), then reads the published checkpoint; op_id -1: none.
  Checkpoint checkpoint();
  ReplicationState state();
  CommitResult commit(WriteBatch& batch, const char* at, bool empty_checkpoints = true);

  std::unique_ptr<SqliteDb> db_;
  BucketRules rules_;
  std::unique_ptr<BucketStorage> storage_;
  // No op id reservation (the store is in memory, no power loss reaches
  // it): a restart skips no ids, so tests can name them.
  BucketStorage::Options options_{.op_ids_reserved_ahead = 0};
};

}  // namespace walsim
