#include "sim/runtime_schedule_check.h"

#include <string>

#include "engine/assert.h"

namespace walsim::sim {

RuntimeScheduleCheck::RuntimeScheduleCheck(RunPolicyOptions options) : options_(options) {
  WALSIM_ASSERT(options_.streamer_cost_ratio >= 1);
  WALSIM_ASSERT(options_.streamer_burst_steps >= 1);
}

void RuntimeScheduleCheck::start_engine() {
  others_since_streamer_ = 0;
  burst_steps_ = 0;
  burst_cost_ = 0;
  streamer_last_ = StepResult::kProgress;
  workers_.clear();
}

// The policy gave the streamer its turn; the fault took it away (as a
// stalled live thread would have found nothing): a turn, not progress.
void RuntimeScheduleCheck::on_streamer_stalled() {
  others_since_streamer_ = 0;
  streamer_last_ = StepResult::kIdle;
}

std::optional<Violation> RuntimeScheduleCheck::check_worker_turn(TaskId worker,
                                                                 bool streamer_ready) const {
  if (!streamer_ready) return std::nullopt;
  if (others_since_streamer_ > RunPolicy::kOtherStepsBetweenStreamerStepsMax) {
    return Violation{"stream_starved",
                     std::to_string(others_since_streamer_) +
                         " snapshot-worker steps in a row while the streamer was ready (at most " +
                         std::to_string(RunPolicy::kOtherStepsBetweenStreamerStepsMax) + ")"};
  }
  if (streamer_last_ != StepResult::kProgress) return std::nullopt;
  if (burst_steps_ >= options_.streamer_burst_steps) return std::nullopt;
  auto it = workers_.find(worker);
  if (it == workers_.end() || !it->second.busy_cost) return std::nullopt;
  if (it->second.idle_streak >= RunPolicy::kIdleStepsUnbusy) return std::nullopt;
  const int64_t budget = options_.streamer_cost_ratio * *it->second.busy_cost;
  if (2 * burst_cost_ >= budget) return std::nullopt;
  return Violation{"stream_starved",
                   "the streamer had input, yet its steps before a worker's step cost " +
                       std::to_string(burst_cost_) + " in " + std::to_string(burst_steps_) +
                       " steps, under half its budget " + std::to_string(budget) +
                       " (ratio " + std::to_string(options_.streamer_cost_ratio) +
                       " x the worker's last busy step)"};
}

std::optional<Violation> RuntimeScheduleCheck::on_step(TaskId id, bool streamer,
                                                       bool streamer_ready, StepResult result,
                                                       int64_t cost) {
  WALSIM_ASSERT(cost >= 0, "a step costs something or nothing");
  WALSIM_ASSERT(!streamer || streamer_ready, "the streamer was ready when it was picked");
  if (streamer) {
    others_since_streamer_ = 0;
    burst_steps_++;
    burst_cost_ += cost;
    streamer_last_ = result;
    return std::nullopt;
  }
  if (streamer_ready) others_since_streamer_++;
  std::optional<Violation> violation = check_worker_turn(id, streamer_ready);
  burst_steps_ = 0;
  burst_cost_ = 0;
  WorkerState& state = workers_[id];
  if (result == StepResult::kProgress) {
    state = WorkerState{cost, 0};
  } else {
    state.idle_streak++;
  }
  return violation;
}

}  // namespace walsim::sim
