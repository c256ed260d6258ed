#include "sim/compaction.h"

#include "sim/sim_client.h"

namespace walsim::sim {

namespace {

Violation read_failed(const std::string& what, const Status& status) {
  return Violation{"storage_read", what + " failed: " + status.to_string()};
}

}  // namespace

std::optional<Violation> SimCompaction::record(BucketStorage& storage,
                                               std::optional<Before>* before) {
  before->reset();
  auto published = storage.checkpoint();
  if (!published.is_ok()) return read_failed("checkpoint()", published.status());
  if (!*published) return std::nullopt;
  Before recorded;
  recorded.checkpoint_op = (*published)->op_id;
  auto totals = storage.bucket_totals();
  if (!totals.is_ok()) return read_failed("bucket_totals()", totals.status());
  for (const BucketTotals& bucket : *totals) {
    recorded.totals[bucket.bucket] = bucket.checksum;
    auto checksum = storage.bucket_checksum(bucket.bucket, recorded.checkpoint_op);
    if (!checksum.is_ok()) return read_failed("bucket_checksum()", checksum.status());
    recorded.at_checkpoint[bucket.bucket] = *checksum;
  }
  *before = std::move(recorded);
  return std::nullopt;
}

std::optional<Violation> SimCompaction::check(BucketStorage& storage, const Before& before,
                                              const Oracle& oracle) {
  auto totals = storage.bucket_totals();
  if (!totals.is_ok()) return read_failed("bucket_totals()", totals.status());
  std::map<std::string, uint32_t> after_totals;
  for (const BucketTotals& bucket : *totals) after_totals[bucket.bucket] = bucket.checksum;
  if (after_totals != before.totals) {
    return Violation{"compaction_checksum",
                     "the buckets' checksums over all their ops changed in compaction up to op " +
                         std::to_string(before.checkpoint_op) + " (" +
                         std::to_string(before.totals.size()) + " buckets before, " +
                         std::to_string(after_totals.size()) + " after)"};
  }
  for (const auto& [bucket, expected] : before.at_checkpoint) {
    auto checksum = storage.bucket_checksum(bucket, before.checkpoint_op);
    if (!checksum.is_ok()) return read_failed("bucket_checksum()", checksum.status());
    if (*checksum == expected) continue;
    return Violation{"compaction_checksum",
                     "bucket " + bucket + " at the published checkpoint op " +
                         std::to_string(before.checkpoint_op) + ": checksum " +
                         std::to_string(expected) + " before compaction, " +
                         std::to_string(*checksum) + " after"};
  }
  // The oracle checked this checkpoint; a fresh client must hold the same.
  if (!oracle.checkpoint() || oracle.checkpoint()->op_id != before.checkpoint_op) {
    return std::nullopt;
  }
  BucketView fresh;
  if (auto violation = fresh.sync(storage, before.checkpoint_op, nullptr)) return violation;
  if (auto difference = first_difference(oracle.expected().buckets(), fresh.buckets(), nullptr)) {
    return Violation{"compaction_content", "a fresh client after compaction, at checkpoint op " +
                                               std::to_string(before.checkpoint_op) + ": " +
                                               oracle.describe(*difference)};
  }
  return check_checksums(storage, fresh, nullptr);
}

std::string SimCompaction::count(const Result<CompactionStats>& stats) {
  runs_++;
  if (!stats.is_ok()) {
    failed_++;
    return "compaction failed: " + stats.status().to_string();
  }
  ops_moved_ += stats->ops_moved;
  ops_deleted_ += stats->ops_deleted;
  return "compaction up_to_op=" + std::to_string(stats->bound_op) +
         " buckets=" + std::to_string(stats->buckets_done) +
         " moved=" + std::to_string(stats->ops_moved) +
         " deleted=" + std::to_string(stats->ops_deleted) +
         " clears=" + std::to_string(stats->clears) + " runs=" + std::to_string(runs_) +
         " failed=" + std::to_string(failed_) + " moved_total=" + std::to_string(ops_moved_);
}

}  // namespace walsim::sim
