// BucketStorage: the bucket store on SQLite, and the checkpoint rules.
//
// Tables (see bucket_storage_schema.cc for the DDL):
//   source_tables      per source table: relation, snapshot done, resume key,
//                      rows copied, snapshot generation.
//   current_data       per (table, row id): the full source row (for TOAST
//                      merges), the buckets it is in, and pending_delete, the
//                      op id of its tombstone (NULL while the row is live).
//   bucket_data        the op log: global increasing op id, bucket, PUT or
//                      REMOVE, table, row id, checksum, data.
//   replication_state  one row: snapshot_done, last_checkpoint,
//                      last_checkpoint_lsn, no_checkpoint_before, keepalive_op.
//
// Concurrency: one streaming writer and several snapshot writers may use the
// store at once, each through its own WriteBatch. Every public call that
// writes is one SQLite transaction (BEGIN IMMEDIATE ... COMMIT), and the state
// that decides anything lives in those tables, never in a batch's fields, so
// any interleaving of calls is safe. Each call is a point where the runtime
// may switch tasks.
//
// Threading: a BucketStorage (one SQLite connection) is used by one thread at
// a time. Live mode gives each thread its own BucketStorage on the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

enum class OpKind : uint8_t { kPut, kRemove };

struct StoredOp {
  int64_t op_id = 0;
  std::string bucket;
  OpKind kind = OpKind::kPut;
  std::string table;
  std::string row_id;  // JSON array of the replica identity values
  uint32_t checksum = 0;
  std::optional<std::string> data;  // PUT only: the bucket's data JSON
  bool operator==(const StoredOp&) const = default;
};

struct Checkpoint {
  int64_t op_id = 0;
  Lsn lsn;
  bool operator==(const Checkpoint&) const = default;
};

struct ReplicationState {
  bool snapshot_done = false;
  std::optional<int64_t> last_checkpoint;
  std::optional<Lsn> last_checkpoint_lsn;
  std::optional<Lsn> no_checkpoint_before;
  std::optional<int64_t> keepalive_op;
  // The commit LSN of the last source transaction a stream batch committed:
  // the streamer skips a transaction delivered again at or below it.
  std::optional<Lsn> last_applied_lsn;
  bool operator==(const ReplicationState&) const = default;
};

struct CommitOptions {
  // When false, a commit that would change neither keepalive_op nor
  // last_checkpoint leaves the state untouched (its LSN is not recorded).
  bool create_empty_checkpoints = true;
};

struct CommitResult {
  bool checkpoint_blocked = false;  // a rule refused to publish at this LSN
  bool checkpoint_created = false;  // the state now says this LSN
};

// Per-table snapshot progress, as stored.
struct TableState {
  std::string table;
  Relation relation;
  bool snapshot_done = false;
  std::optional<Row> resume_key;  // last key copied; nullopt: from the start
  int64_t rows_copied = 0;
  int64_t generation = 0;  // bumped when the table must be copied again
};

// Checksum of one op: FNV-1a over its identity and data, so a client can
// verify a bucket by adding op checksums (wrapping 32-bit).
uint32_t op_checksum(OpKind kind, const std::string& bucket,
                     const std::string& table, const std::string& row_id,
                     const std::optional<std::string>& data);

// The row id stored for a key: a JSON array of the key values.
std::string row_id_of(const Row& key);

// Latest op per (table, row id) of one bucket: the bucket's rows when the
// op is a PUT. Ops must be in op id order.
std::map<std::pair<std::string, std::string>, StoredOp> reduce_ops(
    const std::vector<StoredOp>& ops);

class WriteBatch;

// Test and simulation hook: lets a caller fail storage calls on purpose
// (BUGGIFY style). The engine only consults it; it never knows who set it.
class StorageFaults {
 public:
  virtual ~StorageFaults() = default;
  // Called before each write transaction; a non-OK status is returned to
  // the caller as if SQLite had failed, and nothing is written.
  virtual Status before_write(const char* operation) = 0;
};

class BucketStorage {
 public:
  struct Options {
    // Legacy, known-unsafe mode kept as a canary for the simulator: deletes
    // remove the row at once instead of leaving a tombstone, so a snapshot
    // row read before a delete but written after it comes back.
    bool unsafe_hard_deletes = false;
    StorageFaults* faults = nullptr;  // not owned; may be null
  };

  // Creates the schema on an empty database, checks it on an existing one
  // ("not a walsim store" otherwise). `db` must outlive the storage.
  static Result<std::unique_ptr<BucketStorage>> open(SqliteDb& db,
                                                     const BucketRules& rules,
                                                     Options options);

  // --- snapshot bookkeeping ------------------------------------------------

  // Registers a table named by the rules. A new table needs a snapshot. A
  // table whose relid or replica identity changed loses its rows (REMOVE
  // ops), gets a new generation and needs a snapshot again; returns true
  // then, and for a new table.
  Result<bool> register_table(const Relation& relation);
  Result<std::vector<TableState>> tables();
  Result<std::optional<TableState>> table(const std::string& name);

  // Raises no_checkpoint_before to at least `lsn` and marks the table done.
  // With `generation`, a copy superseded by a newer one (the table was
  // truncated or re-created meanwhile) is refused with kFailedPrecondition.
  Status mark_table_snapshot_done(const std::string& table, Lsn lsn,
                                  std::optional<int64_t> generation = std::nullopt);
  // The table must be copied again: clears its done flag and resume key,
  // bumps its generation, sets snapshot_done false.
  Status mark_table_snapshot_required(const std::string& table);
  // kFailedPrecondition, naming the tables, while any table is not done.
  Status mark_all_snapshot_done(Lsn lsn);

  // --- read side -------------------------------------------------------------

  Result<ReplicationState> replication_state();
  // The published checkpoint; nullopt before the first one.
  Result<std::optional<Checkpoint>> checkpoint();
  // Ops of `bucket` with after_op < op_id <= up_to_op, in op id order.
  Result<std::vector<StoredOp>> bucket_ops(const std::string& bucket,
                                           int64_t after_op, int64_t up_to_op);
  // Every bucket that has an op <= up_to_op, sorted.
  Result<std::vector<std::string>> buckets(int64_t up_to_op);
  // Sum of op checksums of `bucket` up to `up_to_op`, wrapping 32-bit.
  Result<uint32_t> bucket_checksum(const std::string& bucket, int64_t up_to_op);
  // Live rows of a table in current data (not tombstoned).
  Result<int64_t> live_row_count(const std::string& table);
  // Whether a live row has a value the store has not seen (an unchanged-
  // TOAST value with nothing to merge from). Such rows block checkpoints.
  Result<bool> has_incomplete_rows();
  // Up to `limit` keys of one table's incomplete rows (the first table in
  // name order that has any), for a worker to read from the source.
  Result<std::pair<std::string, std::vector<Row>>> incomplete_rows(size_t limit);

  // --- writing -----------------------------------------------------------

  std::unique_ptr<WriteBatch> stream_batch();
  // A snapshot batch for one table copy, tied to the table's generation at
  // creation: if the table is re-queued meanwhile, its writes are dropped.
  Result<std::unique_ptr<WriteBatch>> snapshot_batch(const std::string& table);

  SqliteDb& db() { return db_; }
  const Options& options() const { return options_; }
  const BucketRules& rules() const { return rules_; }

 private:
  friend class WriteBatch;
  BucketStorage(SqliteDb& db, const BucketRules& rules, Options options);

  // Consults the fault hook, then runs `body` in one SQLite transaction.
  Status write_transaction(const char* operation, const std::function<Status()>& body);
  // These run inside a write transaction.
  Status remove_table_rows(const std::string& table);
  Status require_snapshot(const std::string& table);
  Status set_snapshot_not_done();
  Status raise_no_checkpoint_before(Lsn lsn);
  Status store_keepalive_op(int64_t keepalive_op);
  Status raise_keepalive_op(int64_t op);
  Status store_last_applied_lsn(Lsn lsn);
  // Publishes (checkpoint, lsn), clears keepalive_op and hard-deletes the
  // tombstones the checkpoint covers.
  Status store_checkpoint(int64_t checkpoint, Lsn lsn);
  Result<TableState> read_table_state(Statement& stmt);

  SqliteDb& db_;
  const BucketRules& rules_;
  Options options_;
};

}  // namespace walsim
