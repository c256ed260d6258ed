// Compactor: rewrites each bucket's history at or below a bound so that the
// store stops growing with every recopy (issue 11 item 3; docs/design.md,
// "Compaction").
//
// The bound is the oldest checkpoint a client may still sync *to*: by
// default the published checkpoint, never past it. At or below the bound,
//   - a PUT or REMOVE that a later op of the same row in the bucket (also at
//     or below the bound) supersedes becomes a MOVE: same op id and
//     checksum, no data;
//   - a run of MOVE/REMOVE/CLEAR ops at the start of the bucket becomes one
//     CLEAR whose op id is the last op of the run and whose checksum is the
//     run's sum; the rest of the run is deleted.
// So every bucket's checksum at every checkpoint at or past the bound stays
// what it was, and a client that reduces MOVE (add its checksum only) and
// CLEAR (drop the bucket's rows, take its checksum) converges from any
// checkpoint it synced to, onto any checkpoint at or past the bound.
//
// This file owns those rewrites of bucket_data (and the op counts they take
// out of bucket_totals); op_log.cc owns everything appended.
//
// One bucket per write transaction, so a large store never holds one huge
// transaction and a writer running beside it (replicate's tasks, on the same
// connection) waits at most for one bucket.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

// What compaction did to one bucket.
struct BucketCompaction {
  int64_t ops_moved = 0;    // PUT/REMOVE ops turned into MOVE
  int64_t ops_deleted = 0;  // ops folded into a CLEAR (the CLEAR's own op not counted)
  bool cleared = false;     // a CLEAR was written
};

// In `txn`: compacts `bucket` at or below `bound_op`, which the caller
// checked is at or below the published checkpoint.
Result<BucketCompaction> compact_bucket(StoreTransaction& txn, const std::string& bucket,
                                        int64_t bound_op);

struct CompactionStats {
  int64_t bound_op = 0;        // ops at or below it were compacted
  int64_t buckets_total = 0;   // buckets the store has
  int64_t buckets_done = 0;    // buckets compacted so far
  int64_t ops_moved = 0;
  int64_t ops_deleted = 0;
  int64_t clears = 0;
};

// After compaction: VACUUM (when `vacuum`: it rewrites the whole file, and
// needs as much free space again), then folds the -wal into the database
// and empties it, so the file holds only the store's pages. Outside any
// transaction; the caller holds the store lock (no other writer runs).
Status reclaim_space(SqliteDb& db, bool vacuum);

class Compactor {
 public:
  // Called after every bucket; the stats so far.
  using Progress = std::function<void(const CompactionStats&)>;

  // `writer` is the store's (BucketStorage's, inside replicate; one of its
  // own in `walsim compact`, which holds the store lock).
  explicit Compactor(StoreWriter& writer) : writer_(writer) {}

  // The bound: `up_to_op` when given (kInvalidArgument unless it is at or
  // below the published checkpoint), else the published checkpoint.
  // kFailedPrecondition when nothing is published yet.
  Result<int64_t> choose_bound(std::optional<int64_t> up_to_op);

  // Compacts every bucket at or below `bound_op`, one write transaction
  // each. Stops at the first failure (nothing half done: each bucket is
  // compacted whole or not at all); running it again goes on.
  Result<CompactionStats> run(int64_t bound_op, const Progress& progress);

 private:
  StoreWriter& writer_;
};

}  // namespace walsim
