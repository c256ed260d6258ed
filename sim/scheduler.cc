#include "sim/scheduler.h"

#include <algorithm>

#include "engine/assert.h"
#include "sim/schedule_random.h"

namespace walsim::sim {

namespace {

size_t group_index(Scheduler::Group group) {
  switch (group) {
    case Scheduler::kWriter: return 0;
    case Scheduler::kEngine: return 1;
    case Scheduler::kClients: return 2;
    case Scheduler::kAll: break;
  }
  WALSIM_ASSERT(false, "a task belongs to one group");
  return 0;
}

}  // namespace

Scheduler::Group Scheduler::group_of(TaskRole role) {
  switch (role) {
    case TaskRole::kWriter: return kWriter;
    case TaskRole::kStreamer:
    case TaskRole::kSnapshotWorker: return kEngine;
    case TaskRole::kClient: return kClients;
  }
  WALSIM_ASSERT(false, "every role waits in a group");
  return kAll;
}

Scheduler::Scheduler(std::unique_ptr<SchedulePolicy> policy) : policy_(std::move(policy)) {
  WALSIM_ASSERT(policy_ != nullptr, "a scheduler needs a policy");
}

Scheduler::Scheduler(uint64_t random_stream_seed)
    : Scheduler(std::make_unique<RandomPolicy>(random_stream_seed)) {}

Scheduler::TaskId Scheduler::add(std::string name, uint32_t weight, TaskRole role) {
  WALSIM_ASSERT(weight > 0);
  Slot slot;
  slot.name = std::move(name);
  slot.weight = weight;
  slot.role = role;
  slot.group = group_of(role);
  group_index(slot.group);
  slots_.push_back(std::move(slot));
  policy_->on_add(slots_.size() - 1, role);
  return slots_.size() - 1;
}

void Scheduler::remove(TaskId id) {
  WALSIM_ASSERT(live(id));
  slots_[id].live = false;
  policy_->on_remove(id);
}

void Scheduler::park(TaskId id) {
  WALSIM_ASSERT(live(id));
  Slot& slot = slots_[id];
  slot.parked_at = epochs_[group_index(slot.group)];
  slot.parked_at_pick = picks_;
  slot.idle_streak++;
}

void Scheduler::wake(uint8_t groups, bool new_input) {
  for (size_t i = 0; i < epochs_.size(); i++) {
    if (groups & (1u << i)) epochs_[i]++;
  }
  if (!new_input) return;
  for (Slot& slot : slots_) {
    if (groups & slot.group) slot.idle_streak = 0;
  }
}

void Scheduler::delay(TaskId id, int64_t until_ms) {
  WALSIM_ASSERT(live(id));
  slots_[id].delayed_until_ms = until_ms;
}

bool Scheduler::ready(const Slot& slot, int64_t now_ms) const {
  if (!slot.live || slot.delayed_until_ms > now_ms) return false;
  if (!slot.parked_at) return true;
  if (*slot.parked_at >= epochs_[group_index(slot.group)]) return false;
  const uint64_t backoff =
      slot.idle_streak == 0 ? 0 : std::min(uint64_t{1} << std::min<uint64_t>(slot.idle_streak - 1, 16), kBackoffMax);
  return picks_ - slot.parked_at_pick >= backoff;
}

std::optional<Scheduler::TaskId> Scheduler::pick(int64_t now_ms) {
  weights_.assign(slots_.size(), 0);
  bool any = false;
  for (size_t i = 0; i < slots_.size(); i++) {
    if (!ready(slots_[i], now_ms)) continue;
    weights_[i] = slots_[i].weight;
    any = true;
  }
  if (!any) return std::nullopt;
  const TaskId id = policy_->choose(weights_);
  WALSIM_ASSERT(id < slots_.size() && weights_[id] > 0, "the policy chooses a ready task");
  slots_[id].parked_at.reset();
  picks_++;
  return id;
}

std::optional<int64_t> Scheduler::next_timer(int64_t now_ms) const {
  std::optional<int64_t> earliest;
  for (const Slot& slot : slots_) {
    if (!slot.live || slot.delayed_until_ms <= now_ms) continue;
    if (!earliest || slot.delayed_until_ms < *earliest) earliest = slot.delayed_until_ms;
  }
  return earliest;
}

}  // namespace walsim::sim
