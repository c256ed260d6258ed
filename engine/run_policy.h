// RunPolicy: which engine task steps next, as plain code. Live mode's
// runtime (live/live_runtime) asks it before every step; the simulator can
// run the same policy as one of its schedules, and the unit tests drive it
// with fake tasks. It reads no clock and draws nothing: the same results
// and costs in give the same order out (live passes each step's duration
// as its cost; a simulator may pass 1, or a modelled cost).
//
// Tasks are numbered as Replicator::tasks() returns them: 0 is the
// streamer, 1..n the snapshot workers. A round gives each worker one step,
// and before each worker's step a *streamer burst*: the streamer steps
// while it has input (its last step made progress), at most
// `streamer_burst_steps` steps, and, while the worker whose turn follows is
// busy, until the burst has cost `streamer_cost_ratio` times that worker's
// last step that made progress (with no workers, a round is one step):
//
//   round = burst, worker 1, burst, worker 2, ..., burst, worker n
//
// Why: a streamed change is one cheap step, a chunk write one expensive
// store transaction. One step each per round (the old runtime) let N
// copies starve the stream to tens of changes a second; bursts counted in
// steps alone would let a fast writer starve the copies instead. Bursts
// measured in cost split the store writer's time (the one thread all tasks
// run on) when both sides have work: about ratio/(ratio+1) to the stream,
// the rest to the copies. A side with nothing to do leaves its time to the
// other: a worker is busy unless its last kIdleStepsUnbusy steps were idle.
// A busy worker waiting on a read costs the stream nothing but a cheap
// step per burst; a worker with nothing left to copy (or stuck behind a
// lock) stops bounding the bursts, so its budget, perhaps set by a cheap
// start-up step, does not cut the stream into tiny bursts for good. The bounds, which the tests check and
// a simulator can assert:
//
//   * no stream starvation: while the streamer is runnable, at most one
//     other task's step comes between two of its steps (the stream socket
//     is read, and status replies go out, at least once per store write);
//     while it has input, each burst lasts until it cost ratio times the
//     worker step before it (or K steps), so the stream gets at least
//     ratio/(ratio+1) of the time the two spend, less the K cap;
//   * no copy starvation: every runnable worker steps once per round; a
//     burst ends at most one streamer step past its cost budget, and a
//     round has at most n*(K+1) steps.
//
// A task that is not runnable (held back in a retry pause, or done) is
// skipped: its turn passes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/task.h"

namespace walsim {

struct RunPolicyOptions {
  // The most steps a burst may take (bounds a worker's wait in steps).
  int64_t streamer_burst_steps = 1024;
  // A burst may cost this many times the last worker step: the stream's
  // share of a busy store writer is about ratio/(ratio+1) (4: 80%).
  int64_t streamer_cost_ratio = 4;
};

class RunPolicy {
 public:
  static constexpr size_t kStreamer = 0;
  // While the streamer is runnable, at most this many steps of other tasks
  // come between two of its steps.
  static constexpr int64_t kOtherStepsBetweenStreamerStepsMax = 1;
  // A worker whose last this-many steps were idle sets no budget.
  static constexpr int64_t kIdleStepsUnbusy = 16;

  // `task_count`: the streamer and the workers (at least the streamer).
  explicit RunPolicy(size_t task_count, RunPolicyOptions options = {});

  // The task to step next, among those `runnable` says may step (one entry
  // per task), or nullopt when this round is over. The caller steps it and
  // tells record() what the step returned, and what it cost (any unit, the
  // same for every task; at least 0), before asking again.
  std::optional<size_t> next(const std::vector<bool>& runnable);
  void record(size_t task, StepResult result, int64_t cost = 1);
  // Starts the next round (after next() said the last one is over).
  void start_round();

  // The least share of the cost the streamer gets while it has input and
  // the workers have work, when bursts end on cost rather than the step
  // cap: ratio/(ratio+1).
  double streamer_cost_share_min() const;
  // The most steps one round can take.
  int64_t round_steps_max() const;

  size_t task_count() const { return task_count_; }
  const RunPolicyOptions& options() const { return options_; }

 private:
  size_t worker_count() const { return task_count_ - 1; }
  int64_t burst_steps_max() const;
  bool burst_may_go_on(const std::vector<bool>& runnable) const;

  size_t task_count_;
  RunPolicyOptions options_;
  // The round's position: the worker whose turn follows the current burst
  // (1..n; n+1 once every worker had its turn).
  size_t next_worker_ = 1;
  int64_t burst_steps_ = 0;
  int64_t burst_cost_ = 0;
  bool burst_over_ = false;
  bool round_over_ = false;
  std::optional<size_t> stepping_;  // returned by next(), not yet recorded
  StepResult streamer_last_ = StepResult::kProgress;
  struct WorkerState {
    std::optional<int64_t> busy_cost;  // its last step that made progress
    int64_t idle_streak = 0;           // idle steps since
  };
  std::vector<WorkerState> workers_;  // index 0 unused (the streamer)
};

}  // namespace walsim
