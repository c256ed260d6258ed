#include "sim/sim_client.h"

#include "engine/assert.h"


namespace walsim::sim {

namespace {

// Compaction (issue 11 item 3, engine/compactor.h) rewrites ops at or below
// the published checkpoint in place: a PUT or REMOVE becomes a MOVE with the
// same checksum, and the last op of a bucket's leading run becomes a CLEAR
// (the run's sum). A power loss may take a compaction back, so either way
// round is a rewrite, as long as the op id still names the same bucket;
// the checksums a CLEAR carries are sim/compaction.h's to check.
bool rewritten_by_compaction(const StoredOp& seen, const StoredOp& now) {
  if (seen.bucket != now.bucket) return false;
  if (seen.kind == OpKind::kClear || now.kind == OpKind::kClear) return true;
  const bool moved = seen.kind == OpKind::kMove || now.kind == OpKind::kMove;
  // A MOVE keeps its op's table and row; only the data goes.
  return moved && seen.checksum == now.checksum && seen.table == now.table &&
         seen.row_id == now.row_id;
}

std::string describe_op(const StoredOp& op) {
  return std::string(op_kind_name(op.kind)) + " " + op.table + " " + op.row_id + " in " +
         op.bucket + " checksum " + std::to_string(op.checksum) + " data " +
         op.data.value_or("null");
}

}  // namespace

SimClient::SimClient(int index, uint64_t seed) : index_(index), prng_(seed) {
  view_.set_op_observer([this](const StoredOp& op) { return check_seen(op); });
}

std::optional<Violation> SimClient::check_seen(const StoredOp& op) {
  auto [seen, added] = seen_ops_.emplace(op.op_id, op);
  if (added || seen->second == op) return std::nullopt;
  if (rewritten_by_compaction(seen->second, op)) {
    seen->second = op;
    return std::nullopt;
  }
  return Violation{"client_op_changed",
                   "client " + std::to_string(index_) + " read op " + std::to_string(op.op_id) +
                       " as " + describe_op(seen->second) + ", and now as " + describe_op(op)};
}

SimClient::Outcome SimClient::step(BucketStorage& storage, const Oracle& oracle) {
  const std::optional<Checkpoint>& checkpoint = oracle.checkpoint();
  if (!checkpoint || checkpoint->op_id == view_.synced_op()) return Outcome{};
  if (synced_checkpoint_ && (checkpoint->op_id < synced_checkpoint_->op_id ||
                             checkpoint->lsn < synced_checkpoint_->lsn)) {
    return Outcome{true, Violation{"client_checkpoint_regressed",
                                   "client " + std::to_string(index_) + " synced to op " +
                                       std::to_string(synced_checkpoint_->op_id) + " lsn " +
                                       synced_checkpoint_->lsn.to_string() + ", and is now offered op " +
                                       std::to_string(checkpoint->op_id) + " lsn " +
                                       checkpoint->lsn.to_string()}};
  }
  if (oracle.checkpoints_checked() < sync_after_checkpoints_) return Outcome{};
  sync_after_checkpoints_ = oracle.checkpoints_checked() + prng_.range(1, 60);
  const bool fresh = view_.synced_op() == 0 || prng_.percent(10);
  return sync(storage, oracle, fresh);
}

SimClient::Outcome SimClient::catch_up(BucketStorage& storage, const Oracle& oracle) {
  const std::optional<Checkpoint>& checkpoint = oracle.checkpoint();
  if (!checkpoint || checkpoint->op_id == view_.synced_op()) return Outcome{};
  Outcome outcome = sync(storage, oracle, /*fresh=*/false);
  // sync() checks a sample of the buckets read; at the end, every one.
  if (outcome.violation) return outcome;
  return Outcome{true, check_checksums(storage, view_, nullptr)};
}

// To the oracle's checkpoint, which step() checked is not behind the last.
SimClient::Outcome SimClient::sync(BucketStorage& storage, const Oracle& oracle, bool fresh) {
  const std::optional<Checkpoint>& checkpoint = oracle.checkpoint();
  WALSIM_ASSERT(checkpoint.has_value(), "a client syncs to a checked checkpoint");
  if (fresh) {
    view_.reset();
    fresh_syncs_++;
  }
  syncs_++;
  const int64_t compacted_before = view_.compacted_ops_read();
  if (auto violation = view_.sync(storage, checkpoint->op_id, nullptr)) {
    return Outcome{true, violation};
  }
  // Issue 11 item 3: an incremental sync that read MOVE or CLEAR ops synced
  // across a compaction; client_convergence below holds it to what a fresh
  // client holds.
  if (!fresh && view_.compacted_ops_read() > compacted_before) syncs_across_compaction_++;
  synced_checkpoint_ = *checkpoint;
  if (auto difference = first_difference(oracle.expected().buckets(), view_.buckets(), nullptr)) {
    return Outcome{true, Violation{"client_convergence",
                                   "client " + std::to_string(index_) + " (" +
                                       (fresh ? "fresh" : "incremental") + ") at checkpoint op " +
                                       std::to_string(checkpoint->op_id) + ": " +
                                       oracle.describe(*difference)}};
  }
  return Outcome{true, check_checksums(storage, view_, &prng_)};
}

std::optional<Violation> check_checksums(BucketStorage& storage, const BucketView& view,
                                         Prng* prng) {
  std::vector<std::string> buckets = view.last_synced_buckets();
  while (prng && buckets.size() > kChecksumSample) {
    buckets.erase(buckets.begin() + static_cast<std::ptrdiff_t>(prng->below(buckets.size())));
  }
  for (const std::string& bucket : buckets) {
    const uint32_t sum = view.checksums().at(bucket);
    auto stored = storage.bucket_checksum(bucket, view.synced_op());
    if (!stored.is_ok()) {
      return Violation{"storage_read", "bucket_checksum(" + bucket + ") failed: " +
                                           stored.status().to_string()};
    }
    if (*stored != sum) {
      return Violation{"bucket_checksum",
                       "bucket " + bucket + " up to op " + std::to_string(view.synced_op()) +
                           ": stored checksum " + std::to_string(*stored) +
                           ", sum of its ops' checksums " + std::to_string(sum)};
    }
  }
  return std::nullopt;
}

}  // namespace walsim::sim
