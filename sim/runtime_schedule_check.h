// RuntimeScheduleCheck: the stream is not starved by live mode's schedule.
//
// Issue 12: live mode's runtime once stepped each task once per round, so a
// chunk write came between every two streamed messages and N copies
// starved the stream to tens of changes a second. engine/run_policy.h
// states what its schedule guarantees instead; this check holds every run
// under the live schedule (ScheduleMode::kLive) to it, from the outside:
// it sees only which engine task stepped, what the step returned and cost,
// and whether the streamer was ready when the step was picked.
//
//   * gap: while the streamer is ready, at most
//     RunPolicy::kOtherStepsBetweenStreamerStepsMax snapshot-worker steps
//     come between two of its steps;
//   * share: when a worker steps while the streamer is ready and its last
//     step made progress (it has input), the streamer steps since the
//     worker step before cost at least half of streamer_cost_ratio times
//     that worker's last step that made progress (unless they reached the
//     burst cap, or the worker has been idle RunPolicy::kIdleStepsUnbusy
//     steps). Half, not all: the check may count a burst short (a pick
//     that was stalled), never long, so it asks for less than the policy
//     gives.
//
// Either broken is the violation "stream_starved". The check is told of a
// new engine (a restart) and forgets the old one's steps; it is not asked
// during healing, whose schedule is the fair random one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "engine/run_policy.h"
#include "engine/task.h"
#include "sim/schedule_policy.h"
#include "sim/violation.h"

namespace walsim::sim {

class RuntimeScheduleCheck {
 public:
  explicit RuntimeScheduleCheck(RunPolicyOptions options = {});

  // A new engine's tasks were added.
  void start_engine();
  // The streamer was picked and a task_stall fault kept it from running.
  void on_streamer_stalled();
  // An engine task stepped. `streamer_ready`: the streamer was ready when
  // this step was picked (always true for the streamer's own steps).
  std::optional<Violation> on_step(TaskId id, bool streamer, bool streamer_ready,
                                   StepResult result, int64_t cost);

 private:
  std::optional<Violation> check_worker_turn(TaskId worker, bool streamer_ready) const;

  struct WorkerState {
    std::optional<int64_t> busy_cost;  // its last step that made progress
    int64_t idle_streak = 0;
  };
  RunPolicyOptions options_;
  int64_t others_since_streamer_ = 0;  // worker steps picked while it was ready
  int64_t burst_steps_ = 0;            // streamer steps since the last worker step
  int64_t burst_cost_ = 0;
  StepResult streamer_last_ = StepResult::kProgress;
  std::map<TaskId, WorkerState> workers_;
};

}  // namespace walsim::sim
