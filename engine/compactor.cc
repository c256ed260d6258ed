#include "engine/compactor.h"

#include "engine/checkpoint_rules.h"
#include "engine/mutant.h"
#include "engine/op_log.h"

namespace walsim {

namespace {

// Every PUT/REMOVE at or below the bound that a later PUT/REMOVE of the same
// row, also at or below the bound, supersedes. The window sorts the bucket's
// ops by row (a temporary b-tree, so a bucket larger than memory still
// works). A MOVE's checksum stays: the bucket's sum must not change.
Result<int64_t> move_superseded(SqliteDb& db, const std::string& bucket, int64_t bound_op) {
  // Planted bug (engine/mutant.cc): the checksum of a moved op is dropped.
  const char* sql =
      WALSIM_MUTANT("compaction_drops_moved_checksum")
          ? "UPDATE bucket_data SET op = 'MOVE', data = NULL, checksum = 0 WHERE op_id IN ("
            " SELECT op_id FROM (SELECT op_id, row_number() OVER (PARTITION BY source_table,"
            " row_id ORDER BY op_id DESC) AS newer FROM bucket_data WHERE bucket = ?1"
            " AND op_id <= ?2 AND op IN ('PUT', 'REMOVE')) WHERE newer > 1)"
          : "UPDATE bucket_data SET op = 'MOVE', data = NULL WHERE op_id IN ("
            " SELECT op_id FROM (SELECT op_id, row_number() OVER (PARTITION BY source_table,"
            " row_id ORDER BY op_id DESC) AS newer FROM bucket_data WHERE bucket = ?1"
            " AND op_id <= ?2 AND op IN ('PUT', 'REMOVE')) WHERE newer > 1)";
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement update, db.prepare(sql));
  return update->bind(1, bucket).bind(2, bound_op).run();
}

// The run of ops at the start of the bucket that holds no PUT, at or below
// the bound: how many, their checksum sum, the last one's op id.
struct LeadingRun {
  int64_t ops = 0;
  uint32_t checksum = 0;
  int64_t last_op_id = 0;
};

Result<LeadingRun> read_leading_run(SqliteDb& db, const std::string& bucket, int64_t bound_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT op_id, op, checksum FROM bucket_data WHERE bucket = ?1 AND op_id <= ?2"
                 " ORDER BY op_id"));
  stmt->bind(1, bucket).bind(2, bound_op);
  LeadingRun run;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row || stmt->text(1) == "PUT") break;
    WALSIM_ASSERT(stmt->int64(0) > run.last_op_id, "ops are read in op id order");
    run.ops++;
    run.checksum += static_cast<uint32_t>(stmt->int64(2));
    run.last_op_id = stmt->int64(0);
  }
  return run;  // the statement resets when it goes: no read is left open
}

// The run becomes one CLEAR at its last op id: the others are deleted, and
// their count leaves the bucket's totals (its checksum and rows stay).
Result<int64_t> clear_leading_run(SqliteDb& db, const std::string& bucket,
                                  const LeadingRun& run) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement remove,
      db.prepare("DELETE FROM bucket_data WHERE bucket = ?1 AND op_id < ?2"));
  WALSIM_ASSIGN_OR_RETURN(int64_t deleted,
                          remove->bind(1, bucket).bind(2, run.last_op_id).run());
  WALSIM_ASSERT(deleted == run.ops - 1, "the run is every op of the bucket before its last");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement clear,
      db.prepare("UPDATE bucket_data SET op = 'CLEAR', checksum = ?2, data = NULL,"
                 " source_table = '', row_id = '' WHERE op_id = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, clear->bind(1, run.last_op_id)
                                               .bind(2, static_cast<int64_t>(run.checksum))
                                               .run());
  WALSIM_ASSERT(updated == 1, "the run's last op exists");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement totals,
      db.prepare("UPDATE bucket_totals SET op_count = op_count - ?2 WHERE bucket = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t counted, totals->bind(1, bucket).bind(2, deleted).run());
  WALSIM_ASSERT(counted == 1, "a bucket with ops has totals");
  return deleted;
}

}  // namespace

Result<BucketCompaction> compact_bucket(StoreTransaction& txn, const std::string& bucket,
                                        int64_t bound_op) {
  WALSIM_ASSERT(bound_op >= 0);
  SqliteDb& db = txn.db();
  // The bound must be one every client may still sync to: a checkpoint
  // before it may now be incomplete (a MOVE whose superseding op is past it).
  WALSIM_ASSIGN_OR_RETURN(std::optional<Checkpoint> published, read_published_checkpoint(db));
  if (!published || published->op_id < bound_op) {
    return Status(ErrorCode::kFailedPrecondition,
                  "compaction bound op " + std::to_string(bound_op) +
                      " is past the published checkpoint " +
                      (published ? "op " + std::to_string(published->op_id) : "(none)"));
  }
  BucketCompaction done;
  WALSIM_ASSIGN_OR_RETURN(done.ops_moved, move_superseded(db, bucket, bound_op));
  WALSIM_ASSIGN_OR_RETURN(LeadingRun run, read_leading_run(db, bucket, bound_op));
  // A run of one op is already as small as a CLEAR.
  if (run.ops >= 2) {
    WALSIM_ASSIGN_OR_RETURN(done.ops_deleted, clear_leading_run(db, bucket, run));
    done.cleared = true;
  }
  return done;
}

Status reclaim_space(SqliteDb& db, bool vacuum) {
  WALSIM_ASSERT(!db.in_write_transaction(), "VACUUM runs outside a transaction");
  if (vacuum) WALSIM_RETURN_IF_ERROR(db.exec("VACUUM"));
  return db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Result<int64_t> Compactor::choose_bound(std::optional<int64_t> up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(std::optional<Checkpoint> published,
                          read_published_checkpoint(writer_.db()));
  if (!published) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the store has published no checkpoint yet: there is nothing a client may"
                  " sync to, so nothing to compact");
  }
  if (!up_to_op) return published->op_id;
  if (*up_to_op < 0 || *up_to_op > published->op_id) {
    return Status(ErrorCode::kInvalidArgument,
                  "--up-to-op " + std::to_string(*up_to_op) +
                      " must be between 0 and the published checkpoint, op " +
                      std::to_string(published->op_id) +
                      ": clients may still sync to any checkpoint at or past it");
  }
  return *up_to_op;
}

Result<CompactionStats> Compactor::run(int64_t bound_op, const Progress& progress) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<BucketTotals> buckets, read_bucket_totals(writer_.db()));
  CompactionStats stats;
  stats.bound_op = bound_op;
  stats.buckets_total = static_cast<int64_t>(buckets.size());
  for (const BucketTotals& bucket : buckets) {
    BucketCompaction done;
    WALSIM_RETURN_IF_ERROR(writer_.write("compact", [&](StoreTransaction& txn) -> Status {
      WALSIM_ASSIGN_OR_RETURN(done, compact_bucket(txn, bucket.bucket, bound_op));
      return Status::ok();
    }));
    stats.buckets_done++;
    stats.ops_moved += done.ops_moved;
    stats.ops_deleted += done.ops_deleted;
    stats.clears += done.cleared ? 1 : 0;
    if (progress) progress(stats);
  }
  WALSIM_ASSERT(stats.buckets_done == stats.buckets_total, "every bucket was compacted");
  return stats;
}

}  // namespace walsim
