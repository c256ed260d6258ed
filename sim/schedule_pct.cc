#include "sim/schedule_pct.h"

#include <algorithm>
#include <optional>

#include "engine/assert.h"

namespace walsim::sim {

PctPolicy::PctPolicy(uint64_t stream_seed, int depth, int64_t steps) : prng_(stream_seed) {
  WALSIM_ASSERT(depth >= 1, "PCT's depth counts the ordering constraints of a bug, at least 1");
  WALSIM_ASSERT(steps >= 1);
  for (int i = 1; i < depth; i++) change_points_.push_back(prng_.range(1, steps));
  std::sort(change_points_.begin(), change_points_.end());
}

void PctPolicy::on_add(TaskId id, TaskRole) {
  WALSIM_ASSERT(id == priorities_.size(), "slots are added in order");
  priorities_.push_back(static_cast<int64_t>(prng_.next() >> 2));  // >= 0
}

TaskId PctPolicy::highest_ready(const std::vector<uint32_t>& weights) const {
  std::optional<TaskId> best;
  for (TaskId id = 0; id < weights.size(); id++) {
    if (weights[id] == 0) continue;
    WALSIM_ASSERT(id < priorities_.size(), "a ready task was added");
    if (!best || priorities_[id] > priorities_[*best]) best = id;
  }
  WALSIM_ASSERT(best.has_value(), "the scheduler offers at least one ready task");
  return *best;
}

TaskId PctPolicy::choose(const std::vector<uint32_t>& weights) {
  if (fair_) return prng_.weighted(weights);
  picks_++;
  TaskId chosen = highest_ready(weights);
  // Several change points may fall on one pick; each lowers the task that
  // would run then.
  while (next_change_ < change_points_.size() && change_points_[next_change_] == picks_) {
    next_change_++;
    priorities_[chosen] = --lowest_;
    chosen = highest_ready(weights);
  }
  return chosen;
}

}  // namespace walsim::sim
