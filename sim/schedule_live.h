// LivePolicy: live mode's own schedule inside the simulator. The engine's
// tasks (the streamer and the snapshot workers) share one thread in live
// mode, in the order engine/run_policy.h gives; this policy runs that very
// RunPolicy over the simulated tasks, so the starvation live mode once
// showed (a chunk write per streamed message, 45-75 changes/s while a
// table copied) is something a seed can produce, and the stream-starvation
// check (sim/runtime_schedule_check.h) can catch.
//
// The world around the runtime is not live mode's to order: the writer
// and the clients are other processes. So each pick first draws, by
// weight, between each ready writer or client and "the runtime" (weighted
// as its ready tasks together); when the runtime wins, RunPolicy names the
// engine task. A step's cost is what the simulation reports through
// on_step (rows the step changed in the store, plus one): the unit live
// mode measures in nanoseconds.
//
// A pick the simulation did not run (a task_stall fault delays the task
// instead) is recorded as an idle step of no cost at the next choice, as a
// stalled live thread would have found nothing. A new engine (a restart
// after a crash) adds a new streamer: its tasks get a new RunPolicy. From
// on_heal() on the choice is the weighted random one.
#pragma once

#include <optional>
#include <vector>

#include "engine/run_policy.h"
#include "sim/prng.h"
#include "sim/schedule_policy.h"

namespace walsim::sim {

class LivePolicy : public SchedulePolicy {
 public:
  explicit LivePolicy(uint64_t stream_seed, RunPolicyOptions options = {});

  void on_add(TaskId id, TaskRole role) override;
  void on_remove(TaskId id) override;
  TaskId choose(const std::vector<uint32_t>& weights) override;
  void on_step(TaskId id, StepResult result, int64_t cost) override;
  void on_heal() override { fair_ = true; }

  // The options the runtime's RunPolicy runs with (the check reads them).
  const RunPolicyOptions& options() const { return options_; }

 private:
  std::optional<TaskId> runtime_choice(const std::vector<uint32_t>& weights);
  void record_unrun_pick();

  Prng prng_;
  RunPolicyOptions options_;
  bool fair_ = false;
  // The running engine's tasks in RunPolicy's numbering (0: the streamer),
  // as slot ids; a removed task stays, never runnable again.
  std::vector<TaskId> engine_slots_;
  std::optional<RunPolicy> runtime_;  // made at the engine's first pick
  std::optional<size_t> stepping_;    // RunPolicy's choice, not yet recorded
  std::vector<bool> roles_engine_;    // per slot: an engine task
  std::vector<uint32_t> world_weights_;  // scratch for choose()
};

}  // namespace walsim::sim
