#include "sim/schedule_live.h"

#include <algorithm>

#include "engine/assert.h"

namespace walsim::sim {

LivePolicy::LivePolicy(uint64_t stream_seed, RunPolicyOptions options)
    : prng_(stream_seed), options_(options) {}

void LivePolicy::on_add(TaskId id, TaskRole role) {
  WALSIM_ASSERT(id == roles_engine_.size(), "slots are added in order");
  const bool engine = role == TaskRole::kStreamer || role == TaskRole::kSnapshotWorker;
  roles_engine_.push_back(engine);
  if (role == TaskRole::kStreamer) {
    // A new engine: Replicator::tasks() lists the streamer first.
    engine_slots_.clear();
    runtime_.reset();
    stepping_.reset();
  }
  if (!engine) return;
  WALSIM_ASSERT(role == TaskRole::kStreamer || !engine_slots_.empty(),
                "an engine's workers follow its streamer");
  WALSIM_ASSERT(!runtime_, "an engine's tasks are all added before its first pick");
  engine_slots_.push_back(id);
}

void LivePolicy::on_remove(TaskId id) {
  WALSIM_ASSERT(id < roles_engine_.size(), "a removed task was added");
  // A task removed in its step (done) had its result recorded first,
  // through on_step; one removed while chosen and not run (stalled, then
  // the engine stopped) never ran.
  if (stepping_ && engine_slots_[*stepping_] == id) record_unrun_pick();
}

// The pick before this one chose an engine task that did not run.
void LivePolicy::record_unrun_pick() {
  if (!stepping_) return;
  runtime_->record(*stepping_, StepResult::kIdle, 0);
  stepping_.reset();
}

std::optional<TaskId> LivePolicy::runtime_choice(const std::vector<uint32_t>& weights) {
  std::vector<bool> runnable(engine_slots_.size(), false);
  for (size_t i = 0; i < engine_slots_.size(); i++) {
    const TaskId slot = engine_slots_[i];
    runnable[i] = slot < weights.size() && weights[slot] > 0;
  }
  if (std::find(runnable.begin(), runnable.end(), true) == runnable.end()) return std::nullopt;
  if (!runtime_) runtime_.emplace(engine_slots_.size(), options_);
  std::optional<size_t> next = runtime_->next(runnable);
  if (!next) {
    // A round is over; with a task runnable, the next round steps one.
    runtime_->start_round();
    next = runtime_->next(runnable);
  }
  WALSIM_ASSERT(next.has_value(), "a new round steps a runnable task");
  WALSIM_ASSERT(runnable[*next], "RunPolicy steps only runnable tasks");
  stepping_ = *next;
  return engine_slots_[*next];
}

TaskId LivePolicy::choose(const std::vector<uint32_t>& weights) {
  if (fair_) return prng_.weighted(weights);
  if (runtime_) record_unrun_pick();
  WALSIM_ASSERT(weights.size() == roles_engine_.size(), "one weight per slot");
  // The world's tasks keep their weights; the runtime's go to one entry,
  // the last, which stands for whichever engine task RunPolicy names.
  world_weights_.assign(weights.size() + 1, 0);
  for (TaskId id = 0; id < weights.size(); id++) {
    if (roles_engine_[id]) {
      world_weights_.back() += weights[id];
    } else {
      world_weights_[id] = weights[id];
    }
  }
  const size_t drawn = prng_.weighted(world_weights_);
  if (drawn < weights.size()) return drawn;
  std::optional<TaskId> engine = runtime_choice(weights);
  WALSIM_ASSERT(engine.has_value(), "the runtime was drawn only with an engine task ready");
  return *engine;
}

void LivePolicy::on_step(TaskId id, StepResult result, int64_t cost) {
  if (fair_ || !stepping_) return;
  WALSIM_ASSERT(engine_slots_[*stepping_] == id, "the step that ran is the one chosen");
  WALSIM_ASSERT(cost >= 0);
  runtime_->record(*stepping_, result, cost);
  stepping_.reset();
}

}  // namespace walsim::sim
