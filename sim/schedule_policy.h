// SchedulePolicy: which ready task the scheduler runs next.
//
// The Scheduler (scheduler.h) owns readiness: parked tasks, backoff of
// tasks that keep idling, delayed tasks, and the clock jump when nothing is
// ready. A policy only chooses among the tasks that are ready, so idling
// and backoff work the same under every policy, and a policy cannot make a
// task run that has nothing to do. One policy per file:
//
//   schedule_random.h    weighted random choice, each pick on its own
//   schedule_pct.h       PCT: priorities with d-1 change points
//   schedule_targeted.h  weighted random, holding a snapshot chunk's write
//                        until the stream applied a change to its keys
//   schedule_live.h      live mode's RunPolicy ordering the engine's tasks
//
// A new policy implements choose() and whichever hooks it needs, gets a ScheduleMode
// (params.h) and a case in make_schedule_policy().
//
// The liveness phase is checked under a fair schedule: once healing
// begins (on_heal), every policy must let every ready task run eventually.
// The built-in ones fall back to the weighted random choice.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "engine/task.h"
#include "sim/params.h"

namespace walsim::sim {

using TaskId = size_t;

// What a task is to the world; the scheduler's wake groups follow from it.
enum class TaskRole : uint8_t { kWriter, kStreamer, kSnapshotWorker, kClient };

// What a policy is told about one source transaction the writer committed:
// which rows it touched, as (table index, row id), in no particular order.
struct CommittedKeys {
  Lsn commit_lsn;
  std::vector<std::pair<size_t, std::string>> rows;
};

class SchedulePolicy {
 public:
  virtual ~SchedulePolicy() = default;

  // Task slots are numbered from 0 in the order they were added and never
  // reused; a removed task is never offered again.
  virtual void on_add(TaskId id, TaskRole role) = 0;
  virtual void on_remove(TaskId id) { (void)id; }

  // `weights[i]` is task i's weight if it is ready, 0 if not; at least one
  // task is ready. Returns a ready task.
  virtual TaskId choose(const std::vector<uint32_t>& weights) = 0;

  // --- what the run tells a policy that aims at windows --------------------
  // A snapshot worker's step read a chunk of `table` holding these row ids.
  virtual void on_chunk_read(TaskId reader, size_t table, const std::vector<std::string>& ids) {
    (void)reader, (void)table, (void)ids;
  }
  // The writer committed a source transaction.
  virtual void on_source_commit(const CommittedKeys& committed) { (void)committed; }
  // The streamer has applied (or skipped as applied before) every source
  // transaction with commit LSN <= `commit_lsn`.
  virtual void on_stream_applied(Lsn commit_lsn) { (void)commit_lsn; }
  // An engine task the policy chose has stepped: what the step returned,
  // and what it cost (rows it changed in the store, plus one). A policy
  // that orders the engine's tasks as live mode does learns from it.
  virtual void on_step(TaskId id, StepResult result, int64_t cost) {
    (void)id, (void)result, (void)cost;
  }
  // Faults healed and the writer stopped: from now on, be fair.
  virtual void on_heal() {}
};

// The policy `params.mode` names, seeded from the run's seed (each policy
// draws from its own stream; kRandom from the one the scheduler always
// used, so seeds that drew kRandom replay as before modes existed).
std::unique_ptr<SchedulePolicy> make_schedule_policy(const SchedulerParams& params, uint64_t seed);

}  // namespace walsim::sim
