// RandomPolicy: each pick draws a ready task by weight, on its own. The
// scheduler's only policy before schedule modes existed; its draws are the
// same as then (the same PRNG stream, one draw per pick).
#pragma once

#include "sim/prng.h"
#include "sim/schedule_policy.h"

namespace walsim::sim {

class RandomPolicy : public SchedulePolicy {
 public:
  explicit RandomPolicy(uint64_t stream_seed) : prng_(stream_seed) {}

  void on_add(TaskId, TaskRole) override {}
  TaskId choose(const std::vector<uint32_t>& weights) override;

 private:
  Prng prng_;
};

}  // namespace walsim::sim
