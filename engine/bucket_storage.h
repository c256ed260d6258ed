// BucketStorage: the bucket store on SQLite, as the rest of walsim sees it.
//
// The schema and which file owns each table are in engine/storage_schema.h
// (the DDL itself in storage_schema.cc). This class puts those owners
// together: snapshot bookkeeping (source_tables.h), the checkpoint state
// (checkpoint_rules.h), the read side of the op log (op_log.h) and of
// current data (current_data.h), the store's slot pairing, and the batches
// that write (write_batch.h).
//
// Concurrency: one streaming writer and several snapshot writers may use the
// store at once, each through its own WriteBatch. Every public call that
// writes is one SQLite transaction (store_transaction.h), and the state that
// decides anything lives in the store's tables, never in a batch's fields,
// so any interleaving of calls is safe. Each call is a point where the
// runtime may switch tasks.
//
// Single-threaded: one BucketStorage (one SQLite connection) per store, used
// from the one thread that steps every task, live and in the simulator.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/checkpoint_rules.h"
#include "engine/compactor.h"
#include "engine/lsn.h"
#include "engine/op_log.h"
#include "engine/relation.h"
#include "engine/rules_plan.h"
#include "engine/rules_versions.h"
#include "engine/source_tables.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/storage_faults.h"
#include "engine/store_transaction.h"

namespace walsim {

class WriteBatch;

// What a store file says about itself, read before anything is written.
struct StoreFacts {
  std::optional<std::string> slot_name;  // the replication slot it follows
  bool has_tables = false;               // any source table registered
};

class BucketStorage {
 public:
  using Options = StoreOptions;

  // Creates the schema on an empty database, checks it on an existing one
  // ("not a walsim store" otherwise). A store whose active rules version
  // has other bucket definitions is refused (kInvalidArgument naming the
  // new, changed and removed ones, rules_versions.h); a store with none
  // records `rules` as version 1, active. `db` must outlive the storage.
  static Result<std::unique_ptr<BucketStorage>> open(SqliteDb& db,
                                                     const BucketRules& rules,
                                                     Options options);
  // Checks that `db` is a walsim store and reads its facts; writes nothing
  // and needs no rules (`db` may be opened with create=false).
  static Result<StoreFacts> probe(SqliteDb& db);

  // --- snapshot bookkeeping ------------------------------------------------

  // Registers a table named by the rules. A new table needs a snapshot. A
  // table whose relid, replica identity or columns changed loses its rows
  // (REMOVE ops), gets a new generation and needs a snapshot again; returns
  // true then, and for a new table.
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

  // --- the publication (issue 10 part A) ---------------------------------------
  // A table copy starts (or resumes) under publication membership `member`
  // (SourceConnector::publication_members), read before `start_lsn` was
  // read from the source. A copy that resumes under the membership it
  // started with goes on. Any other copy starts afresh, and only once the
  // stream has passed `start_lsn`: the stream may have left some of the
  // table's changes out before then (the table was out of the publication
  // for a while), and the catalog cannot say whether it did, but every
  // change the stream brings from `start_lsn` on is of this membership.
  // Except under the membership the table had just before the slot was
  // created (set_slot_members): then it was published all the time the
  // stream ran, so no change is left out and the copy starts at once.
  // Every row the stream wrote before is removed (REMOVE ops; the copy
  // reads them again), the membership is recorded, and a copy resumed
  // under another membership is withdrawn first (below). Until the stream
  // has passed `start_lsn`, `wait` is set: ask again. kFailedPrecondition
  // when `generation` is no longer the table's (a newer copy superseded it).
  struct CopyStart {
    bool wait = false;
    TableState table;  // the state to copy from, or to ask again with
  };
  Result<CopyStart> start_copy(const std::string& table, int64_t generation,
                               const std::string& member, Lsn start_lsn);
  // A table that left the publication, or came back to it as a new member:
  // the stream left out some of its changes. Its rows are removed (REMOVE
  // ops), it needs a new copy (so no checkpoint is created until it is
  // copied again, under its new membership: start_copy), and the checkpoint
  // created but not yet published is withdrawn
  // (withdraw_unpublished_checkpoint). One transaction.
  Status withdraw_table(const std::string& table);

  // --- schema changes (issue 10, DDL) -------------------------------------------
  // The table was dropped from the source (the catalog no longer has it;
  // `lsn` was read from the source after the catalog said so): its rows
  // are removed (REMOVE ops), it is no longer registered, and no
  // checkpoint is created before the stream passes `lsn`, so none shows
  // the table empty at an LSN where the source still had its rows. One
  // transaction. A table of that name created later registers as new.
  Status drop_table(const std::string& table, Lsn lsn);

  // --- slot pairing ------------------------------------------------------------

  // The replication slot this store follows (nullopt: none recorded yet).
  Result<std::optional<std::string>> slot_name();
  Status set_slot_name(const std::string& slot);
  // Each table's publication membership read just before the store's slot
  // was created (storage_schema.h, read_slot_members): a copy under that
  // membership starts at once (start_copy). Written after the slot is
  // created; start_new_replication_state forgets it. Not durable: a power
  // loss that takes it back only makes the first copies wait.
  Status set_slot_members(const std::map<std::string, std::string>& members);
  // The store's rows no longer match any slot (the one it followed was
  // lost): every registered table's rows are removed (REMOVE ops, so a
  // client's incremental download converges on the new state) and every
  // table needs a new copy; nothing is published until all copies are done.
  // One transaction, and idempotent.
  Status start_new_replication_state();

  // --- rules versions (issue 11) ------------------------------------------------

  // Every rules version the store records, by id (rules_versions.h).
  Result<std::vector<RulesVersion>> rules_versions();
  // The version each checkpoint belongs to (created, published).
  Result<CheckpointVersions> checkpoint_versions();
  // What deploying `rules` would do against the active version, with each
  // copy sized from current data (rules_plan.h). Writes nothing; the store
  // may be open with any rules (a reader's). kFailedPrecondition when the
  // store has no active version yet (no rules were ever recorded).
  Result<DeployPlan> plan_deploy(const BucketRules& rules);

  // --- read side -------------------------------------------------------------

  Result<ReplicationState> replication_state();
  // The published checkpoint, what clients may read up to; nullopt before
  // the first one. It survives a power loss: make_durable() publishes.
  Result<std::optional<Checkpoint>> checkpoint();
  // The newest checkpoint the rules created (last_checkpoint), published by
  // the next make_durable(); nullopt before the first one.
  Result<std::optional<Checkpoint>> created_checkpoint();
  // Ops of `bucket` with after_op < op_id <= up_to_op, in op id order.
  Result<std::vector<StoredOp>> bucket_ops(const std::string& bucket,
                                           int64_t after_op, int64_t up_to_op);
  // Ops of every bucket with after_op < op_id <= up_to_op, in op id order.
  Result<std::vector<StoredOp>> ops(int64_t after_op, int64_t up_to_op);
  // Every bucket that has an op <= up_to_op, sorted (a scan of the log).
  Result<std::vector<std::string>> buckets(int64_t up_to_op);
  // Every bucket that has an op in (after_op, up_to_op], sorted: what an
  // incremental client must read (a range read on the op id).
  Result<std::vector<std::string>> changed_buckets(int64_t after_op, int64_t up_to_op);
  // Sum of op checksums of `bucket` up to `up_to_op`, wrapping 32-bit.
  Result<uint32_t> bucket_checksum(const std::string& bucket, int64_t up_to_op);
  // Every bucket's totals over all ops written so far, sorted by bucket:
  // one row per bucket, no scan of the log (op_log.h).
  Result<std::vector<BucketTotals>> bucket_totals();
  // Per bucket, the ops after `after_op` (count, checksum sum), read by op
  // id; nullopt when there are more than `limit`.
  Result<std::optional<std::map<std::string, OpsAfter>>> ops_after(int64_t after_op,
                                                                   int64_t limit);
  // Live rows of a table in current data (not tombstoned).
  Result<int64_t> live_row_count(const std::string& table);
  // Whether a live row has a value the store has not seen (an unchanged-
  // TOAST value with nothing to merge from). Such rows block checkpoints.
  Result<bool> has_incomplete_rows();
  // Up to `limit` keys of one table's incomplete rows (the first table in
  // name order that has any), for a worker to read from the source.
  Result<std::pair<std::string, std::vector<Row>>> incomplete_rows(size_t limit);

  // --- durability --------------------------------------------------------

  // One write transaction committed durably (synchronous=FULL, sqlite_db.h):
  // once it returns ok, every commit before it, of every batch, survives a
  // power loss, and so does `lsn` as the store's durable_lsn (how far the
  // source may be acknowledged). It also publishes the checkpoint the rules
  // last created, which from then on survives a power loss too. Group
  // commit: the streamer calls it when the stream idles or enough
  // transactions wait, not at every commit.
  Status make_durable(Lsn lsn);

  // --- compaction (issue 11 item 3, engine/compactor.h) -------------------
  // Compacts every bucket at or below `up_to_op` (default: the published
  // checkpoint), one write transaction per bucket, through this storage's
  // writer: what replicate runs beside its tasks, and the simulator at
  // random points of a run.
  Result<CompactionStats> compact(std::optional<int64_t> up_to_op,
                                  const Compactor::Progress& progress = nullptr);
  // --- end of compaction ------------------------------------------------------

  // --- writing -----------------------------------------------------------

  std::unique_ptr<WriteBatch> stream_batch();
  // A snapshot batch for one table copy, tied to the table's generation at
  // creation: if the table is re-queued meanwhile, its writes are dropped.
  Result<std::unique_ptr<WriteBatch>> snapshot_batch(const std::string& table);

  const Options& options() const { return writer_.options(); }
  // The error the last write failed with (kStorageFull: the disk is full and
  // writes are retried until space returns); ok after a write succeeds.
  const Status& write_error() const { return writer_.last_error(); }

 private:
  // The connection, for the read side here; no SQL against the store
  // belongs outside engine/.
  SqliteDb& db() { return writer_.db(); }

 public:
  const BucketRules& rules() const { return rules_; }

 private:
  BucketStorage(SqliteDb& db, const BucketRules& rules, Options options);

  const BucketRules& rules_;
  StoreWriter writer_;
};

}  // namespace walsim
