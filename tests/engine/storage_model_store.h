// StoreUnderTest: the real bucket store the model tests drive, set up like
// the model (both tables registered) and restartable like an engine: a
// restart drops the BucketStorage and every batch, and reopens over the
// same SqliteDb, so only what was committed survives.
#pragma once

#include <map>
#include <memory>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"
#include "tests/engine/storage_model_domain.h"
#include "tests/engine/storage_model_probe.h"

namespace walsim::model {

// Fails the next storage transaction once, as a full disk or I/O error
// would; the test arms it, the store consults it.
class OneShotFault : public StorageFaults {
 public:
  void arm() { armed_ = true; }
  Status before_write(const char* operation) override;

 private:
  bool armed_ = false;
};

class StoreUnderTest {
 public:
  // Check setup_status() after constructing and after restart().
  // `unsafe_hard_deletes` turns on the engine's known-unsafe canary mode.
  explicit StoreUnderTest(bool unsafe_hard_deletes = false);
  StoreUnderTest(const StoreUnderTest&) = delete;
  StoreUnderTest& operator=(const StoreUnderTest&) = delete;

  // An error while setting up, or OK.
  const Status& setup_status() const { return setup_; }

  void restart();
  BucketStorage& storage() { return *storage_; }
  WriteBatch& stream() { return *stream_; }
  // The table's snapshot batch, made on first use.
  Result<WriteBatch*> snapshot(Table table);
  void drop_snapshot(Table table) { snapshots_.erase(table); }
  OneShotFault& faults() { return faults_; }
  IncrementalClient& client() { return client_; }

 private:
  Status open_storage();

  bool unsafe_hard_deletes_;
  Status setup_;
  std::unique_ptr<SqliteDb> db_;
  BucketRules rules_;
  OneShotFault faults_;
  std::unique_ptr<BucketStorage> storage_;
  // Batches point into storage_: always dropped before it.
  std::unique_ptr<WriteBatch> stream_;
  std::map<Table, std::unique_ptr<WriteBatch>> snapshots_;
  IncrementalClient client_;  // outside the engine: survives restarts
};

}  // namespace walsim::model
