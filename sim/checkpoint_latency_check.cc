#include "sim/checkpoint_latency_check.h"

#include <string>

#include "engine/assert.h"

namespace walsim::sim {

CheckpointLatencyCheck::CheckpointLatencyCheck(int64_t durable_every_transactions)
    : bound_transactions_(durable_every_transactions + kSlackTransactions) {
  WALSIM_ASSERT(durable_every_transactions >= 1, "a group commit covers at least one transaction");
}

void CheckpointLatencyCheck::start_engine() {
  seen_ = ReplicatorProgress{};
  created_at_transactions_.reset();
}

// A copy wrote, waited, finished or was required again, or a table was
// withdrawn: each may take the created checkpoint back (and the next one
// waits for the copies).
bool CheckpointLatencyCheck::copies_moved(const ReplicatorProgress& progress) const {
  return !progress.all_snapshots_done || progress.snapshot_chunks != seen_.snapshot_chunks ||
         progress.tables_snapshotted != seen_.tables_snapshotted ||
         progress.tables_withdrawn != seen_.tables_withdrawn ||
         progress.tables_waiting_for_publication != seen_.tables_waiting_for_publication;
}

std::optional<Violation> CheckpointLatencyCheck::after_step(
    const ReplicatorProgress& progress, const std::optional<Checkpoint>& published) {
  WALSIM_ASSERT(progress.transactions_applied >= seen_.transactions_applied,
                "an engine's counters only grow");
  WALSIM_ASSERT(progress.checkpoints_created >= seen_.checkpoints_created);
  const bool created = progress.checkpoints_created > seen_.checkpoints_created;
  if (published != published_ || copies_moved(progress)) {
    published_ = published;
    created_at_transactions_.reset();
  }
  if (created && !created_at_transactions_ && progress.all_snapshots_done) {
    created_at_transactions_ = progress.transactions_applied;
  }
  seen_ = progress;
  if (!created_at_transactions_) return std::nullopt;
  const int64_t waited = progress.transactions_applied - *created_at_transactions_;
  if (waited <= bound_transactions_) return std::nullopt;
  return Violation{"checkpoint_starved",
                   "a checkpoint created " + std::to_string(waited) +
                       " applied transactions ago is still not published (the group commit "
                       "makes one durable every " +
                       std::to_string(bound_transactions_ - kSlackTransactions) +
                       " transactions; published: " +
                       (published ? "op " + std::to_string(published->op_id) + " lsn " +
                                        published->lsn.to_string()
                                  : std::string("none")) +
                       ")"};
}

}  // namespace walsim::sim
