// Reads a bucket store through its public API the way the model tests
// compare it: every op, the buckets a client would hold at a checkpoint,
// the checksums a client would verify, and an incremental client that
// only ever downloads the ops after its last checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/status.h"
#include "tests/engine/storage_model.h"
#include "tests/engine/storage_model_domain.h"

namespace walsim::model {

// Every op in the store, in op id order.
Result<std::vector<ModelOp>> all_ops(BucketStorage& storage);

// Each bucket reduced over its ops <= up_to_op (latest op per row wins; a
// REMOVE leaves nothing), with the test's own reduce.
Result<BucketView> reduced_view(BucketStorage& storage, int64_t up_to_op);

// For each bucket: bucket_checksum must be the wrapping sum of its ops'
// checksums. Returns a description of the first mismatch, or "".
Result<std::string> checksum_mismatch(BucketStorage& storage, int64_t up_to_op);

// The bucket totals the writers keep (bucket_totals) must be every op of
// each bucket added up: ops, checksum, newest op, and rows whose latest op
// is a PUT. Returns a description of the first mismatch, or "".
Result<std::string> totals_mismatch(BucketStorage& storage);

// A client that syncs bucket by bucket from its last checkpoint: after each
// sync it must hold what a fresh client reducing from zero holds.
class IncrementalClient {
 public:
  Status sync(BucketStorage& storage, int64_t checkpoint);
  const BucketView& view() const { return view_; }
  int64_t synced() const { return synced_; }

 private:
  BucketView view_;
  int64_t synced_ = 0;
};

}  // namespace walsim::model
