#include "engine/checkpoint_rules.h"

#include <algorithm>

#include "engine/current_data.h"
#include "engine/mutant.h"
#include "engine/probe.h"

namespace walsim {

namespace {

std::optional<int64_t> max_of(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::optional<Lsn> optional_lsn(const std::optional<int64_t>& value) {
  if (!value) return std::nullopt;
  return Lsn(static_cast<uint64_t>(*value));
}

int64_t stored(Lsn lsn) { return static_cast<int64_t>(lsn.value()); }

// Runs an UPDATE of the one replication_state row.
Status update_state(Statement& update) {
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, update.run());
  WALSIM_ASSERT(updated == 1, "the replication state row exists");
  return Status::ok();
}

Status record_transaction_applied(StoreTransaction& txn, Lsn commit_lsn) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET last_applied_lsn ="
                       " max(coalesce(last_applied_lsn, 0), ?1) WHERE id = 1"));
  return update_state(update->bind(1, stored(commit_lsn)));
}

Status store_keepalive_op(StoreTransaction& txn, int64_t keepalive_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET keepalive_op = ?1 WHERE id = 1"));
  return update_state(update->bind(1, keepalive_op));
}

// Publishes (checkpoint, lsn), clears keepalive_op and hard-deletes the
// tombstones the checkpoint covers.
Status store_checkpoint(StoreTransaction& txn, int64_t checkpoint, Lsn lsn) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET last_checkpoint = ?1,"
                       " last_checkpoint_lsn = ?2, keepalive_op = NULL, checkpoint_version ="
                       " (SELECT id FROM rules_versions WHERE state = 'active') WHERE id = 1"));
  WALSIM_RETURN_IF_ERROR(update_state(update->bind(1, checkpoint).bind(2, stored(lsn))));
  return purge_tombstones(txn, checkpoint);
}

bool can_checkpoint(const ReplicationState& state, bool incomplete_rows, Lsn lsn) {
  return (!incomplete_rows || WALSIM_MUTANT("incomplete_rows_publish")) && state.snapshot_done &&
         (!state.last_checkpoint_lsn || *state.last_checkpoint_lsn <= lsn) &&
         (!state.no_checkpoint_before || *state.no_checkpoint_before <= lsn ||
          WALSIM_MUTANT("checkpoint_ignores_no_checkpoint_before"));
}

// The decision, exactly as the header states it.
Result<CommitResult> decide(StoreTransaction& txn, const CommitPoint& point,
                            const CommitOptions& options) {
  WALSIM_ASSIGN_OR_RETURN(ReplicationState state, read_replication_state(txn.db()));
  WALSIM_ASSIGN_OR_RETURN(bool incomplete, any_incomplete_rows(txn.db()));
  WALSIM_ASSIGN_OR_RETURN(int64_t latest_op, txn.op_log().latest_op());
  WALSIM_ASSERT(!point.persisted_op || *point.persisted_op <= latest_op,
                "a batch never claims an op the log has not written");
  if (point.kind == CommitPoint::Kind::kSnapshot && !point.table_done) {
    WALSIM_ASSERT(!state.snapshot_done, "a table being copied keeps snapshot_done false");
  }
  CommitResult result;
  if (!can_checkpoint(state, incomplete, point.lsn)) {
    if (point.kind != CommitPoint::Kind::kSnapshot && state.no_checkpoint_before &&
        point.lsn < *state.no_checkpoint_before) {
      WALSIM_PROBE("checkpoint_blocked_by_no_checkpoint_before");
    }
    result.checkpoint_blocked = true;
    std::optional<int64_t> keepalive_op = max_of(state.keepalive_op, point.persisted_op);
    if (keepalive_op == state.keepalive_op) return result;  // nothing changes
    if (WALSIM_MUTANT("blocked_commit_drops_keepalive_op")) return result;
    WALSIM_RETURN_IF_ERROR(store_keepalive_op(txn, *keepalive_op));
    return result;
  }
  const int64_t checkpoint =
      max_of(max_of(state.last_checkpoint, point.persisted_op), state.keepalive_op).value_or(0);
  WALSIM_ASSERT(checkpoint <= latest_op, "a checkpoint covers only ops the log holds");
  const bool changes_nothing = !state.keepalive_op && state.last_checkpoint == checkpoint;
  if (changes_nothing && !options.create_empty_checkpoints) return result;
  if (state.last_checkpoint_lsn == point.lsn) WALSIM_PROBE("commit_at_last_checkpoint_lsn");
  if (state.no_checkpoint_before && *state.no_checkpoint_before > Lsn::zero() &&
      state.last_checkpoint_lsn.value_or(Lsn::zero()) < *state.no_checkpoint_before) {
    WALSIM_PROBE("checkpoint_released_past_no_checkpoint_before");
  }
  WALSIM_RETURN_IF_ERROR(store_checkpoint(txn, checkpoint, point.lsn));
  if (WALSIM_MUTANT("publish_unsynced_checkpoint")) WALSIM_RETURN_IF_ERROR(publish_checkpoint(txn));
  result.checkpoint_created = true;
  return result;
}

}  // namespace

Result<ReplicationState> read_replication_state(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT snapshot_done, last_checkpoint, last_checkpoint_lsn,"
                 " no_checkpoint_before, keepalive_op, last_applied_lsn, durable_lsn"
                 " FROM replication_state"
                 " WHERE id = 1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  if (!row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
  ReplicationState state;
  state.snapshot_done = stmt->int64(0) != 0;
  state.last_checkpoint = stmt->optional_int64(1);
  state.last_checkpoint_lsn = optional_lsn(stmt->optional_int64(2));
  state.no_checkpoint_before = optional_lsn(stmt->optional_int64(3));
  state.keepalive_op = stmt->optional_int64(4);
  state.last_applied_lsn = optional_lsn(stmt->optional_int64(5));
  state.durable_lsn = optional_lsn(stmt->optional_int64(6));
  return state;
}

Result<CheckpointVersions> read_checkpoint_versions(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT CASE WHEN last_checkpoint_lsn IS NULL THEN NULL ELSE checkpoint_version END,"
                 " CASE WHEN published_checkpoint_lsn IS NULL THEN NULL ELSE published_version END"
                 " FROM replication_state WHERE id = 1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  if (!row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
  return CheckpointVersions{stmt->optional_int64(0), stmt->optional_int64(1)};
}

Result<CommitResult> commit_checkpoint(StoreTransaction& txn, const CommitPoint& point,
                                       const CommitOptions& options) {
  const bool snapshot = point.kind == CommitPoint::Kind::kSnapshot;
  WALSIM_ASSERT(!snapshot || point.lsn == Lsn::zero(), "a snapshot batch commits at LSN 0");
  WALSIM_ASSERT(snapshot || !point.consistent_lsn, "only a snapshot batch reads rows");
  if (point.consistent_lsn) {
    WALSIM_RETURN_IF_ERROR(raise_no_checkpoint_before(txn, *point.consistent_lsn));
  }
  if (point.kind == CommitPoint::Kind::kTransaction) {
    WALSIM_RETURN_IF_ERROR(record_transaction_applied(txn, point.lsn));
  }
  return decide(txn, point, options);
}

Status raise_no_checkpoint_before(StoreTransaction& txn, Lsn lsn) {
  WALSIM_ASSIGN_OR_RETURN(ReplicationState state, read_replication_state(txn.db()));
  const Lsn raised = std::max(state.no_checkpoint_before.value_or(Lsn::zero()), lsn);
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET no_checkpoint_before = ?1 WHERE id = 1"));
  return update_state(update->bind(1, stored(raised)));
}

Status raise_keepalive_op(StoreTransaction& txn, int64_t op) {
  WALSIM_ASSIGN_OR_RETURN(int64_t latest_op, txn.op_log().latest_op());
  WALSIM_ASSERT(op > 0 && op <= latest_op, "keepalive_op names an op the log holds");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET keepalive_op ="
                       " max(coalesce(keepalive_op, 0), ?1) WHERE id = 1"));
  return update_state(update->bind(1, op));
}

Status record_durable(StoreTransaction& txn, Lsn lsn) {
  // An UPDATE that changes no value still writes the row's page, so the
  // durable COMMIT always has a frame to sync.
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET durable_lsn ="
                       " max(coalesce(durable_lsn, 0), ?1) WHERE id = 1"));
  return update_state(update->bind(1, stored(lsn)));
}

Status publish_checkpoint(StoreTransaction& txn) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET published_checkpoint ="
                       " CASE WHEN last_checkpoint_lsn IS NULL THEN published_checkpoint"
                       " ELSE last_checkpoint END, published_checkpoint_lsn ="
                       " coalesce(last_checkpoint_lsn, published_checkpoint_lsn),"
                       " published_version = CASE WHEN last_checkpoint_lsn IS NULL"
                       " THEN published_version ELSE checkpoint_version END WHERE id = 1"));
  return update_state(*update);
}

Status reset_lsn_state(StoreTransaction& txn) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE replication_state SET last_checkpoint_lsn = NULL,"
                       " no_checkpoint_before = NULL, last_applied_lsn = NULL,"
                       " durable_lsn = NULL WHERE id = 1"));
  WALSIM_RETURN_IF_ERROR(update_state(*update));
  WALSIM_ASSIGN_OR_RETURN(ReplicationState state, read_replication_state(txn.db()));
  WALSIM_ASSERT(!state.last_checkpoint_lsn && !state.last_applied_lsn &&
                    !state.no_checkpoint_before && !state.durable_lsn,
                "no LSN of the old stream survives its reset");
  return Status::ok();
}

Result<std::optional<Checkpoint>> read_published_checkpoint(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT published_checkpoint, published_checkpoint_lsn FROM replication_state"
                 " WHERE id = 1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  if (!row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
  const std::optional<Lsn> lsn = optional_lsn(stmt->optional_int64(1));
  if (!lsn) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(Checkpoint{stmt->optional_int64(0).value_or(0), *lsn});
}

Status withdraw_unpublished_checkpoint(StoreTransaction& txn) {
  // A created checkpoint is never behind the published one (make_durable
  // copies it over), so going back to the published one only goes back.
  // Its LSN too, within one replication state (where the created
  // checkpoint's LSN is never below the published one's). After a new
  // state (reset_lsn_state: a lost slot, a fresh cluster) the published
  // checkpoint is the old stream's, numbered in LSNs the new stream may
  // never reach: the state goes back to "no checkpoint of its own yet"
  // (NULL), as reset_lsn_state left it, so that make_durable publishes
  // nothing new (it keeps the published checkpoint while
  // last_checkpoint_lsn is NULL) and checkpoints can be created again.
  // Found by the simulator three ways: table_recreated with fresh_cluster
  // (liveness-withdrawn-after-fresh-cluster.json), publication_change with
  // fresh_cluster (liveness-withdrawal-after-fresh-cluster.json, seed 245
  // quick pct), and min() instead of NULL publishing the old cluster's op
  // id under a new-cluster LSN (seed 21 --unsafe-hard-deletes).
  WALSIM_ASSIGN_OR_RETURN(ReplicationState before, read_replication_state(txn.db()));
  WALSIM_RETURN_IF_ERROR(txn.db().exec(
      "UPDATE replication_state SET"
      " keepalive_op = CASE WHEN coalesce(last_checkpoint, 0) > 0"
      "   THEN max(coalesce(keepalive_op, 0), last_checkpoint) ELSE keepalive_op END,"
      " last_checkpoint = published_checkpoint,"
      " last_checkpoint_lsn = CASE WHEN last_checkpoint_lsn IS NULL"
      "   OR last_checkpoint_lsn < published_checkpoint_lsn THEN NULL"
      "   ELSE published_checkpoint_lsn END,"
      " checkpoint_version = published_version"
      " WHERE id = 1 AND (last_checkpoint IS NOT published_checkpoint"
      "   OR last_checkpoint_lsn IS NOT published_checkpoint_lsn)"));
  WALSIM_ASSIGN_OR_RETURN(ReplicationState after, read_replication_state(txn.db()));
  WALSIM_ASSERT(!after.last_checkpoint_lsn || !before.last_checkpoint_lsn ||
                    *after.last_checkpoint_lsn <= *before.last_checkpoint_lsn,
                "a withdrawal never moves the checkpoint position forward");
  WALSIM_ASSERT(after.last_checkpoint_lsn.has_value() <= before.last_checkpoint_lsn.has_value(),
                "a withdrawal brings no LSN of an older replication state back");
  return Status::ok();
}

Status set_snapshot_not_done(StoreTransaction& txn) {
  return txn.db().exec("UPDATE replication_state SET snapshot_done = 0 WHERE id = 1");
}

Status set_all_snapshots_done(StoreTransaction& txn, Lsn lsn,
                              const std::vector<std::string>& tables_not_done) {
  if (!tables_not_done.empty()) {
    WALSIM_PROBE("mark_all_snapshot_done_refused");
    std::string pending;
    for (const std::string& table : tables_not_done) {
      pending += (pending.empty() ? "" : ", ") + table;
    }
    return Status(ErrorCode::kFailedPrecondition,
                  "cannot mark all snapshots done: tables still need a snapshot: " + pending);
  }
  WALSIM_RETURN_IF_ERROR(
      txn.db().exec("UPDATE replication_state SET snapshot_done = 1 WHERE id = 1"));
  return raise_no_checkpoint_before(txn, lsn);
}

}  // namespace walsim
