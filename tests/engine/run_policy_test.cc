// RunPolicy, driven with fake tasks: the streamer is never starved by the
// copies (its longest wait in steps, its share of the time while it has
// input), the copies are never starved by the stream, and checkpoints keep
// coming once the copies are done. The properties hold for any task count,
// burst cap, cost ratio and step costs, so the tests sweep them.
#include "engine/run_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>

namespace walsim {
namespace {

// A fake task: what its step returns, and what each step costs.
struct FakeTask {
  std::function<StepResult()> step;
  int64_t cost = 1;
};

// Steps fake tasks in the order the policy picks, recording it.
class PolicyDriver {
 public:
  PolicyDriver(std::vector<FakeTask> tasks, RunPolicyOptions options)
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
    while (step_once()) steps++;
    policy_.start_round();
    return steps;
  }

  // One step; false at the end of the round.
  bool step_once() {
    std::optional<size_t> task = policy_.next(runnable_);
    if (!task) return false;
    EXPECT_TRUE(runnable_[*task]) << "the policy picked a task that may not step";
    StepResult result = tasks_[*task].step();
    policy_.record(*task, result, tasks_[*task].cost);
    if (result == StepResult::kDone) runnable_[*task] = false;
    order_.push_back(*task);
    return true;
  }

  bool any_runnable() const {
    return std::any_of(runnable_.begin(), runnable_.end(), [](bool runnable) { return runnable; });
  }

  // Forgets the steps so far (to measure from a later point on).
  void clear_order() { order_.clear(); }

  RunPolicy& policy() { return policy_; }
  std::vector<bool>& runnable() { return runnable_; }
  const std::vector<size_t>& order() const { return order_; }

  int64_t steps_of(size_t task) const {
    return std::count(order_.begin(), order_.end(), task);
  }
  double cost_share_of_streamer() const {
    double streamer = 0, all = 0;
    for (size_t task : order_) {
      double cost = static_cast<double>(tasks_[task].cost);
      all += cost;
      if (task == RunPolicy::kStreamer) streamer += cost;
    }
    return streamer / all;
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
  std::vector<FakeTask> tasks_;
  std::vector<bool> runnable_;
  std::vector<size_t> order_;
};

StepResult progress() { return StepResult::kProgress; }
StepResult idle() { return StepResult::kIdle; }

struct Shape {
  size_t workers;
  int64_t burst;        // the step cap K
  int64_t ratio;        // streamer_cost_ratio
  int64_t worker_cost;  // per worker step; a streamer step costs 1
};
void PrintTo(const Shape& shape, std::ostream* out) {
  *out << shape.workers << " workers, burst " << shape.burst << ", ratio " << shape.ratio
       << ", worker step cost " << shape.worker_cost;
}

std::vector<FakeTask> fake_tasks(const Shape& shape, std::function<StepResult()> streamer,
                                 std::function<StepResult()> worker = progress) {
  std::vector<FakeTask> all = {{std::move(streamer), 1}};
  for (size_t i = 0; i < shape.workers; i++) all.push_back({worker, shape.worker_cost});
  return all;
}

RunPolicyOptions options_of(const Shape& shape) { return {shape.burst, shape.ratio}; }

class RunPolicyShapes : public ::testing::TestWithParam<Shape> {};

// The invariant of issue 12: while the copies run, a streamer that always
// has input never waits for more than one other step and gets its share of
// the time (ratio/(ratio+1) unless the step cap ends bursts first); the
// workers keep their share too, and each steps once per round.
TEST_P(RunPolicyShapes, NeitherStreamNorCopiesStarveWhenBothHaveWork) {
  const Shape shape = GetParam();
  PolicyDriver driver(fake_tasks(shape, progress), options_of(shape));
  // The first burst runs to the step cap (no worker step's cost is known
  // yet); measure from the second round on.
  driver.run_round();
  driver.clear_order();
  int64_t rounds = driver.run(50'000);
  ASSERT_GT(rounds, 1);
  EXPECT_LE(driver.longest_streamer_wait(), RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  for (size_t worker = 1; worker <= shape.workers; worker++) {
    EXPECT_EQ(driver.steps_of(worker), rounds) << "worker " << worker << ": one step per round";
  }
  EXPECT_LE(static_cast<int64_t>(driver.order().size()),
            rounds * driver.policy().round_steps_max());
  if (shape.workers == 0 || shape.worker_cost == 0) {
    // Nothing else costs anything: the stream has all the time.
    EXPECT_EQ(driver.cost_share_of_streamer(), 1.0);
    return;
  }
  // A burst costs ratio*worker_cost, or K streamer steps if that is less.
  double burst = static_cast<double>(std::min(shape.burst, shape.ratio * shape.worker_cost));
  double worker = static_cast<double>(shape.worker_cost);
  double streamer_share_min = burst / (burst + worker);
  if (shape.burst >= shape.ratio * shape.worker_cost) {
    EXPECT_DOUBLE_EQ(streamer_share_min, driver.policy().streamer_cost_share_min());
  }
  EXPECT_GE(driver.cost_share_of_streamer(), streamer_share_min - 1e-9);
  // The copies' share: a burst overshoots its budget by one step at most.
  EXPECT_LE(driver.cost_share_of_streamer(), (burst + 1) / (burst + 1 + worker) + 1e-9);
}

// An idle stream is still read between every two worker steps: that is
// where status replies go out and new changes are noticed.
TEST_P(RunPolicyShapes, IdleStreamerIsPolledBetweenWorkerSteps) {
  const Shape shape = GetParam();
  PolicyDriver driver(fake_tasks(shape, idle), options_of(shape));
  int64_t rounds = driver.run(1'000);
  EXPECT_LE(driver.longest_streamer_wait(), RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  // One poll per worker turn (one per round without workers), no more.
  int64_t turns = rounds * static_cast<int64_t>(std::max<size_t>(shape.workers, 1));
  EXPECT_EQ(driver.steps_of(RunPolicy::kStreamer), turns);
}

// A model of the whole run: the streamer applies a source transaction in
// three steps (begin, change, commit), and each commit is a checkpoint once
// every copy is done; each worker copies `kChunks` chunks and is done. The
// stream keeps committing during the copies at its share, and after them
// checkpoints come at least every few steps: no starvation by the policy.
TEST_P(RunPolicyShapes, CheckpointsKeepComingOnceTheCopiesAreDone) {
  const Shape shape = GetParam();
  constexpr int64_t kChunks = 300;
  constexpr int64_t kStepsPerTransaction = 3;
  size_t workers_done = 0;
  int64_t step = 0;
  int64_t streamer_steps = 0;
  int64_t commits_during_copy = 0;
  int64_t cost_during_copy = 0;
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
  std::vector<FakeTask> all = {{streamer, 1}};
  for (size_t i = 0; i < shape.workers; i++) {
    all.push_back({[&, chunks = int64_t{0}]() mutable {
                     if (++chunks < kChunks) return StepResult::kProgress;
                     workers_done++;
                     return StepResult::kDone;
                   },
                   shape.worker_cost});
  }
  PolicyDriver driver(all, options_of(shape));
  int64_t copy_end_step = shape.workers == 0 ? 0 : -1;
  while (static_cast<int64_t>(checkpoint_steps.size()) < 200) {
    bool copying = workers_done < shape.workers;
    step++;
    if (!driver.step_once()) {
      step--;
      driver.policy().start_round();
      continue;
    }
    if (copying) cost_during_copy += all[driver.order().back()].cost;
    if (copy_end_step < 0 && workers_done == shape.workers) copy_end_step = step;
    ASSERT_LT(step, 10'000'000) << "checkpoints stopped coming";
  }
  // During the copies the stream committed at its guaranteed share.
  if (shape.workers > 0 && shape.worker_cost > 0) {
    double burst = static_cast<double>(std::min(shape.burst, shape.ratio * shape.worker_cost));
    double share = burst / (burst + static_cast<double>(shape.worker_cost));
    EXPECT_GE(commits_during_copy,
              static_cast<int64_t>(share * static_cast<double>(cost_during_copy)) /
                      kStepsPerTransaction - 1);
  }
  // After them: a checkpoint within one transaction's steps, each with at
  // most one other step between, and so on every time.
  const int64_t gap_max =
      kStepsPerTransaction * (1 + RunPolicy::kOtherStepsBetweenStreamerStepsMax);
  ASSERT_GE(copy_end_step, 0);
  EXPECT_LE(checkpoint_steps.front() - copy_end_step, gap_max);
  for (size_t i = 1; i < checkpoint_steps.size(); i++) {
    EXPECT_LE(checkpoint_steps[i] - checkpoint_steps[i - 1], gap_max) << "checkpoint " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RunPolicyShapes,
    ::testing::Values(Shape{0, 4096, 4, 1}, Shape{1, 1, 4, 1}, Shape{1, 4096, 4, 1},
                      Shape{1, 4096, 4, 100}, Shape{4, 16, 4, 100}, Shape{4, 4096, 4, 100},
                      Shape{4, 4096, 1, 250}, Shape{8, 64, 9, 3}, Shape{2, 4096, 4, 0}),
    [](const ::testing::TestParamInfo<Shape>& info) {
      const Shape& shape = info.param;
      return "workers" + std::to_string(shape.workers) + "_burst" + std::to_string(shape.burst) +
             "_ratio" + std::to_string(shape.ratio) + "_cost" + std::to_string(shape.worker_cost);
    });

TEST(RunPolicy, BurstFollowsInputAndEndsAtItsCapOrBudget) {
  // A streamer with three messages, then nothing: it takes them in one
  // burst (plus the idle step that finds nothing), then the worker steps.
  int left = 3;
  Shape one{1, 8, 100, 1};
  PolicyDriver driver(
      fake_tasks(one, [&] { return left-- > 0 ? StepResult::kProgress : StepResult::kIdle; }),
      options_of(one));
  driver.run_round();
  EXPECT_EQ(driver.order(), (std::vector<size_t>{0, 0, 0, 0, 1}));

  // The step cap.
  Shape capped{2, 2, 100, 1};
  PolicyDriver at_cap(fake_tasks(capped, progress), options_of(capped));
  at_cap.run_round();
  EXPECT_EQ(at_cap.order(), (std::vector<size_t>{0, 0, 1, 0, 0, 2}));

  // The budget: once a worker step cost 3, a burst costs 2*3 = 6 steps.
  Shape budget{1, 100, 2, 3};
  PolicyDriver on_cost(fake_tasks(budget, progress), options_of(budget));
  on_cost.run_round();  // the first burst runs to the cap: no cost known yet
  EXPECT_EQ(on_cost.steps_of(0), 100);
  on_cost.run_round();
  EXPECT_EQ(on_cost.steps_of(0), 106);
  EXPECT_EQ(on_cost.steps_of(1), 2);
}

// Idle worker steps (a read in flight, nothing to copy) cost little and
// say nothing about what copying costs: a worker idle for a step or two
// keeps the budget its busy steps set; one idle for longer sets none, and
// the stream's bursts run to the step cap.
TEST(RunPolicy, IdleWorkersKeepTheirBudgetOnlyForAWhile) {
  // Never busy: no budget, the stream runs to the step cap.
  Shape idle_workers{2, 50, 4, 1};
  PolicyDriver never_busy(fake_tasks(idle_workers, progress, idle), options_of(idle_workers));
  never_busy.run(10'000);
  double streamer = static_cast<double>(never_busy.steps_of(RunPolicy::kStreamer));
  EXPECT_GE(streamer / static_cast<double>(never_busy.order().size()), 50.0 / 51.0 - 1e-9);

  // Busy, then waiting on a read every other step: the bursts keep the
  // budget of the busy steps (ratio 4 x cost 10 = 40 steps).
  Shape waiting{1, 1000, 4, 10};  // the cap above 40
  int64_t worker_steps = 0;
  PolicyDriver sometimes_busy(
      fake_tasks(waiting, progress,
                 [&] { return ++worker_steps % 2 ? StepResult::kProgress : StepResult::kIdle; }),
      options_of(waiting));
  sometimes_busy.run_round();  // the first burst runs to the cap
  sometimes_busy.clear_order();
  sometimes_busy.run(10'000);
  EXPECT_EQ(sometimes_busy.steps_of(RunPolicy::kStreamer), 40 * sometimes_busy.steps_of(1));

  // Busy once, then idle for good (its copies are done): after
  // kIdleStepsUnbusy idle steps the bursts run to the cap again.
  int64_t busy_left = 1;
  PolicyDriver then_idle(
      fake_tasks(waiting, progress,
                 [&] { return busy_left-- > 0 ? StepResult::kProgress : StepResult::kIdle; }),
      options_of(waiting));
  const size_t rounds = RunPolicy::kIdleStepsUnbusy + 8;
  for (size_t round = 0; round < rounds; round++) then_idle.run_round();
  std::vector<int64_t> bursts;
  int64_t burst = 0;
  for (size_t task : then_idle.order()) {
    if (task == RunPolicy::kStreamer) {
      burst++;
    } else {
      bursts.push_back(burst);
      burst = 0;
    }
  }
  // The first burst: no cost known (the cap); then budgeted while the
  // worker's idle streak is short; then the cap again.
  ASSERT_EQ(bursts.size(), rounds);
  EXPECT_EQ(bursts[0], 1000);
  for (size_t i = 1; i <= static_cast<size_t>(RunPolicy::kIdleStepsUnbusy); i++) {
    EXPECT_EQ(bursts[i], 40) << "burst " << i;
  }
  for (size_t i = RunPolicy::kIdleStepsUnbusy + 1; i < bursts.size(); i++) {
    EXPECT_EQ(bursts[i], 1000) << "burst " << i;
  }
}

TEST(RunPolicy, TasksThatMayNotStepAreSkipped) {
  Shape three{3, 4, 4, 1};
  PolicyDriver driver(fake_tasks(three, progress), options_of(three));
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
