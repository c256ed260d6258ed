// SimCompaction: the engine's compaction at random points of a run (issue 11
// item 3; fault kind `compaction`), run the way replicate's background task
// would run it: on the engine's own storage, between two task steps, with
// every fault on (each bucket is one write transaction; a crash or power
// loss at any disk I/O may cut it short).
//
// Invariants, checked after every compaction that the process survived:
//   compaction_checksum  every bucket's checksum at the published checkpoint
//                        (what a client verifies there), and over all its
//                        ops (its totals: every later checkpoint starts
//                        from that sum), is what it was before.
//   compaction_content   a fresh client synced to the published checkpoint
//                        after compaction holds what the oracle holds there,
//                        with checksums that add up to the store's.
// and, from then on, by the clients (sim/sim_client.h): one that synced
// incrementally across compactions holds what a fresh client holds
// (client_convergence), and the final fresh read (final_state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/bucket_storage.h"
#include "sim/oracle.h"
#include "sim/violation.h"

namespace walsim::sim {

class SimCompaction {
 public:
  // What compaction must not change, read before it runs.
  struct Before {
    int64_t checkpoint_op = 0;                      // the published checkpoint
    std::map<std::string, uint32_t> at_checkpoint;  // per bucket, its checksum there
    std::map<std::string, uint32_t> totals;         // per bucket, over all its ops
  };
  // nullopt when nothing is published (there is nothing to compact).
  std::optional<Violation> record(BucketStorage& storage, std::optional<Before>* before);
  std::optional<Violation> check(BucketStorage& storage, const Before& before,
                                 const Oracle& oracle);

  // One compaction ran (whole or cut short by `status`); returns its trace line.
  std::string count(const Result<CompactionStats>& stats);

  int64_t runs() const { return runs_; }
  int64_t ops_moved() const { return ops_moved_; }
  int64_t ops_deleted() const { return ops_deleted_; }

 private:
  int64_t runs_ = 0;
  int64_t failed_ = 0;
  int64_t ops_moved_ = 0;
  int64_t ops_deleted_ = 0;
};

}  // namespace walsim::sim
