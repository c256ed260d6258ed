#include "sim/scheduler.h"

#include <gtest/gtest.h>

namespace walsim::sim {
namespace {

TEST(Scheduler, ParkedTaskWaitsForItsGroupToWake) {
  Scheduler scheduler(1);
  auto engine = scheduler.add("engine", 1, Scheduler::kEngine);
  auto client = scheduler.add("client", 1, Scheduler::kClients);
  scheduler.park(engine);
  scheduler.park(client);
  EXPECT_FALSE(scheduler.pick(0).has_value());
  scheduler.wake(Scheduler::kClients, true);
  EXPECT_EQ(scheduler.pick(0), client);
  scheduler.park(client);
  scheduler.wake(Scheduler::kEngine, true);
  EXPECT_EQ(scheduler.pick(0), engine);
}

TEST(Scheduler, RepeatedlyIdleTaskBacksOffUntilNewInput) {
  Scheduler scheduler(1);
  auto busy = scheduler.add("busy", 1, Scheduler::kWriter);
  auto idle = scheduler.add("idle", 1000, Scheduler::kEngine);
  for (int i = 0; i < 8; i++) {
    scheduler.park(idle);  // idle streak grows
    scheduler.wake(Scheduler::kEngine, false);
  }
  // Backed off: the busy task runs although the idle one weighs 1000x.
  int busy_picks = 0;
  for (int i = 0; i < 32; i++) busy_picks += scheduler.pick(0) == busy;
  EXPECT_EQ(busy_picks, 32);
  scheduler.wake(Scheduler::kEngine, /*new_input=*/true);
  EXPECT_EQ(scheduler.pick(0), idle);
}

TEST(Scheduler, DelayedTaskRunsWhenTheClockPassesItsTimer) {
  Scheduler scheduler(1);
  auto task = scheduler.add("task", 1, Scheduler::kEngine);
  scheduler.delay(task, 500);
  EXPECT_FALSE(scheduler.pick(0).has_value());
  EXPECT_EQ(scheduler.next_timer(0), 500);
  EXPECT_EQ(scheduler.pick(500), task);
}

TEST(Scheduler, RemovedTaskIsNeverPicked) {
  Scheduler scheduler(1);
  auto gone = scheduler.add("gone", 100, Scheduler::kEngine);
  auto stays = scheduler.add("stays", 1, Scheduler::kEngine);
  scheduler.remove(gone);
  for (int i = 0; i < 20; i++) EXPECT_EQ(scheduler.pick(0), stays);
}

}  // namespace
}  // namespace walsim::sim
