// RunPolicy, driven with fake tasks: the streamer is never starved by the
// copies (its share of steps while it has input, its longest wait), the
// copies are never starved by the stream, and checkpoints keep coming once
// the copies are done. The same properties hold for any task count and
// burst length, so the tests sweep them.
#include "engine/run_policy.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>

namespace walsim {
namespace {

// Steps fake tasks in the order the policy picks, recording it.
class PolicyDriver {
 public:
  PolicyDriver(std::vector<std::function<StepResult()>> tasks, RunPolicyOptions options)
      : policy_(tasks.size(), options), tasks_(std::move(tasks)), runnable_(tasks_.size(), true) {}

  // Runs whole rounds until at least `steps` steps were taken (or every
  // task is done). Returns the rounds run.
  int64_t run(int64_t steps) {
    int64_t rounds = 0;
    while (static_cast<int64_t>(order_.size()) < steps && any_runnable()) {
      run_round();
      rounds++;
    }
    return rounds;
  }

  // One round; returns its steps.
  int64_t run_round() {
    int64_t steps = 0;
    while (std::optional<size_t> task = policy_.next(runnable_)) {
      EXPECT_TRUE(runnable_[*task]) << "the policy picked a task that may not step";
      StepResult result = tasks_[*task]();
      policy_.record(*task, result);
      if (result == StepResult::kDone) runnable_[*task] = false;
      order_.push_back(*task);
      steps++;
    }
    policy_.start_round();
    return steps;
  }

  bool any_runnable() const {
    for (bool runnable : runnable_) {
      if (runnable) return true;
    }
    return false;
  }

  RunPolicy& policy() { return policy_; }
  std::vector<bool>& runnable() { return runnable_; }
  const std::vector<size_t>& order() const { return order_; }

  int64_t steps_of(size_t task) const {
    int64_t count = 0;
    for (size_t stepped : order_) count += stepped == task;
    return count;
  }
  // The longest run of other tasks' steps between two streamer steps.
  int64_t longest_streamer_wait() const {
    int64_t longest = 0, run = 0;
    for (size_t stepped : order_) {
      run = stepped == RunPolicy::kStreamer ? 0 : run + 1;
      longest = std::max(longest, run);
    }
    return longest;
  }

 private:
  RunPolicy policy_;
  std::vector<std::function<StepResult()>> tasks_;
  std::vector<bool> runnable_;
  std::vector<size_t> order_;
};

StepResult progress() { return StepResult::kProgress; }
StepResult idle() { return StepResult::kIdle; }

std::vector<std::function<StepResult()>> tasks(std::function<StepResult()> streamer,
                                               size_t workers,
                                               std::function<StepResult()> worker = progress) {
  std::vector<std::function<StepResult()>> all = {std::move(streamer)};
  for (size_t i = 0; i < workers; i++) all.push_back(worker);
  return all;
}

struct Shape {
  size_t workers;
  int64_t burst;
};
void PrintTo(const Shape& shape, std::ostream* out) {
  *out << shape.workers << " workers, burst " << shape.burst;
}

class RunPolicyShapes : public ::testing::TestWithParam<Shape> {};

// The invariant of issue 12: while the copies run, a streamer that always
// has input gets at least K/(K+1) of the steps and never waits for more
// than one other step; every worker still steps once per round.
TEST_P(RunPolicyShapes, StreamerWithInputIsNotStarvedByWorkersWithWork) {
  const Shape shape = GetParam();
  PolicyDriver driver(tasks(progress, shape.workers), {shape.burst});
  int64_t rounds = driver.run(20'000);
  ASSERT_GT(rounds, 0);
  double share = static_cast<double>(driver.steps_of(RunPolicy::kStreamer)) /
                 static_cast<double>(driver.order().size());
  EXPECT_GE(share, driver.policy().streamer_share_min()) << "streamer share of steps";
  EXPECT_LE(driver.longest_streamer_wait(), RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  for (size_t worker = 1; worker <= shape.workers; worker++) {
    EXPECT_EQ(driver.steps_of(worker), rounds) << "worker " << worker << ": one step per round";
  }
  EXPECT_LE(static_cast<int64_t>(driver.order().size()),
            rounds * driver.policy().round_steps_max());
}

// An idle stream is still read between every two worker steps: that is
// where status replies go out and new changes are noticed.
TEST_P(RunPolicyShapes, IdleStreamerIsPolledBetweenWorkerSteps) {
  const Shape shape = GetParam();
  PolicyDriver driver(tasks(idle, shape.workers), {shape.burst});
  int64_t rounds = driver.run(1'000);
  EXPECT_LE(driver.longest_streamer_wait(), RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  // One poll per worker turn (one per round without workers), no more.
  int64_t turns = rounds * static_cast<int64_t>(std::max<size_t>(shape.workers, 1));
  EXPECT_EQ(driver.steps_of(RunPolicy::kStreamer), turns);
}

// A model of the whole run: the streamer applies a source transaction in
// three steps (begin, change, commit), and each commit is a checkpoint once
// every copy is done; each worker copies `chunks` chunks and is done. The
// stream keeps committing during the copies, and after them checkpoints
// come at least every few steps: no starvation by the policy.
TEST_P(RunPolicyShapes, CheckpointsKeepComingOnceTheCopiesAreDone) {
  const Shape shape = GetParam();
  constexpr int64_t kChunks = 300;
  constexpr int64_t kStepsPerTransaction = 3;
  size_t workers_done = 0;
  int64_t step = 0;
  int64_t streamer_steps = 0;
  int64_t commits_during_copy = 0;
  int64_t steps_during_copy = 0;
  std::vector<int64_t> checkpoint_steps;
  auto streamer = [&] {
    if (++streamer_steps % kStepsPerTransaction != 0) return StepResult::kProgress;
    if (workers_done == shape.workers) {
      checkpoint_steps.push_back(step);
    } else {
      commits_during_copy++;
    }
    return StepResult::kProgress;
  };
  std::vector<std::function<StepResult()>> all = {streamer};
  for (size_t i = 0; i < shape.workers; i++) {
    all.push_back([&, chunks = int64_t{0}]() mutable {
      if (++chunks < kChunks) return StepResult::kProgress;
      workers_done++;
      return StepResult::kDone;
    });
  }
  PolicyDriver driver(all, {shape.burst});
  int64_t copy_end_step = -1;
  while (static_cast<int64_t>(checkpoint_steps.size()) < 200) {
    std::optional<size_t> task = driver.policy().next(driver.runnable());
    if (!task) {
      driver.policy().start_round();
      continue;
    }
    step++;
    if (workers_done < shape.workers) steps_during_copy++;
    StepResult result = all[*task]();
    driver.policy().record(*task, result);
    if (result == StepResult::kDone) driver.runnable()[*task] = false;
    if (copy_end_step < 0 && workers_done == shape.workers) copy_end_step = step;
    ASSERT_LT(step, 10'000'000) << "checkpoints stopped coming";
  }
  // During the copies: the stream committed at its guaranteed share.
  double share = driver.policy().streamer_share_min();
  EXPECT_GE(commits_during_copy,
            static_cast<int64_t>(share * static_cast<double>(steps_during_copy)) /
                    kStepsPerTransaction - 1);
  // After them: a checkpoint within one transaction's steps, each with at
  // most one other step between, and so on every time.
  const int64_t gap_max = kStepsPerTransaction * (1 + RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  ASSERT_GE(copy_end_step, 0);
  EXPECT_LE(checkpoint_steps.front() - copy_end_step, gap_max);
  for (size_t i = 1; i < checkpoint_steps.size(); i++) {
    EXPECT_LE(checkpoint_steps[i] - checkpoint_steps[i - 1], gap_max) << "checkpoint " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RunPolicyShapes,
                         ::testing::Values(Shape{0, 1}, Shape{0, 256}, Shape{1, 1},
                                           Shape{1, 256}, Shape{4, 1}, Shape{4, 16},
                                           Shape{4, 256}, Shape{8, 64}),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return "workers" + std::to_string(info.param.workers) + "_burst" +
                                  std::to_string(info.param.burst);
                         });

TEST(RunPolicy, BurstFollowsInputAndEndsAtItsLength) {
  // A streamer with three messages, then nothing: it takes them in one
  // burst (plus the idle step that finds nothing), then the worker steps.
  int left = 3;
  PolicyDriver driver(tasks([&] { return left-- > 0 ? StepResult::kProgress : StepResult::kIdle; },
                            1),
                      {8});
  driver.run_round();
  EXPECT_EQ(driver.order(), (std::vector<size_t>{0, 0, 0, 0, 1}));

  PolicyDriver capped(tasks(progress, 2), {2});
  capped.run_round();
  EXPECT_EQ(capped.order(), (std::vector<size_t>{0, 0, 1, 0, 0, 2}));
}

TEST(RunPolicy, TasksThatMayNotStepAreSkipped) {
  PolicyDriver driver(tasks(progress, 3), {4});
  // The streamer in a retry pause: the workers still get their turns.
  driver.runnable()[0] = false;
  driver.runnable()[2] = false;
  driver.run_round();
  EXPECT_EQ(driver.order(), (std::vector<size_t>{1, 3}));
  // Nobody may step: the round is over at once.
  driver.runnable().assign(4, false);
  EXPECT_EQ(driver.run_round(), 0);
}

TEST(RunPolicyDeathTest, RecordsOnlyTheStepItChose) {
  RunPolicy policy(2);
  std::optional<size_t> first = policy.next({true, true});
  ASSERT_EQ(first, RunPolicy::kStreamer);
  EXPECT_DEATH(policy.record(1, StepResult::kProgress), "the step recorded is the one next");
}

}  // namespace
}  // namespace walsim
