#include "sim/bucket_view.h"

namespace walsim::sim {

namespace {

Violation read_failed(const std::string& what, const Status& status) {
  return Violation{"storage_read", what + " failed: " + status.to_string()};
}

}  // namespace

std::optional<Violation> BucketView::sync(BucketStorage& storage, int64_t up_to_op,
                                          DirtyRows* dirty) {
  if (up_to_op < synced_op_) {
    return Violation{"checkpoint_regressed", "a client synced to op " + std::to_string(synced_op_) +
                                                 " is offered op " + std::to_string(up_to_op)};
  }
  auto buckets = storage.changed_buckets(synced_op_, up_to_op);
  if (!buckets.is_ok()) return read_failed("buckets()", buckets.status());
  last_synced_.clear();
  for (const std::string& bucket : *buckets) {
    auto ops = storage.bucket_ops(bucket, synced_op_, up_to_op);
    if (!ops.is_ok()) return read_failed("bucket_ops(" + bucket + ")", ops.status());
    if (!ops->empty()) last_synced_.push_back(bucket);
    for (const StoredOp& op : *ops) {
      if (auto violation = apply(op, bucket, synced_op_, up_to_op, dirty)) return violation;
    }
  }
  synced_op_ = up_to_op;
  return std::nullopt;
}

std::optional<Violation> BucketView::apply(const StoredOp& op, const std::string& bucket,
                                           int64_t after_op, int64_t up_to_op,
                                           DirtyRows* dirty) {
  const bool in_range = op.op_id > after_op && op.op_id <= up_to_op;
  int64_t& last = last_op_[bucket];
  const bool well_formed = op.bucket == bucket && in_range && op.op_id > last &&
                           (op.kind == OpKind::kPut) == op.data.has_value();
  if (!well_formed) {
    return Violation{"malformed_ops",
                     "bucket_ops(" + bucket + ", " + std::to_string(after_op) + ", " +
                         std::to_string(up_to_op) + ") returned op " + std::to_string(op.op_id) +
                         " of bucket " + op.bucket + " kind " +
                         (op.kind == OpKind::kPut ? "PUT" : "REMOVE") +
                         (op.data ? " with data" : " without data") + " after op " +
                         std::to_string(last)};
  }
  if (observer_) {
    if (auto violation = observer_(op)) return violation;
  }
  last = op.op_id;
  checksums_[bucket] += op.checksum;
  const RowRef row{op.table, op.row_id};
  if (op.kind == OpKind::kPut) {
    put_row(buckets_, bucket, row, *op.data);
  } else {
    erase_row(buckets_, bucket, row);
  }
  if (dirty) dirty->insert({bucket, row});
  return std::nullopt;
}

void BucketView::reset() {
  buckets_.clear();
  checksums_.clear();
  last_op_.clear();
  last_synced_.clear();
  synced_op_ = 0;
}

}  // namespace walsim::sim
