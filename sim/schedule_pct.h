// PctPolicy: probabilistic concurrency testing (Burckhardt, Kothari,
// Musuvathi, Nagarakatte, ASPLOS 2010), on the scheduler's ready set.
//
// Every task gets a random priority when it is added (distinct: 62 random
// bits, ties broken by slot); the highest-priority ready task always runs.
// d-1 change points are drawn among the first k picks (d = pct_depth,
// k = pct_steps); at the i-th, the task about to run drops below every
// other task, and the pick goes to the next one. A bug that needs d
// ordering constraints is hit with probability at least 1/(n k^(d-1)).
//
// Strict priorities starve: a task runs only while every higher one is
// parked, delayed or backing off. The scheduler's readiness rules keep
// that finite (an idle task parks), and from on_heal() on the choice is
// the weighted random one, so the liveness phase runs on a fair schedule.
#pragma once

#include <vector>

#include "sim/prng.h"
#include "sim/schedule_policy.h"

namespace walsim::sim {

class PctPolicy : public SchedulePolicy {
 public:
  PctPolicy(uint64_t stream_seed, int depth, int64_t steps);

  void on_add(TaskId id, TaskRole role) override;
  TaskId choose(const std::vector<uint32_t>& weights) override;
  void on_heal() override { fair_ = true; }

  // The picks at which a change happens, ascending (for tests).
  const std::vector<int64_t>& change_points() const { return change_points_; }
  int64_t priority(TaskId id) const { return priorities_[id]; }

 private:
  // The ready task with the highest priority.
  TaskId highest_ready(const std::vector<uint32_t>& weights) const;

  Prng prng_;
  std::vector<int64_t> priorities_;     // per slot
  std::vector<int64_t> change_points_;  // pick numbers, ascending
  size_t next_change_ = 0;
  int64_t picks_ = 0;
  int64_t lowest_ = 0;  // every lowered priority is below every drawn one (>= 0)
  bool fair_ = false;
};

}  // namespace walsim::sim
