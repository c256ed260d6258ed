// LiveRuntime: runs the engine's tasks against a real source, in one thread.
//
// Which task steps next is RunPolicy's choice (engine/run_policy.h): a
// round is a streamer burst (while it has input, for up to `ratio` times
// the time of the worker step before it) before each worker's one step, so
// chunk writes cannot starve the stream nor a busy stream the copies. Every engine task runs on
// this thread, so the store has one writer; source reads run on the
// readers' own threads (live/threaded_table_reader.h) and never block it.
// When a round made no progress, the runtime waits in poll() on the
// replication socket and the readers' wakeup fd (or until a backoff ends)
// instead of spinning. After every step it checks the stop flag, so a stop
// always lands on a step boundary, where committed storage is consistent by
// design. After every round (at most n*(K+1) steps, see RunPolicy) it
// checks `until` and lets the stream send its periodic status update,
// whatever the tasks are doing.
//
// Retries: the engine repeats a step that failed with a retryable error
// (kIoError, kBusy) or reconnects a dropped stream, and counts it in
// ReplicatorProgress. The runtime sees the count move during a step and
// holds that task back, doubling the pause while it keeps failing: a source
// that is down or a slot still held by a dying server process is retried
// calmly instead of in a tight loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/replicator.h"
#include "engine/run_policy.h"
#include "engine/task.h"
#include "live/wall_clock.h"

namespace walsim::live {

struct LiveRuntimeOptions {
  int64_t poll_timeout_ms = 100;      // longest wait for the socket when idle
  int64_t ping_interval_ms = 10'000;  // ping this often while no transaction arrives
  int64_t backoff_initial_ms = 50;
  int64_t backoff_max_ms = 5'000;
  int64_t tick_interval_ms = 1'000;   // how often RunControl::on_tick runs
  RunPolicyOptions policy;            // the streamer's bursts: step cap, time ratio
};

// The runtime's view of the source, beyond the tasks themselves.
struct RuntimeIo {
  std::function<int()> stream_socket;  // -1 while no stream is open
  std::function<void()> ping;          // may fail quietly; retried next interval
  // Runs when the last table copy has finished (each time it happens),
  // before the streamer's next step: the moment checkpoints may resume.
  std::function<void()> snapshots_done;
  // Readable when a table reader has an answer (-1 or unset: none), and
  // how to make it unreadable again before the next round.
  std::function<int()> wakeup_socket;
  std::function<void()> drain_wakeup;
  // After every round: the stream's periodic status update, if due.
  std::function<void()> keep_stream_alive;
};

struct RunControl {
  const std::atomic<bool>* stop = nullptr;  // checked after every step
  std::function<bool()> until;              // checked after every round
  std::function<void()> on_tick;            // progress displays
  int64_t timeout_ms = 0;                   // 0: no limit
};

enum class RunOutcome {
  kStopped,   // the stop flag was set
  kReached,   // `until` returned true
  kTimedOut,  // timeout_ms passed
  kFailed,    // a task failed; see the replicator's fatal_error()
};

class LiveRuntime {
 public:
  // `progress` and `fatal_error` are the replicator's, read after each step.
  LiveRuntime(std::vector<Task*> tasks, const ReplicatorProgress& progress,
              const Status& fatal_error, RuntimeIo io, LiveRuntimeOptions options = {});
  LiveRuntime(Replicator& replicator, RuntimeIo io, LiveRuntimeOptions options = {})
      : LiveRuntime(replicator.tasks(), replicator.progress(), replicator.fatal_error(),
                    std::move(io), options) {}

  RunOutcome run(const RunControl& control);

 private:
  struct TaskState {
    Task* task;
    int failures = 0;        // consecutive steps that retried
    int64_t resume_at = 0;   // steady ms; held back until then
    bool done = false;
  };

  // One round of the policy over the tasks not held back. True when any
  // step progressed. Ends early, mid-round, on a stop or a failure; the
  // next call goes on with the same round.
  bool step_round(const RunControl& control, bool& failed);
  void after_step(TaskState& state, StepResult result, int64_t retries_before);
  int64_t retry_count() const;
  void wait(int64_t now);
  void after_round(int64_t now);
  void maybe_ping(int64_t now);

  std::vector<TaskState> tasks_;
  RunPolicy policy_;
  std::vector<bool> runnable_;  // scratch for the policy
  const ReplicatorProgress& progress_;
  const Status& fatal_error_;
  RuntimeIo io_;
  LiveRuntimeOptions options_;
  SteadyClock clock_;
  int64_t last_transactions_ = -1;
  bool snapshots_were_done_ = false;
  bool ping_due_ = false;
  int64_t last_activity_ms_ = 0;
  int64_t last_ping_ms_ = 0;
};

}  // namespace walsim::live
