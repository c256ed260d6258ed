// The checkpoint rules: when a commit publishes a checkpoint, and every
// write of the replication_state row (DDL in engine/storage_schema.cc)
// except last_op_id, which is the op log's id sequence (op_log.h).
//
// The state, one row per store:
//   snapshot_done         every table copy is done (false in a new store)
//   last_checkpoint       op id of the newest checkpoint the rules created
//   last_checkpoint_lsn   the source position it is consistent with
//   no_checkpoint_before  the stream must reach this LSN before a checkpoint
//   keepalive_op          ops persisted by blocked commits, for the next one
//   last_applied_lsn      commit LSN of the last source transaction applied
//   durable_lsn           end LSN that a durable commit covers: how far the
//                         store holds the source through a power loss, and
//                         so how far the source may be acknowledged
//   published_checkpoint(_lsn)  what clients read: last_checkpoint(_lsn) as
//                         the last durable commit found it. A checkpoint is
//                         published only in a commit that survives a power
//                         loss, so one a client has read never goes away,
//                         and neither do the ops it covers (they were
//                         committed before it). Not part of the rules.
//   checkpoint_version, published_version (format 6, issue 11): the rules
//                         version (rules_versions.h) last_checkpoint and
//                         published_checkpoint belong to: the version active
//                         in the transaction that created the checkpoint,
//                         carried along as it is published or withdrawn.
//
// commit(lsn) and keepalive(lsn) are one operation, run in the committing
// batch's storage transaction after its changes are written. persisted_op
// is the largest op id that batch has written, in this commit or an
// earlier flush. Exactly:
//
//   can_checkpoint = snapshot_done
//       AND no live row is incomplete (a value the store has not seen:
//           an unchanged-TOAST value with nothing to merge from)
//       AND (last_checkpoint_lsn IS NULL OR last_checkpoint_lsn <= lsn)
//       AND (no_checkpoint_before IS NULL OR no_checkpoint_before <= lsn)
//   if can_checkpoint:
//       checkpoint = max(last_checkpoint, persisted_op, keepalive_op), 0 if all are NULL
//       with "no empty checkpoints" (CommitOptions), when keepalive_op IS NULL
//         and checkpoint = last_checkpoint, nothing changes and none is created;
//       else last_checkpoint = checkpoint, last_checkpoint_lsn = lsn,
//         keepalive_op = NULL, and the tombstones with pending_delete <=
//         checkpoint are hard-deleted (checkpoints exist only when no copy
//         runs, and a tombstone only stops a late copy)
//   else (blocked):
//       keepalive_op = max(keepalive_op, persisted_op); nothing else changes
//
// Before that decision, in the same transaction:
//   a stream transaction's commit: last_applied_lsn = max(last_applied_lsn, lsn)
//   a snapshot batch that filled incomplete rows: no_checkpoint_before =
//     max(no_checkpoint_before, the LSN the rows were read at)
//
// The other writes, each in the transaction of the operation named:
//   mark_table_snapshot_done(table, lsn), mark_all_snapshot_done(lsn), and a
//     flush of part of a source transaction (at its commit LSN):
//     no_checkpoint_before = max(no_checkpoint_before, lsn)
//   a flush, and the REMOVEs of a table that must be copied afresh:
//     keepalive_op = max(keepalive_op, last op written), so those ops reach
//     the next checkpoint even if nothing else is ever written
//   a new table, or a table that must be copied again: snapshot_done = false
//   mark_all_snapshot_done: snapshot_done = true, refused while any table
//     still needs a copy
//   start_new_replication_state (a new slot): last_checkpoint_lsn,
//     no_checkpoint_before, last_applied_lsn, durable_lsn = NULL (they are
//     the old stream's positions; a fresh cluster's LSNs start lower)
//
// A snapshot batch commits at LSN 0 and so, while its table is being copied,
// is always blocked: a table not done keeps snapshot_done false, since every
// write that marks a table not done clears snapshot_done with it and
// mark_all_snapshot_done refuses while one is not done. Its ops wait in
// keepalive_op for the streamer's next checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

struct Checkpoint {
  int64_t op_id = 0;
  Lsn lsn;
  bool operator==(const Checkpoint&) const = default;
};

// The replication_state row (see the list above).
struct ReplicationState {
  bool snapshot_done = false;
  std::optional<int64_t> last_checkpoint;
  std::optional<Lsn> last_checkpoint_lsn;
  std::optional<Lsn> no_checkpoint_before;
  std::optional<int64_t> keepalive_op;
  // The streamer skips a transaction delivered again at or below it.
  std::optional<Lsn> last_applied_lsn;
  std::optional<Lsn> durable_lsn;
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

// One commit, as the rules see it.
struct CommitPoint {
  enum class Kind {
    kTransaction,  // a stream batch, at a source transaction's commit LSN
    kKeepalive,    // a stream batch between transactions, at a keepalive's LSN
    kSnapshot,     // a snapshot batch, at LSN 0
  };
  Kind kind = Kind::kTransaction;
  Lsn lsn;
  std::optional<int64_t> persisted_op;
  // kSnapshot: the LSN rows read outside a table copy were read at.
  std::optional<Lsn> consistent_lsn;
  // kSnapshot: whether the batch's table is marked done (false while it is
  // being copied), as read in this transaction.
  bool table_done = true;
};

Result<ReplicationState> read_replication_state(SqliteDb& db);

// The rules version each checkpoint belongs to; nullopt when there is no
// checkpoint, or it was created before any version was recorded.
struct CheckpointVersions {
  std::optional<int64_t> created;    // of last_checkpoint
  std::optional<int64_t> published;  // of published_checkpoint
  bool operator==(const CheckpointVersions&) const = default;
};
Result<CheckpointVersions> read_checkpoint_versions(SqliteDb& db);

// --- writes, inside a transaction ------------------------------------------------

// The whole commit: the writes before the decision, the decision, its writes.
Result<CommitResult> commit_checkpoint(StoreTransaction& txn, const CommitPoint& point,
                                       const CommitOptions& options);
Status raise_no_checkpoint_before(StoreTransaction& txn, Lsn lsn);
// `op` must be in the op log already.
Status raise_keepalive_op(StoreTransaction& txn, int64_t op);
Status set_snapshot_not_done(StoreTransaction& txn);
// durable_lsn = max(durable_lsn, lsn), in the transaction that makes the
// store durable up to `lsn` (a Durability::kSurvivesPowerLoss one).
Status record_durable(StoreTransaction& txn, Lsn lsn);
// published_checkpoint(_lsn) = last_checkpoint(_lsn), in the same durable
// transaction; nothing changes while last_checkpoint_lsn is null (after a
// reset of the LSN state, before the new stream's first checkpoint).
Status publish_checkpoint(StoreTransaction& txn);
// A new replication state (a new slot, perhaps on a fresh cluster whose
// LSNs start lower): every LSN the state holds belonged to the old stream,
// so last_checkpoint_lsn, no_checkpoint_before, last_applied_lsn and
// durable_lsn become null. Op ids are not LSNs: last_checkpoint,
// keepalive_op, the op id sequence and the published checkpoint stay, so
// checkpoints go on rising in op id (their LSNs restart with the stream).
// A checkpoint the old stream created but no durable commit published is
// never published: the new stream's first one covers its ops (it is at
// least last_checkpoint). In a durable transaction, so a power loss cannot
// bring the old LSNs back once the new slot exists.
Status reset_lsn_state(StoreTransaction& txn);

// Issue 10 part A. The checkpoint the rules created and no durable commit
// published yet is taken back: last_checkpoint(_lsn) = published_checkpoint(_lsn),
// and keepalive_op = max(keepalive_op, the old last_checkpoint), so its ops
// still reach the next checkpoint. In the transaction that removes the rows
// of a table found to have left the publication: that checkpoint may show
// the table as of a time the stream left its changes out, and nothing
// clients read is taken back. Nothing changes when the two are the same,
// nor while the stream has created no checkpoint since a reset of the LSN
// state (last_checkpoint_lsn NULL); a published LSN above the created one
// (another stream's numbering) comes back as NULL, never as a position
// that would block the new stream's checkpoints.
Status withdraw_unpublished_checkpoint(StoreTransaction& txn);
// The published checkpoint; nullopt before the first one.
Result<std::optional<Checkpoint>> read_published_checkpoint(SqliteDb& db);
// kFailedPrecondition, naming them, when `tables_not_done` is not empty.
Status set_all_snapshots_done(StoreTransaction& txn, Lsn lsn,
                              const std::vector<std::string>& tables_not_done);

}  // namespace walsim
