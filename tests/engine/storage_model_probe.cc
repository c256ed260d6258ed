#include "tests/engine/storage_model_probe.h"

#include <algorithm>
#include <limits>
#include <map>

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

Result<std::string> totals_mismatch(BucketStorage& storage) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<ModelOp> ops, all_ops(storage));
  std::map<std::string, BucketTotals> expected;
  std::map<std::pair<std::string, RowRef>, OpKind> latest;
  for (const ModelOp& op : ops) {
    BucketTotals& totals = expected[op.bucket];
    totals.bucket = op.bucket;
    totals.ops++;
    totals.checksum += op_checksum(op.kind, op.bucket, op.table, op.row_id, op.data);
    totals.last_op_id = op.op_id;
    latest[{op.bucket, {op.table, op.row_id}}] = op.kind;
  }
  for (const auto& [row, kind] : latest) expected[row.first].rows += kind == OpKind::kPut;
  WALSIM_ASSIGN_OR_RETURN(std::vector<BucketTotals> stored, storage.bucket_totals());
  if (stored.size() != expected.size()) {
    return "bucket_totals has " + std::to_string(stored.size()) + " buckets, the ops name " +
           std::to_string(expected.size());
  }
  for (const BucketTotals& totals : stored) {
    const BucketTotals& want = expected[totals.bucket];
    if (!(totals == want)) {
      return "bucket " + totals.bucket + ": totals ops=" + std::to_string(totals.ops) +
             " rows=" + std::to_string(totals.rows) + " checksum=" +
             std::to_string(totals.checksum) + " last_op=" + std::to_string(totals.last_op_id) +
             ", its ops give ops=" + std::to_string(want.ops) + " rows=" +
             std::to_string(want.rows) + " checksum=" + std::to_string(want.checksum) +
             " last_op=" + std::to_string(want.last_op_id);
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
