#include "tests/engine/storage_model_store.h"

namespace walsim::model {

Status OneShotFault::before_write(const char* operation) {
  if (!armed_) return Status::ok();
  armed_ = false;
  return Status(ErrorCode::kIoError, std::string("injected fault before ") + operation);
}

StoreUnderTest::StoreUnderTest(bool unsafe_hard_deletes)
    : unsafe_hard_deletes_(unsafe_hard_deletes) {
  auto db = SqliteDb::open(":memory:");
  if (!db.is_ok()) {
    setup_ = db.status();
    return;
  }
  db_ = std::move(*db);
  auto rules = BucketRules::parse(rules_yaml());
  if (!rules.is_ok()) {
    setup_ = rules.status();
    return;
  }
  rules_ = std::move(*rules);
  setup_ = open_storage();
  for (Table table : kTables) {
    if (!setup_.is_ok()) return;
    auto registered = storage_->register_table(relation_of(table));
    setup_ = registered.status();
  }
}

Status StoreUnderTest::open_storage() {
  BucketStorage::Options options;
  options.faults = &faults_;
  options.unsafe_hard_deletes = unsafe_hard_deletes_;
  // No op id reservation (in memory, no power loss reaches it), so a crash
  // skips no ids and the model's op ids are the store's.
  options.op_ids_reserved_ahead = 0;
  WALSIM_ASSIGN_OR_RETURN(storage_, BucketStorage::open(*db_, rules_, options));
  stream_ = storage_->stream_batch();
  return Status::ok();
}

void StoreUnderTest::restart() {
  stream_.reset();
  snapshots_.clear();
  storage_.reset();
  setup_ = open_storage();
}

Result<WriteBatch*> StoreUnderTest::snapshot(Table table) {
  auto& batch = snapshots_[table];
  if (!batch) {
    auto made = storage_->snapshot_batch(table_name(table));
    if (!made.is_ok()) {
      snapshots_.erase(table);
      return made.status();
    }
    batch = std::move(*made);
  }
  return batch.get();
}

}  // namespace walsim::model
