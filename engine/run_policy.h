// RunPolicy: which engine task steps next, as plain code. Live mode's
// runtime (live/live_runtime) asks it before every step; the simulator can
// run the same policy as one of its schedules, and the unit tests drive it
// with fake tasks. It reads no clock and draws nothing: the same results in
// give the same order out.
//
// Tasks are numbered as Replicator::tasks() returns them: 0 is the
// streamer, 1..n the snapshot workers. A round gives each worker one step,
// and before each worker's step (or once, with no workers) a *streamer
// burst*: the streamer steps while it has input (its last step made
// progress), up to `streamer_burst_steps` steps:
//
//   round = burst, worker 1, burst, worker 2, ..., burst, worker n
//
// Why: a streamed change is one cheap step, a chunk write one expensive
// store transaction; one step each per round (the old runtime) let N copies
// starve the stream to tens of changes a second. The bounds it guarantees,
// which the tests check and the simulator can assert:
//
//   * no stream starvation: while the streamer is runnable, at most one
//     other task's step comes between two of its steps (the stream socket
//     is read, and status replies go out, at least once per store write),
//     and while it has input it takes at least K/(K+1) of all steps
//     (K = streamer_burst_steps);
//   * no copy starvation: every runnable worker steps once per round, and a
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
  // Steps the streamer may take in a row while it has input before the
  // next worker's turn. A chunk write costs about as much as a few hundred
  // streamed changes.
  int64_t streamer_burst_steps = 256;
};

class RunPolicy {
 public:
  static constexpr size_t kStreamer = 0;
  // While the streamer is runnable, at most this many steps of other tasks
  // come between two of its steps.
  static constexpr int64_t kOtherStepsBetweenStreamerStepsMax = 1;

  // `task_count`: the streamer and the workers (at least the streamer).
  explicit RunPolicy(size_t task_count, RunPolicyOptions options = {});

  // The task to step next, among those `runnable` says may step (one entry
  // per task), or nullopt when this round is over. The caller steps it and
  // tells record() what the step returned before asking again.
  std::optional<size_t> next(const std::vector<bool>& runnable);
  void record(size_t task, StepResult result);
  // Starts the next round (after next() said the last one is over).
  void start_round();

  // The least share of all steps the streamer gets while it is runnable and
  // has input, whatever the workers do: K/(K+1).
  double streamer_share_min() const;
  // The most steps one round can take.
  int64_t round_steps_max() const;

  size_t task_count() const { return task_count_; }
  const RunPolicyOptions& options() const { return options_; }

 private:
  size_t worker_count() const { return task_count_ - 1; }

  size_t task_count_;
  RunPolicyOptions options_;
  // The round's position: the worker whose turn follows the current burst
  // (1..n; n+1 once every worker had its turn).
  size_t next_worker_ = 1;
  int64_t burst_steps_ = 0;
  bool burst_over_ = false;
  bool round_over_ = false;
  std::optional<size_t> stepping_;  // returned by next(), not yet recorded
  StepResult streamer_last_ = StepResult::kProgress;
};

}  // namespace walsim
