#include "sim/schedule_random.h"

#include "engine/assert.h"

namespace walsim::sim {

TaskId RandomPolicy::choose(const std::vector<uint32_t>& weights) {
  const TaskId id = prng_.weighted(weights);
  WALSIM_ASSERT(weights[id] > 0, "a weighted draw picks a ready task");
  return id;
}

}  // namespace walsim::sim
