#include "engine/run_policy.h"

#include "engine/assert.h"

namespace walsim {

RunPolicy::RunPolicy(size_t task_count, RunPolicyOptions options)
    : task_count_(task_count), options_(options) {
  WALSIM_ASSERT(task_count_ >= 1, "the streamer is always a task");
  WALSIM_ASSERT(options_.streamer_burst_steps >= 1, "the streamer gets a step every burst");
}

std::optional<size_t> RunPolicy::next(const std::vector<bool>& runnable) {
  WALSIM_ASSERT(runnable.size() == task_count_, "one entry per task");
  WALSIM_ASSERT(!stepping_, "each step is recorded before the next is chosen");
  while (!round_over_) {
    if (!burst_over_) {
      // The first step of a burst polls the stream; later ones follow input.
      bool has_input = burst_steps_ == 0 || streamer_last_ == StepResult::kProgress;
      if (runnable[kStreamer] && has_input && burst_steps_ < options_.streamer_burst_steps) {
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

void RunPolicy::record(size_t task, StepResult result) {
  WALSIM_ASSERT(stepping_ && *stepping_ == task, "the step recorded is the one next() chose");
  stepping_.reset();
  if (task == kStreamer) {
    burst_steps_++;
    streamer_last_ = result;
  }
}

void RunPolicy::start_round() {
  WALSIM_ASSERT(round_over_, "a round starts once the last is over");
  WALSIM_ASSERT(!stepping_);
  round_over_ = false;
  next_worker_ = 1;
  burst_steps_ = 0;
  burst_over_ = false;
}

double RunPolicy::streamer_share_min() const {
  double burst = static_cast<double>(options_.streamer_burst_steps);
  return worker_count() == 0 ? 1.0 : burst / (burst + 1.0);
}

int64_t RunPolicy::round_steps_max() const {
  int64_t workers = static_cast<int64_t>(worker_count());
  return workers == 0 ? options_.streamer_burst_steps
                      : workers * (options_.streamer_burst_steps + 1);
}

}  // namespace walsim
