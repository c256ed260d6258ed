// BucketView: what a client holds after syncing, built the way a client
// builds it: read each bucket's ops up to a published checkpoint through
// the store's read API and keep the latest op per row (a PUT holds the row,
// a REMOVE drops it, a MOVE changes no row, a CLEAR drops every row before
// it: the two ops compaction leaves, issue 11 item 3). Incremental: a later sync reads only the ops after
// the last one. The oracle keeps one synced to every checkpoint; simulated
// clients keep their own, synced at random moments, sometimes from zero.
//
// The reduce here is the simulator's own; it does not call the engine's.
//
// Which buckets have new ops comes from BucketStorage::changed_buckets()
// (a range read on the op id); the ops themselves from bucket_ops().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "sim/bucket_state.h"
#include "sim/violation.h"

namespace walsim::sim {

class BucketView {
 public:
  // Reads and applies the ops in (synced_op, up_to_op] of every bucket;
  // adds each row it touches to `dirty` (may be null).
  std::optional<Violation> sync(BucketStorage& storage, int64_t up_to_op, DirtyRows* dirty);

  const BucketMap& buckets() const { return buckets_; }
  int64_t synced_op() const { return synced_op_; }
  // Sum of the checksums of every op read for `bucket`, wrapping 32-bit.
  const std::map<std::string, uint32_t>& checksums() const { return checksums_; }
  // Buckets the last sync read at least one op of.
  const std::vector<std::string>& last_synced_buckets() const { return last_synced_; }
  // MOVE and CLEAR ops read so far (issue 11 item 3): a sync across a
  // compaction reads some.
  int64_t compacted_ops_read() const { return compacted_ops_read_; }
  // Forget everything: the next sync reads from op 0, as a fresh client.
  void reset();
  // Called with every op a sync reads, before it is applied; a violation it
  // returns ends the sync. Kept across reset().
  using OpObserver = std::function<std::optional<Violation>(const StoredOp&)>;
  void set_op_observer(OpObserver observer) { observer_ = std::move(observer); }

 private:
  std::optional<Violation> apply(std::vector<StoredOp>& ops, const std::string& bucket,
                                 int64_t after_op, int64_t up_to_op, DirtyRows* dirty);

  BucketMap buckets_;
  std::map<std::string, uint32_t> checksums_;
  std::map<std::string, int64_t> last_op_;  // per bucket, to check op order
  std::vector<std::string> last_synced_;
  int64_t synced_op_ = 0;
  int64_t compacted_ops_read_ = 0;  // kept across reset()
  OpObserver observer_;
};

}  // namespace walsim::sim
