// StoreTransaction and StoreWriter: the one way into a write transaction on
// the bucket store.
//
// Every write to the store is one SQLite transaction (BEGIN IMMEDIATE ..
// COMMIT) opened by StoreWriter::write(), which first consults the storage
// seam's fault hook (storage_faults.h). The body gets a StoreTransaction:
// the handle that code running inside the transaction takes as its first
// argument (the op log, current data, source tables and checkpoint rules all
// write only through one), so a store write outside a transaction does not
// compile. The handle lives exactly as long as the transaction; nothing may
// keep it.
//
// This plays the part of LevelDB's write_batch_internal.h: the write path's
// internals in one header, so WriteBatch and BucketStorage need no friends.
// Code outside engine/ writes through BucketStorage and WriteBatch only.
#pragma once

#include <functional>
#include <optional>

#include "engine/op_log.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/storage_faults.h"

namespace walsim {

struct StoreOptions {
  // Legacy, known-unsafe mode kept as a canary for the simulator: deletes
  // remove the row at once instead of leaving a tombstone, so a snapshot
  // row read before a delete but written after it comes back.
  bool unsafe_hard_deletes = false;
  // Canary: checkpoint() returns the checkpoint a commit just created, not
  // the one a durable commit published, so a power loss can take back one
  // a client has read.
  bool unsafe_publish_unsynced = false;
  // Op ids reserved at a time (op_log.h): how many a process may hand out
  // before a durable commit reserves more. A process starts past them.
  // 0: no reservation, ids follow the stored sequence, gapless; only for a
  // store no power loss can reach (":memory:" in the engine's tests).
  int64_t op_ids_reserved_ahead = 100000;
  StorageFaults* faults = nullptr;  // not owned; may be null
};

// What code running inside BEGIN IMMEDIATE .. COMMIT may use: the
// connection, the op log with this transaction's op id sequence, and the
// store's options.
class StoreTransaction {
 public:
  StoreTransaction(const StoreTransaction&) = delete;
  StoreTransaction& operator=(const StoreTransaction&) = delete;

  SqliteDb& db() { return db_; }
  OpLogWriter& op_log() { return op_log_; }
  const StoreOptions& options() const { return options_; }

 private:
  friend class StoreWriter;  // one way: only the writer opens transactions
  StoreTransaction(SqliteDb& db, const StoreOptions& options, OpLogWriter::Sequence sequence)
      : db_(db), options_(options), op_log_(db, sequence) {}

  SqliteDb& db_;
  const StoreOptions& options_;
  OpLogWriter op_log_;
};

// Opens the store's write transactions. One per BucketStorage; each batch
// of that storage writes through it.
class StoreWriter {
 public:
  // Installs options.faults on `db` for its statements (storage_faults.h),
  // and removes it when the writer goes.
  StoreWriter(SqliteDb& db, StoreOptions options);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Consults the fault hook with `operation`, then runs `body` in one write
  // transaction and stores the op id sequence before COMMIT. On any failure
  // the transaction rolls back and nothing is written (unless COMMIT itself
  // failed: see SqliteDb::commit). `durability`: what the COMMIT survives
  // once it returns ok (sqlite_db.h). A body that needs op ids past the
  // durable reservation (op_log.h) runs again after a durable transaction
  // reserved more, so a body must be one that can simply run again.
  // Transactions do not nest: a body never calls write() again.
  Status write(const char* operation, const std::function<Status(StoreTransaction&)>& body,
               Durability durability = Durability::kSurvivesCrash);

  // The error the last write transaction failed with; ok once one
  // succeeds again. What a progress display says while writes are retried
  // (a full disk, say).
  const Status& last_error() const { return last_error_; }
  // The newest op id a transaction of this process committed; nullopt
  // until one that wrote ops did. Op ids only grow, so an op id above it
  // was written by a transaction that committed later.
  std::optional<int64_t> committed_op_max() const { return committed_op_max_; }

  // For reads outside a transaction.
  SqliteDb& db() { return db_; }
  const StoreOptions& options() const { return options_; }

 private:
  Status run(const std::function<Status(StoreTransaction&)>& body, Durability durability,
             bool* needs_reservation);
  // A durable transaction of its own that reserves `ahead` op ids.
  Status reserve(int64_t ahead);

  SqliteDb& db_;
  StoreOptions options_;
  bool in_transaction_ = false;
  Status last_error_;
  // This process stored where its op id sequence resumes (past the
  // reservation); until then every transaction resumes it.
  bool sequence_resumed_ = false;
  // Reserved ids left after the last committed transaction that read the
  // sequence; unknown (0) until one did.
  int64_t headroom_ = 0;
  // The largest op id a transaction whose COMMIT failed had used (op_log.h,
  // Sequence::burned_through).
  int64_t burned_through_ = 0;
  std::optional<int64_t> committed_op_max_;
};

}  // namespace walsim
