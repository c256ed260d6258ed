#include "live/live_runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace walsim::live {
namespace {

// A task whose step runs a test-supplied function.
class FakeTask : public Task {
 public:
  explicit FakeTask(std::function<StepResult()> body) : body_(std::move(body)) {}
  const std::string& name() const override { return name_; }
  StepResult step() override {
    steps++;
    return body_();
  }
  int steps = 0;

 private:
  std::string name_ = "fake";
  std::function<StepResult()> body_;
};

StepResult idle() { return StepResult::kIdle; }

class LiveRuntimeTest : public ::testing::Test {
 protected:
  LiveRuntime runtime(std::vector<Task*> tasks, RuntimeIo io = {}) {
    return LiveRuntime(std::move(tasks), progress_, fatal_error_, std::move(io), options_);
  }
  ReplicatorProgress progress_;
  Status fatal_error_;
  LiveRuntimeOptions options_;
};

// With bursts of one step the policy's rounds are plain round robin.
TEST_F(LiveRuntimeTest, StepsTasksRoundRobinUntilReached) {
  options_.policy.streamer_burst_steps = 1;
  FakeTask first([] { return StepResult::kProgress; });
  FakeTask second([] { return StepResult::kProgress; });
  RunControl control;
  control.until = [&] { return first.steps == 10; };
  EXPECT_EQ(runtime({&first, &second}).run(control), RunOutcome::kReached);
  EXPECT_EQ(second.steps, 10);
}

// The first task is the streamer: while it has input it takes a burst of
// steps before each worker's one (engine/run_policy.h).
TEST_F(LiveRuntimeTest, StreamerWithInputStepsInBurstsBetweenWorkerSteps) {
  options_.policy.streamer_burst_steps = 8;
  FakeTask streamer([] { return StepResult::kProgress; });
  // Worker steps that take a while, like chunk writes: the bursts' time
  // budget (4x a worker step) is then far above 8 quick streamer steps.
  auto chunk_write = [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return StepResult::kProgress;
  };
  FakeTask worker_a(chunk_write);
  FakeTask worker_b(chunk_write);
  RunControl control;
  control.until = [&] { return worker_b.steps == 3; };
  EXPECT_EQ(runtime({&streamer, &worker_a, &worker_b}).run(control), RunOutcome::kReached);
  EXPECT_EQ(worker_a.steps, 3);
  EXPECT_EQ(streamer.steps, 3 * 2 * 8);
}

// A reader thread's answer wakes the idle runtime at once, through the
// wakeup fd, and the runtime drains it before stepping again.
TEST_F(LiveRuntimeTest, WakeupFdEndsTheWait) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  options_.poll_timeout_ms = 5'000;
  int drains = 0;
  RuntimeIo io;
  io.wakeup_socket = [&] { return pipe_fds[0]; };
  io.drain_wakeup = [&] {
    char byte;
    if (drains++ == 0) EXPECT_EQ(::read(pipe_fds[0], &byte, 1), 1);
  };
  FakeTask waiting(idle);
  std::thread answer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(::write(pipe_fds[1], "x", 1), 1);
  });
  RunControl control;
  control.until = [&] { return waiting.steps == 2; };
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(runtime({&waiting}, io).run(control), RunOutcome::kReached);
  answer.join();
  // Woken after about 50 ms, not after the 5 s poll timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2'000));
  EXPECT_EQ(drains, 1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

// The stream's status updates do not depend on the streamer stepping: the
// runtime offers one after every round, also while the streamer is held
// back in a retry pause and a worker keeps the rounds busy.
TEST_F(LiveRuntimeTest, KeepsTheStreamAliveWhileTheStreamerIsHeldBack) {
  options_.backoff_initial_ms = 1'000;
  int keep_alives = 0;
  RuntimeIo io;
  io.keep_stream_alive = [&] { keep_alives++; };
  FakeTask retrying([&] {
    progress_.retries++;
    return StepResult::kProgress;
  });
  FakeTask copying([] { return StepResult::kProgress; });
  RunControl control;
  control.until = [&] { return copying.steps == 100; };
  EXPECT_EQ(runtime({&retrying, &copying}, io).run(control), RunOutcome::kReached);
  EXPECT_EQ(retrying.steps, 1);
  EXPECT_GE(keep_alives, 98);
}

TEST_F(LiveRuntimeTest, StopLandsOnAStepBoundary) {
  std::atomic<bool> stop{false};
  FakeTask first([&] {
    stop = true;  // as if SIGINT arrived during this step
    return StepResult::kProgress;
  });
  FakeTask second([] { return StepResult::kProgress; });
  RunControl control;
  control.stop = &stop;
  EXPECT_EQ(runtime({&first, &second}).run(control), RunOutcome::kStopped);
  EXPECT_EQ(first.steps, 1);
  EXPECT_EQ(second.steps, 0);
}

TEST_F(LiveRuntimeTest, FailedTaskEndsTheRun) {
  FakeTask failing([&] {
    fatal_error_ = Status(ErrorCode::kUnsupported, "no replica identity");
    return StepResult::kFailed;
  });
  EXPECT_EQ(runtime({&failing}).run(RunControl{}), RunOutcome::kFailed);
}

TEST_F(LiveRuntimeTest, DoneTasksAreNotSteppedAgain) {
  FakeTask done([] { return StepResult::kDone; });
  FakeTask busy([] { return StepResult::kProgress; });
  RunControl control;
  control.until = [&] { return busy.steps == 5; };
  EXPECT_EQ(runtime({&done, &busy}).run(control), RunOutcome::kReached);
  EXPECT_EQ(done.steps, 1);
}

// A task that retries every step (the engine counts it in progress.retries)
// is held back with a doubling pause; the others keep running.
TEST_F(LiveRuntimeTest, RetryingTaskIsBackedOff) {
  options_.backoff_initial_ms = 20;
  options_.backoff_max_ms = 160;
  FakeTask retrying([&] {
    progress_.retries++;
    return StepResult::kProgress;
  });
  FakeTask healthy([] { return StepResult::kProgress; });
  RunControl control;
  control.timeout_ms = 500;
  EXPECT_EQ(runtime({&retrying, &healthy}).run(control), RunOutcome::kTimedOut);
  // Pauses 20, 40, 80, 160, 160, ...: about 6 steps in 500 ms, not thousands.
  EXPECT_GE(retrying.steps, 3);
  EXPECT_LE(retrying.steps, 8);
  EXPECT_GT(healthy.steps, 100);
}

TEST_F(LiveRuntimeTest, BackoffEndsWithTheFirstCleanStep) {
  options_.backoff_initial_ms = 1;
  int failures_left = 3;
  FakeTask flaky([&] {
    if (failures_left-- > 0) progress_.stream_reconnects++;
    return StepResult::kProgress;
  });
  RunControl control;
  control.until = [&] { return flaky.steps == 50; };
  control.timeout_ms = 2'000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(runtime({&flaky}).run(control), RunOutcome::kReached);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

// All idle: the runtime sleeps in poll() on the stream socket, so it steps
// a few times per poll timeout; data on the socket wakes it at once.
TEST_F(LiveRuntimeTest, IdleTasksWaitOnTheStreamSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  options_.poll_timeout_ms = 100;
  FakeTask waiting(idle);
  RuntimeIo io{[&] { return pipe_fds[0]; }, nullptr};
  RunControl control;
  control.timeout_ms = 350;
  EXPECT_EQ(runtime({&waiting}, io).run(control), RunOutcome::kTimedOut);
  EXPECT_LE(waiting.steps, 5);

  ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);  // readable from now on
  FakeTask woken(idle);
  control.timeout_ms = 100;
  EXPECT_EQ(runtime({&woken}, io).run(control), RunOutcome::kTimedOut);
  EXPECT_GT(woken.steps, 100);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(LiveRuntimeTest, PingsWhileNoTransactionArrives) {
  options_.ping_interval_ms = 50;
  options_.poll_timeout_ms = 10;
  int pings = 0;
  RuntimeIo io{nullptr, [&] { pings++; }};
  FakeTask waiting(idle);
  RunControl control;
  control.timeout_ms = 320;
  runtime({&waiting}, io).run(control);
  EXPECT_GE(pings, 3);  // a loaded machine runs late, never early
  EXPECT_LE(pings, 7);

  // Transactions keep arriving: their acknowledgements move the slot.
  pings = 0;
  FakeTask streaming([&] {
    progress_.transactions_applied++;
    return StepResult::kIdle;
  });
  runtime({&streaming}, io).run(control);
  EXPECT_EQ(pings, 0);
}

TEST_F(LiveRuntimeTest, PingsAtOnceWhenTheSnapshotsAreDone) {
  options_.ping_interval_ms = 60'000;
  int pings = 0;
  int done_calls = 0;
  RuntimeIo io{nullptr, [&] { pings++; }, [&] { done_calls++; }};
  FakeTask finishing([&] {
    progress_.all_snapshots_done = true;
    return StepResult::kIdle;
  });
  RunControl control;
  control.timeout_ms = 50;
  runtime({&finishing}, io).run(control);
  EXPECT_EQ(pings, 1);
  EXPECT_EQ(done_calls, 1);
}

TEST_F(LiveRuntimeTest, TicksAtTheTickInterval) {
  options_.tick_interval_ms = 20;
  options_.poll_timeout_ms = 5;
  int ticks = 0;
  FakeTask waiting(idle);
  RunControl control;
  control.on_tick = [&] { ticks++; };
  control.timeout_ms = 210;
  runtime({&waiting}).run(control);
  EXPECT_GE(ticks, 5);
  EXPECT_LE(ticks, 11);
}

}  // namespace
}  // namespace walsim::live
