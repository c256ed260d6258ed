// Scheduler: which task advances next, single-threaded and seeded.
//
// Tasks are slots with a weight and a role (writer, streamer, snapshot
// worker, client); the role gives the group a task waits with. A task is
// ready unless it is parked (its last step found nothing to do; it stays
// out until its group is woken, which the simulation does whenever
// something changed that the group may wait for) or delayed (not before a
// time on the simulated clock). A task that keeps finding nothing to do
// backs off: after its n-th idle step in a row it also sits out
// min(2^(n-1), kBackoffMax) picks, so idle tasks woken by every step of a
// busy one cannot crowd it out; a wake that says the input changed (a
// source write, a clock jump) ends the backoff.
//
// Which ready task runs is the policy's choice (schedule_policy.h: by
// weight, PCT priorities, or holds aimed at a window); when none is ready
// the simulation moves the clock to next_timer(). Slots are kept in a
// vector and never reordered, so the choice depends only on the seed and
// the sequence of calls.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/schedule_policy.h"

namespace walsim::sim {

class Scheduler {
 public:
  using TaskId = sim::TaskId;
  // Who waits for what: engine tasks wait for the source or each other,
  // clients for a new checkpoint.
  enum Group : uint8_t { kWriter = 1, kEngine = 2, kClients = 4, kAll = 7 };
  static Group group_of(TaskRole role);

  explicit Scheduler(std::unique_ptr<SchedulePolicy> policy);
  // The weighted random choice on its own PRNG stream (tests).
  explicit Scheduler(uint64_t random_stream_seed);

  TaskId add(std::string name, uint32_t weight, TaskRole role);
  void remove(TaskId id);
  bool live(TaskId id) const { return id < slots_.size() && slots_[id].live; }
  const std::string& name(TaskId id) const { return slots_[id].name; }
  TaskRole role(TaskId id) const { return slots_[id].role; }

  static constexpr uint64_t kBackoffMax = 64;

  void park(TaskId id);
  // The task did some work: its next idle step starts a new streak.
  void reset_backoff(TaskId id) { slots_[id].idle_streak = 0; }
  // `new_input`: what the group waits for may have arrived; backoff ends.
  void wake(uint8_t groups, bool new_input);
  void delay(TaskId id, int64_t until_ms);

  std::optional<TaskId> pick(int64_t now_ms);
  // Whether `id` was ready when the last pick was made (what the policy
  // was offered then).
  bool ready_at_last_pick(TaskId id) const { return id < weights_.size() && weights_[id] > 0; }
  // The earliest time a delayed task becomes ready, if one is delayed.
  std::optional<int64_t> next_timer(int64_t now_ms) const;

  // For the run to tell the policy what happened (chunk reads, commits).
  SchedulePolicy& policy() { return *policy_; }

 private:
  struct Slot {
    std::string name;
    uint32_t weight = 1;
    TaskRole role = TaskRole::kWriter;
    Group group = kAll;
    bool live = true;
    std::optional<uint64_t> parked_at;  // the epoch it parked in
    uint64_t parked_at_pick = 0;
    uint64_t idle_streak = 0;
    int64_t delayed_until_ms = 0;
  };
  bool ready(const Slot& slot, int64_t now_ms) const;

  std::unique_ptr<SchedulePolicy> policy_;
  std::vector<Slot> slots_;
  std::array<uint64_t, 3> epochs_{};  // per group bit
  uint64_t picks_ = 0;
  std::vector<uint32_t> weights_;  // scratch for pick()
};

}  // namespace walsim::sim
