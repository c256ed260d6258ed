#include "sim/bucket_view.h"

#include "sim/oracle_checksum.h"

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
    if (ops->empty()) continue;
    last_synced_.push_back(bucket);
    if (auto violation = apply(*ops, bucket, synced_op_, up_to_op, dirty)) return violation;
  }
  synced_op_ = up_to_op;
  return std::nullopt;
}

// One bucket's new ops, in the order read. The bucket's entries are looked
// up once for the batch, and each op's strings move into the view.
std::optional<Violation> BucketView::apply(std::vector<StoredOp>& ops, const std::string& bucket,
                                           int64_t after_op, int64_t up_to_op,
                                           DirtyRows* dirty) {
  int64_t& last = last_op_[bucket];
  uint32_t& checksum = checksums_[bucket];
  auto rows = buckets_.try_emplace(bucket).first;
  std::optional<Violation> violation;
  for (StoredOp& op : ops) {
    const bool in_range = op.op_id > after_op && op.op_id <= up_to_op;
    const bool well_formed = op.bucket == bucket && in_range && op.op_id > last &&
                             (op.kind == OpKind::kPut) == op.data.has_value();
    if (!well_formed) {
      violation = Violation{"malformed_ops",
                            "bucket_ops(" + bucket + ", " + std::to_string(after_op) + ", " +
                                std::to_string(up_to_op) + ") returned op " +
                                std::to_string(op.op_id) + " of bucket " + op.bucket + " kind " +
                                op_kind_name(op.kind) +
                                (op.data ? " with data" : " without data") + " after op " +
                                std::to_string(last)};
      break;
    }
    // The oracle's own checksum of what it read, not the stored column: a
    // stored checksum that does not match its op's data is caught here, and
    // the sum the store's bucket_checksum is held to is the oracle's.
    // Issue 11 item 3: a MOVE or CLEAR (compaction) has no fields to
    // recompute from; its stored checksum is what the op it replaced had,
    // which sim/compaction.h holds to the sums from before compaction.
    const bool compacted = op.kind == OpKind::kMove || op.kind == OpKind::kClear;
    const uint32_t own =
        compacted ? op.checksum
                  : oracle_op_checksum(op.kind == OpKind::kPut, op.bucket, op.table, op.row_id,
                                       op.data);
    if (own != op.checksum) {
      violation = Violation{"op_checksum", "op " + std::to_string(op.op_id) + " of bucket " +
                                               bucket + ": stored checksum " +
                                               std::to_string(op.checksum) +
                                               ", its fields' checksum " + std::to_string(own)};
      break;
    }
    if (observer_) {
      violation = observer_(op);
      if (violation) break;
    }
    last = op.op_id;
    if (compacted) compacted_ops_read_++;
    // Issue 11 item 3: a MOVE changes no row (a later op of its row
    // follows); a CLEAR drops every row before it and its checksum is the
    // sum of every op it replaced, so it replaces the bucket's sum.
    if (op.kind == OpKind::kMove) {
      checksum += own;
      continue;
    }
    if (op.kind == OpKind::kClear) {
      for (const auto& [row, data] : rows->second) {
        if (dirty) dirty->insert({bucket, row});
      }
      rows->second.clear();
      checksum = own;
      continue;
    }
    checksum += own;
    RowRef row{std::move(op.table), std::move(op.row_id)};
    if (op.kind == OpKind::kPut) {
      rows->second.insert_or_assign(row, std::move(*op.data));
    } else {
      rows->second.erase(row);
    }
    if (dirty) dirty->insert({bucket, std::move(row)});
  }
  if (rows->second.empty()) buckets_.erase(rows);  // empty buckets are not kept
  return violation;
}

void BucketView::reset() {
  buckets_.clear();
  checksums_.clear();
  last_op_.clear();
  last_synced_.clear();
  synced_op_ = 0;
}

}  // namespace walsim::sim
