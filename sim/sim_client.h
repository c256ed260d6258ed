// SimClient: a simulated sync client.
//
// After each sync it waits for a random number of new checkpoints (a
// client is not online all the time), then syncs incrementally from the
// checkpoint it last synced to (sometimes it starts over from nothing, as
// a fresh client) and checks:
//   client_convergence  its reduced buckets equal the oracle's expected
//                       state at that checkpoint: an incremental client
//                       holds exactly what a fresh one holds.
//   bucket_checksum     the store's checksum of a bucket equals the sum of
//                       the checksums of the ops the client read (a sample
//                       of the changed buckets per sync; all at the end).
// and that what it has seen stays true, across crashes and power losses:
//   client_checkpoint_regressed  the checkpoint offered is never older (op
//                       id or LSN) than one the client synced to;
//   client_op_changed   an op id the client read once names the same op
//                       (bucket, kind, table, row, checksum, data) every
//                       time it reads it again, or that op as compaction
//                       rewrote it (a MOVE with its checksum, a CLEAR of
//                       its bucket; issue 11 item 3).
// A client reduces MOVE and CLEAR as sim/bucket_view.h says; one that synced
// incrementally across a compaction is held to client_convergence like
// any other (counted: syncs_across_compaction()).
#pragma once

#include <map>
#include <optional>

#include "engine/bucket_storage.h"
#include "sim/bucket_view.h"
#include "sim/oracle.h"
#include "sim/prng.h"
#include "sim/violation.h"

namespace walsim::sim {

class SimClient {
 public:
  SimClient(int index, uint64_t seed);
  SimClient(SimClient&&) = delete;  // the view's observer points at this client

  struct Outcome {
    bool synced = false;  // false: nothing new to sync (the task idles)
    std::optional<Violation> violation;
  };
  // The oracle must have checked the storage's current checkpoint.
  Outcome step(BucketStorage& storage, const Oracle& oracle);
  // Syncs now, incrementally from where it last synced (issue 11 item 3:
  // the end of a run, after the last compaction), with step()'s checks.
  Outcome catch_up(BucketStorage& storage, const Oracle& oracle);

  int64_t syncs() const { return syncs_; }
  int64_t fresh_syncs() const { return fresh_syncs_; }
  // Incremental syncs that read a MOVE or CLEAR (issue 11 item 3).
  int64_t syncs_across_compaction() const { return syncs_across_compaction_; }

 private:
  std::optional<Violation> check_seen(const StoredOp& op);
  Outcome sync(BucketStorage& storage, const Oracle& oracle, bool fresh);

  int index_;
  Prng prng_;
  BucketView view_;
  std::optional<Checkpoint> synced_checkpoint_;
  std::map<int64_t, StoredOp> seen_ops_;  // every op this client has read
  int64_t sync_after_checkpoints_ = 0;  // oracle's count to wait for
  int64_t syncs_ = 0;
  int64_t fresh_syncs_ = 0;
  int64_t syncs_across_compaction_ = 0;
};

// The stored checksum of buckets the view's last sync read ops of, against
// the sum of the checksums of all ops the view read for each. (A bucket
// without new ops keeps both sides, so it was checked already.) With a
// `prng`, a sample of at most kChecksumSample buckets: a stored checksum is
// a scan of the bucket's ops, and clients sync often; the final check
// passes no prng and covers every bucket.
constexpr size_t kChecksumSample = 3;
std::optional<Violation> check_checksums(BucketStorage& storage, const BucketView& view,
                                         Prng* prng);

}  // namespace walsim::sim
