// TargetedPolicy: the weighted random choice, plus holds aimed at the
// window the soft-delete rule exists for (docs/simulation.md, "Hot keys"):
// a table copy has read a chunk and not yet written it, and the stream
// changes a row of that chunk in between. Left to chance, the stream
// rarely gets there first; this policy makes it the common case.
//
// When a snapshot worker's step reads a non-empty chunk, the policy holds
// the worker (with probability hold_percent): it is not chosen while held.
// A hold ends when
//   - the writer committed a transaction touching a row of the chunk and
//     the streamer has applied it (the window is open: the write runs next);
//   - or hold_commits_max source commits went by without touching the
//     chunk, or hold_picks_max picks passed (the window did not come);
//   - or every ready task is held (nothing else can move the world).
// The workload's hot keys (SimPostgres::recent_read_ids) already aim
// updates and deletes at the rows of the chunk last read, so the first
// condition is met often. From on_heal() on nothing is held.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/prng.h"
#include "sim/schedule_policy.h"

namespace walsim::sim {

class TargetedPolicy : public SchedulePolicy {
 public:
  TargetedPolicy(uint64_t stream_seed, const SchedulerParams& params);

  void on_add(TaskId id, TaskRole role) override;
  void on_remove(TaskId id) override { holds_.erase(id); }
  TaskId choose(const std::vector<uint32_t>& weights) override;
  void on_chunk_read(TaskId reader, size_t table, const std::vector<std::string>& ids) override;
  void on_source_commit(const CommittedKeys& committed) override;
  void on_stream_applied(Lsn commit_lsn) override;
  void on_heal() override;

  bool held(TaskId id) const { return holds_.count(id) > 0; }
  // Holds that ended with the stream's change applied: the window reached.
  int64_t windows_reached() const { return windows_reached_; }

 private:
  struct Hold {
    size_t table = 0;
    std::vector<std::string> ids;          // sorted
    std::optional<Lsn> waiting_for;        // commit LSN of a change to the chunk
    int64_t picks_left = 0;
    int commits_left = 0;
  };

  Prng prng_;
  const SchedulerParams params_;
  std::vector<TaskRole> roles_;  // per slot
  std::map<TaskId, Hold> holds_;
  std::vector<uint32_t> unheld_;  // scratch for choose()
  int64_t windows_reached_ = 0;
  bool healed_ = false;
};

}  // namespace walsim::sim
