#include "live/live_runtime.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace walsim::live {

namespace {

bool stop_requested(const RunControl& control) {
  return control.stop != nullptr && control.stop->load(std::memory_order_relaxed);
}

}  // namespace

LiveRuntime::LiveRuntime(std::vector<Task*> tasks, const ReplicatorProgress& progress,
                         const Status& fatal_error, RuntimeIo io, LiveRuntimeOptions options)
    : policy_(tasks.size(), options.policy),
      progress_(progress),
      fatal_error_(fatal_error),
      io_(std::move(io)),
      options_(options) {
  // A zero backoff would retry a failing source in a tight loop, which is
  // what the backoff exists to prevent.
  WALSIM_ASSERT(options_.backoff_initial_ms > 0 &&
                options_.backoff_initial_ms <= options_.backoff_max_ms);
  WALSIM_ASSERT(options_.poll_timeout_ms >= 0 && options_.tick_interval_ms > 0);
  for (Task* task : tasks) {
    WALSIM_ASSERT(task != nullptr);
    tasks_.push_back(TaskState{task});
  }
}

RunOutcome LiveRuntime::run(const RunControl& control) {
  int64_t start = clock_.now_ms();
  int64_t next_tick = start + options_.tick_interval_ms;
  last_activity_ms_ = last_ping_ms_ = start;
  for (;;) {
    if (stop_requested(control)) return RunOutcome::kStopped;
    bool failed = false;
    bool progressed = step_round(control, failed);
    if (failed) return RunOutcome::kFailed;
    if (stop_requested(control)) return RunOutcome::kStopped;
    if (control.until && control.until()) return RunOutcome::kReached;
    int64_t now = clock_.now_ms();
    if (control.timeout_ms > 0 && now - start >= control.timeout_ms) return RunOutcome::kTimedOut;
    if (control.on_tick && now >= next_tick) {
      control.on_tick();
      next_tick = now + options_.tick_interval_ms;
    }
    after_round(now);
    if (!progressed) wait(now);
  }
}

bool LiveRuntime::step_round(const RunControl& control, bool& failed) {
  bool progressed = false;
  runnable_.resize(tasks_.size());
  for (;;) {
    int64_t now = clock_.now_ms();
    for (size_t i = 0; i < tasks_.size(); i++) {
      runnable_[i] = !tasks_[i].done && tasks_[i].resume_at <= now;
    }
    std::optional<size_t> next = policy_.next(runnable_);
    if (!next) break;
    TaskState& state = tasks_[*next];
    WALSIM_ASSERT(runnable_[*next], "the policy steps only tasks that may step");
    int64_t retries_before = retry_count();
    // The policy shares the thread's time by what steps cost: their
    // duration, in nanoseconds.
    auto started = std::chrono::steady_clock::now();
    StepResult result = state.task->step();
    int64_t cost_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    policy_.record(*next, result, std::max<int64_t>(cost_ns, 0));
    if (result == StepResult::kFailed || !fatal_error_.is_ok()) {
      failed = true;
      return progressed;
    }
    after_step(state, result, retries_before);
    progressed |= result == StepResult::kProgress && state.failures == 0;
    if (stop_requested(control)) return progressed;
  }
  policy_.start_round();
  return progressed;
}

void LiveRuntime::after_step(TaskState& state, StepResult result, int64_t retries_before) {
  if (result == StepResult::kDone) state.done = true;
  if (retry_count() == retries_before) {
    state.failures = 0;
    return;
  }
  state.failures++;
  int shift = std::min(state.failures - 1, 20);
  int64_t pause = std::min(options_.backoff_max_ms, options_.backoff_initial_ms << shift);
  WALSIM_ASSERT(pause > 0 && pause <= options_.backoff_max_ms, "a retry always waits, boundedly");
  state.resume_at = clock_.now_ms() + pause;
}

int64_t LiveRuntime::retry_count() const {
  return progress_.retries + progress_.stream_reconnects;
}

// Waits for stream data, but no longer than the poll timeout or the end of
// the earliest backoff. A signal interrupts poll() at once.
void LiveRuntime::wait(int64_t now) {
  int64_t timeout = options_.poll_timeout_ms;
  for (const TaskState& state : tasks_) {
    if (!state.done && state.resume_at > now) timeout = std::min(timeout, state.resume_at - now);
  }
  WALSIM_ASSERT(timeout >= 0 && timeout <= options_.poll_timeout_ms);
  pollfd fds[2];
  nfds_t count = 0;
  for (int socket : {io_.stream_socket ? io_.stream_socket() : -1,
                     io_.wakeup_socket ? io_.wakeup_socket() : -1}) {
    if (socket >= 0) fds[count++] = pollfd{socket, POLLIN, 0};
  }
  if (count == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout));
  } else {
    ::poll(fds, count, static_cast<int>(timeout));
  }
  // Before the next round, so that an answer landing during it wakes the
  // wait after it.
  if (io_.drain_wakeup) io_.drain_wakeup();
}

// When the last copy finishes, the first checkpoint waits for the stream to
// pass the copy's LSN: on an idle source only a ping gets it there, so one
// goes out at once.
void LiveRuntime::after_round(int64_t now) {
  if (progress_.all_snapshots_done != snapshots_were_done_) {
    snapshots_were_done_ = progress_.all_snapshots_done;
    if (snapshots_were_done_) {
      ping_due_ = true;
      if (io_.snapshots_done) io_.snapshots_done();
    }
  }
  maybe_ping(now);
  if (io_.keep_stream_alive) io_.keep_stream_alive();
}

// While transactions flow, their acknowledgements move the slot; when none
// arrive, a ping gives the server something to confirm.
void LiveRuntime::maybe_ping(int64_t now) {
  if (progress_.transactions_applied != last_transactions_) {
    last_transactions_ = progress_.transactions_applied;
    last_activity_ms_ = now;
  }
  bool idle_too_long = now - last_activity_ms_ >= options_.ping_interval_ms &&
                       now - last_ping_ms_ >= options_.ping_interval_ms;
  if (!io_.ping || !(ping_due_ || idle_too_long)) return;
  last_ping_ms_ = now;
  ping_due_ = false;
  io_.ping();
}

}  // namespace walsim::live
