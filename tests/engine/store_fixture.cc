#include "tests/engine/store_fixture.h"

#include <limits>

namespace walsim {

void StoreFixture::SetUp() {
  auto db = SqliteDb::open(":memory:");
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  db_ = std::move(*db);
  auto rules = BucketRules::parse(kRules);
  ASSERT_TRUE(rules.is_ok()) << rules.status().to_string();
  rules_ = std::move(*rules);
  restart();
}

void StoreFixture::restart() {
  storage_.reset();
  auto storage = BucketStorage::open(*db_, rules_, options_);
  ASSERT_TRUE(storage.is_ok()) << storage.status().to_string();
  storage_ = std::move(*storage);
}

void StoreFixture::activate() {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", Lsn::zero()).is_ok());
  ASSERT_TRUE(storage_->mark_all_snapshot_done(Lsn::zero()).is_ok());
}

Relation StoreFixture::todos() {
  Relation relation;
  relation.relid = 16384;
  relation.name = "todos";
  relation.columns = {{"id", 23, true}, {"owner", 25, false}, {"title", 25, false},
                      {"body", 25, false}};
  return relation;
}

Row StoreFixture::todo(const std::string& id, const std::string& owner, const std::string& title,
                       const std::string& body) {
  return {Value::of(id), Value::of(owner), Value::of(title), Value::of(body)};
}

Row StoreFixture::key(const std::string& id) {
  return {Value::of(id), Value::null(), Value::null(), Value::null()};
}

std::vector<std::string> StoreFixture::ops() {
  auto all = storage_->ops(0, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(all.is_ok()) << all.status().to_string();
  std::vector<std::string> result;
  if (!all.is_ok()) return result;
  for (const StoredOp& op : *all) {
    std::string line = std::string(op_kind_name(op.kind)) + " " + op.bucket + " " + op.row_id;
    if (op.data && !op.data->empty()) line += " " + *op.data;
    result.push_back(line);
  }
  return result;
}

std::vector<std::string> StoreFixture::bucket_rows(const std::string& bucket) {
  auto ops = storage_->bucket_ops(bucket, 0, checkpoint().op_id);
  EXPECT_TRUE(ops.is_ok()) << ops.status().to_string();
  std::vector<std::string> rows;
  for (const auto& [row, op] : reduce_ops(*ops)) {
    if (op.kind == OpKind::kPut) rows.push_back(*op.data);
  }
  return rows;
}

void StoreFixture::downgrade_op_log_to_format_6() {
  const Status rebuilt = db_->exec(R"sql(
    CREATE TABLE old_ops (op_id INTEGER PRIMARY KEY, bucket TEXT NOT NULL,
      op TEXT NOT NULL CHECK (op IN ('PUT', 'REMOVE')), source_table TEXT NOT NULL,
      row_id TEXT NOT NULL, checksum INTEGER NOT NULL, data TEXT);
    INSERT INTO old_ops SELECT * FROM bucket_data;
    DROP TABLE bucket_data;
    ALTER TABLE old_ops RENAME TO bucket_data;
    CREATE INDEX bucket_data_by_bucket ON bucket_data (bucket, op_id);
    UPDATE walsim_meta SET value = '6' WHERE key = 'version';)sql");
  ASSERT_TRUE(rebuilt.is_ok()) << rebuilt.to_string();
  // The old CHECK holds: a MOVE is refused until the upgrade.
  EXPECT_FALSE(db_->exec("INSERT INTO bucket_data (bucket, op, source_table, row_id, checksum)"
                         " VALUES ('b', 'MOVE', 't', 'r', 0)").is_ok());
}

Checkpoint StoreFixture::checkpoint() {
  // Commits publish nothing by themselves: a durable commit publishes the
  // newest checkpoint the rules created, as the streamer's does.
  Status durable = storage_->make_durable(Lsn::zero());
  EXPECT_TRUE(durable.is_ok()) << durable.to_string();
  auto checkpoint = storage_->checkpoint();
  EXPECT_TRUE(checkpoint.is_ok()) << checkpoint.status().to_string();
  if (!checkpoint.is_ok() || !*checkpoint) return Checkpoint{-1, Lsn::zero()};
  return **checkpoint;
}

ReplicationState StoreFixture::state() {
  auto state = storage_->replication_state();
  EXPECT_TRUE(state.is_ok()) << state.status().to_string();
  return state.is_ok() ? *state : ReplicationState{};
}

CommitResult StoreFixture::commit(WriteBatch& batch, const char* at, bool empty_checkpoints) {
  auto result = batch.commit(lsn(at), CommitOptions{empty_checkpoints});
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : CommitResult{};
}

}  // namespace walsim
