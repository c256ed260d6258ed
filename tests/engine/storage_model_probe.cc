#include "tests/engine/storage_model_probe.h"

#include <algorithm>
#include <limits>

namespace walsim::model {
namespace {

ModelOp model_op(const StoredOp& op) {
  return {op.op_id, op.bucket, op.kind, op.table, op.row_id, op.data};
}

std::vector<ModelOp> model_ops(const std::vector<StoredOp>& ops) {
  std::vector<ModelOp> converted;
  for (const StoredOp& op : ops) converted.push_back(model_op(op));
  return converted;
}

}  // namespace

Result<std::vector<ModelOp>> all_ops(BucketStorage& storage) {
  constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
  auto buckets = storage.buckets(kAll);
  if (!buckets.is_ok()) return buckets.status();
  std::vector<ModelOp> ops;
  for (const std::string& bucket : *buckets) {
    auto bucket_ops = storage.bucket_ops(bucket, 0, kAll);
    if (!bucket_ops.is_ok()) return bucket_ops.status();
    for (const ModelOp& op : model_ops(*bucket_ops)) ops.push_back(op);
  }
  std::sort(ops.begin(), ops.end(),
            [](const ModelOp& a, const ModelOp& b) { return a.op_id < b.op_id; });
  return ops;
}

Result<BucketView> reduced_view(BucketStorage& storage, int64_t up_to_op) {
  auto buckets = storage.buckets(up_to_op);
  if (!buckets.is_ok()) return buckets.status();
  BucketView view;
  for (const std::string& bucket : *buckets) {
    auto ops = storage.bucket_ops(bucket, 0, up_to_op);
    if (!ops.is_ok()) return ops.status();
    apply_ops(model_ops(*ops), view);
  }
  return view;
}

Result<std::string> checksum_mismatch(BucketStorage& storage, int64_t up_to_op) {
  auto buckets = storage.buckets(up_to_op);
  if (!buckets.is_ok()) return buckets.status();
  for (const std::string& bucket : *buckets) {
    auto ops = storage.bucket_ops(bucket, 0, up_to_op);
    if (!ops.is_ok()) return ops.status();
    uint32_t sum = 0;
    for (const StoredOp& op : *ops) sum += op.checksum;
    auto stored = storage.bucket_checksum(bucket, up_to_op);
    if (!stored.is_ok()) return stored.status();
    if (*stored != sum) {
      return "bucket " + bucket + ": bucket_checksum " + std::to_string(*stored) +
             " but its ops sum to " + std::to_string(sum);
    }
  }
  return std::string();
}

Status IncrementalClient::sync(BucketStorage& storage, int64_t checkpoint) {
  if (checkpoint < synced_) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the checkpoint went back from op " + std::to_string(synced_) + " to " +
                      std::to_string(checkpoint));
  }
  auto buckets = storage.buckets(checkpoint);
  if (!buckets.is_ok()) return buckets.status();
  for (const std::string& bucket : *buckets) {
    auto ops = storage.bucket_ops(bucket, synced_, checkpoint);
    if (!ops.is_ok()) return ops.status();
    apply_ops(model_ops(*ops), view_);
  }
  synced_ = checkpoint;
  return Status::ok();
}

}  // namespace walsim::model
