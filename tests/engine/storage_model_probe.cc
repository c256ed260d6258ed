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
  WALSIM_ASSIGN_OR_RETURN(auto buckets, storage.buckets(kAll));
  std::vector<ModelOp> ops;
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(auto bucket_ops, storage.bucket_ops(bucket, 0, kAll));
    for (const ModelOp& op : model_ops(bucket_ops)) ops.push_back(op);
  }
  std::sort(ops.begin(), ops.end(),
            [](const ModelOp& a, const ModelOp& b) { return a.op_id < b.op_id; });
  return ops;
}

Result<BucketView> reduced_view(BucketStorage& storage, int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(auto buckets, storage.buckets(up_to_op));
  BucketView view;
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(auto ops, storage.bucket_ops(bucket, 0, up_to_op));
    apply_ops(model_ops(ops), view);
  }
  return view;
}

Result<std::string> checksum_mismatch(BucketStorage& storage, int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(auto buckets, storage.buckets(up_to_op));
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(auto ops, storage.bucket_ops(bucket, 0, up_to_op));
    uint32_t sum = 0;
    for (const StoredOp& op : ops) sum += op.checksum;
    WALSIM_ASSIGN_OR_RETURN(auto stored, storage.bucket_checksum(bucket, up_to_op));
    if (stored != sum) {
      return "bucket " + bucket + ": bucket_checksum " + std::to_string(stored) +
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
  WALSIM_ASSIGN_OR_RETURN(auto buckets, storage.buckets(checkpoint));
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(auto ops, storage.bucket_ops(bucket, synced_, checkpoint));
    apply_ops(model_ops(ops), view_);
  }
  synced_ = checkpoint;
  return Status::ok();
}

}  // namespace walsim::model
