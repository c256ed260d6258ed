#include "engine/run_policy.h"

#include "engine/assert.h"
#include "engine/mutant.h"

namespace walsim {

RunPolicy::RunPolicy(size_t task_count, RunPolicyOptions options)
    : task_count_(task_count), options_(options), workers_(task_count) {
  WALSIM_ASSERT(task_count_ >= 1, "the streamer is always a task");
  WALSIM_ASSERT(options_.streamer_burst_steps >= 1, "the streamer gets a step every burst");
  WALSIM_ASSERT(options_.streamer_cost_ratio >= 1, "the stream gets at least half the time");
}

// The first step of a burst always polls the stream; later ones follow
// input, within the step cap and the cost budget.
bool RunPolicy::burst_may_go_on(const std::vector<bool>& runnable) const {
  if (!runnable[kStreamer]) return false;
  if (burst_steps_ == 0) return true;
  if (WALSIM_MUTANT("runtime_one_step_per_task")) return false;
  if (streamer_last_ != StepResult::kProgress || burst_steps_ >= burst_steps_max()) return false;
  // The budget of the worker whose turn follows, while it is busy.
  if (next_worker_ > worker_count()) return true;
  const WorkerState& next = workers_[next_worker_];
  if (!next.busy_cost || next.idle_streak >= kIdleStepsUnbusy) return true;
  return burst_cost_ < options_.streamer_cost_ratio * *next.busy_cost;
}

std::optional<size_t> RunPolicy::next(const std::vector<bool>& runnable) {
  WALSIM_ASSERT(runnable.size() == task_count_, "one entry per task");
  WALSIM_ASSERT(!stepping_, "each step is recorded before the next is chosen");
  while (!round_over_) {
    if (!burst_over_) {
      if (burst_may_go_on(runnable)) {
        stepping_ = kStreamer;
        return stepping_;
      }
      burst_over_ = true;
    }
    if (next_worker_ > worker_count()) {
      round_over_ = true;
      break;
    }
    size_t worker = next_worker_++;
    burst_over_ = false;
    burst_steps_ = 0;
    burst_cost_ = 0;
    // With workers, the round ends with the last worker's turn, so that
    // the next round's first burst follows it at once.
    if (next_worker_ > worker_count()) burst_over_ = true;
    if (runnable[worker]) {
      stepping_ = worker;
      return stepping_;
    }
  }
  return std::nullopt;
}

void RunPolicy::record(size_t task, StepResult result, int64_t cost) {
  WALSIM_ASSERT(stepping_ && *stepping_ == task, "the step recorded is the one next() chose");
  WALSIM_ASSERT(cost >= 0, "a step costs something or nothing, never less");
  stepping_.reset();
  if (task == kStreamer) {
    burst_steps_++;
    burst_cost_ += cost;
    streamer_last_ = result;
  } else if (result == StepResult::kProgress) {
    workers_[task] = WorkerState{cost, 0};
  } else {
    // Cheap, and says nothing about what copying costs: the budget stays
    // what the last busy step set, until the worker has been idle a while.
    workers_[task].idle_streak++;
  }
}

void RunPolicy::start_round() {
  WALSIM_ASSERT(round_over_, "a round starts once the last is over");
  WALSIM_ASSERT(!stepping_);
  round_over_ = false;
  next_worker_ = 1;
  burst_steps_ = 0;
  burst_cost_ = 0;
  burst_over_ = false;
}

double RunPolicy::streamer_cost_share_min() const {
  if (worker_count() == 0) return 1.0;
  double ratio = static_cast<double>(options_.streamer_cost_ratio);
  return ratio / (ratio + 1.0);
}

int64_t RunPolicy::round_steps_max() const {
  int64_t workers = static_cast<int64_t>(worker_count());
  return workers == 0 ? 1 : workers * (options_.streamer_burst_steps + 1);
}

// With no worker to make way for, a burst would only delay the runtime's
// own checks (`until`, ticks, timeouts): a round is then one step.
int64_t RunPolicy::burst_steps_max() const {
  return worker_count() == 0 ? 1 : options_.streamer_burst_steps;
}

}  // namespace walsim
