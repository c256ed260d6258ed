// Properties of the harness itself: one seed is one run, the canary is
// caught, and every fault kind fires somewhere in a fixed seed range.
#include "sim/simulation.h"

#include <gtest/gtest.h>

#include "engine/assert.h"

#include <optional>
#include <set>
#include <string>

namespace walsim::sim {
namespace {

RunResult run(uint64_t seed, Overrides overrides = {}) {
  return run_simulation(draw_params(seed, overrides), nullptr);
}

bool is_content_invariant(const std::string& invariant) {
  return invariant == "checkpoint_content" || invariant == "client_convergence" ||
         invariant == "final_state";
}

// 50 seeds twice: 40 small worlds and 10 of the default size.
TEST(Simulation, SameSeedSameTrace) {
  for (uint64_t seed = 1; seed <= 50; seed++) {
    Overrides overrides;
    if (seed > 10) overrides.preset = Preset::kQuick;
    RunResult first = run(seed, overrides);
    RunResult second = run(seed, overrides);
    ASSERT_EQ(first.stats.trace_hash, second.stats.trace_hash) << "seed " << seed;
    ASSERT_EQ(first.stats.trace_events, second.stats.trace_events) << "seed " << seed;
    ASSERT_EQ(first.passed(), second.passed()) << "seed " << seed;
    ASSERT_EQ(first.faults_fired, second.faults_fired) << "seed " << seed;
  }
}

TEST(Simulation, DifferentSeedsDifferentRuns) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 10; seed++) hashes.insert(run(seed).stats.trace_hash);
  EXPECT_EQ(hashes.size(), 10u);
}

// The canary: hard deletes let a row that a table copy read before its
// delete come back when the copy is written after it. The oracle must see
// that row where the source has none, within a few hundred seeds, on a
// seed that passes without the unsafe mode (so it is the canary it sees).
TEST(Simulation, CanaryUnsafeHardDeletesIsCaught) {
  Overrides unsafe;
  unsafe.unsafe_hard_deletes = true;
  std::optional<uint64_t> caught;
  int canary_failures = 0;
  for (uint64_t seed = 1; seed <= 300 && !caught; seed++) {
    RunResult result = run(seed, unsafe);
    if (result.passed()) continue;
    canary_failures++;
    if (!is_content_invariant(result.violation->invariant)) continue;
    if (result.violation->detail.find("expected absent") == std::string::npos) continue;
    if (run(seed).passed()) caught = seed;
  }
  ASSERT_TRUE(caught.has_value()) << canary_failures << " canary runs failed, none as expected";
  RunResult result = run(*caught, unsafe);
  EXPECT_TRUE(is_content_invariant(result.violation->invariant));
  EXPECT_NE(result.violation->detail.find("actual {"), std::string::npos)
      << result.violation->detail;
  EXPECT_FALSE(result.recent_events.empty());
}

// The first seed in [1, last] on which the canary `unsafe` breaks one of
// `invariants` while the same seed passes without it; nullopt if none.
std::optional<uint64_t> first_caught(bool Overrides::*unsafe, uint64_t last,
                                     const std::set<std::string>& invariants) {
  Overrides canary;
  canary.*unsafe = true;
  for (uint64_t seed = 1; seed <= last; seed++) {
    RunResult result = run(seed, canary);
    if (result.passed() || !invariants.count(result.violation->invariant)) continue;
    if (run(seed).passed()) return seed;
  }
  return std::nullopt;
}

// The disk's canaries, one per family of invariants that see durability.
// Syncing nothing: a power loss takes acknowledged transactions with it.
TEST(Simulation, CanaryUnsafeNoSyncIsCaughtByPowerLoss) {
  EXPECT_TRUE(first_caught(&Overrides::unsafe_no_sync, 60, {"acknowledged_lost"}).has_value());
}

// Acknowledging before COMMIT: a crash in between loses what the slot
// let go of.
TEST(Simulation, CanaryUnsafeAckBeforeCommitIsCaughtByACrash) {
  EXPECT_TRUE(
      first_caught(&Overrides::unsafe_ack_before_commit, 60, {"acknowledged_lost"}).has_value());
}

// Publishing in the commit that creates a checkpoint: a power loss takes
// back a checkpoint clients (the oracle among them) have seen.
TEST(Simulation, CanaryUnsafePublishUnsyncedIsCaughtByWhatClientsSaw) {
  EXPECT_TRUE(first_caught(&Overrides::unsafe_publish_unsynced, 100,
                           {"checkpoint_regressed", "client_checkpoint_regressed",
                            "client_op_changed", "op_id_reused"})
                  .has_value());
}

// A statement left mid-read: SQLite's checkpoints stall behind it.
TEST(Simulation, CanaryUnsafeLeaveReadsOpenIsCaughtAtOnce) {
  EXPECT_TRUE(first_caught(&Overrides::unsafe_leave_reads_open, 5,
                           {"read_left_open", "wal_unbounded"})
                  .has_value());
}

// Retrying every storage error: a refused statement is retried for ever.
TEST(Simulation, CanaryUnsafeRetryAllErrorsIsCaughtAsUnboundedRetry) {
  EXPECT_TRUE(
      first_caught(&Overrides::unsafe_retry_all_errors, 100, {"retry_unbounded"}).has_value());
}

TEST(Simulation, EveryFaultKindFiresInSeeds1To30) {
  std::array<int64_t, kFaultKinds> fired{};
  for (uint64_t seed = 1; seed <= 30; seed++) {
    RunResult result = run(seed);
    for (size_t i = 0; i < kFaultKinds; i++) fired[i] += result.faults_fired[i];
  }
  for (size_t i = 0; i < kFaultKinds; i++) {
    EXPECT_GT(fired[i], 0) << fault_name(static_cast<FaultKind>(i)) << " never fired";
  }
}

TEST(Simulation, NoFaultsMeansNoFaultFires) {
  Overrides quiet;
  quiet.no_faults = true;
  for (uint64_t seed = 1; seed <= 10; seed++) {
    EXPECT_EQ(run(seed, quiet).faults_summary, "none") << "seed " << seed;
  }
}

TEST(Simulation, OverridesShapeTheWorld) {
  Overrides overrides;
  overrides.tables = 3;
  overrides.rows = 7;
  overrides.transactions = 25;
  overrides.workers = 2;
  SimParams params = draw_params(9, overrides);
  EXPECT_EQ(params.workload.tables, 3);
  EXPECT_EQ(params.workload.rows_per_table, 7);
  EXPECT_EQ(params.workload.transactions, 25);
  EXPECT_EQ(params.engine.workers, 2);
  RunResult result = run_simulation(params, nullptr);
  EXPECT_LE(result.stats.transactions, 25);
  EXPECT_EQ(std::count_if(result.world.begin(), result.world.end(),
                          [](const std::string& line) { return line.rfind("table ", 0) == 0; }),
            3);
}

}  // namespace
}  // namespace walsim::sim

namespace walsim::sim {
namespace {

// A run that cannot converge in its healing budget fails with the reason:
// what checkpoint it needed, what it had, and the store's state.
TEST(Simulation, StalledHealingIsALivenessFailureWithAReason) {
  Overrides overrides;
  overrides.no_faults = true;
  overrides.rows = 200;
  overrides.transactions = 300;
  SimParams params = draw_params(4, overrides);
  params.scheduler.writer_weight = 100;  // the stream falls behind
  params.heal_steps_max = 1;
  RunResult result = run_simulation(params, nullptr);
  ASSERT_FALSE(result.passed());
  EXPECT_EQ(result.violation->invariant, "liveness");
  EXPECT_NE(result.violation->detail.find("need checkpoint lsn >="), std::string::npos)
      << result.violation->detail;
  EXPECT_NE(result.violation->detail.find("tables not done:"), std::string::npos);
}

}  // namespace
}  // namespace walsim::sim

namespace walsim::sim {
namespace {

// A failed assertion anywhere during a run names the run: its seed, the
// step, and the events that led there (the campaign's crash report relies
// on it, and so does anyone reading a core dump's stderr).
TEST(SimulationDeathTest, FailedAssertionPrintsTheSeedAndTheLastEvents) {
  Overrides quick;
  quick.preset = Preset::kQuick;
  quick.no_faults = true;
  const SimParams params = draw_params(7, quick);
  StepHook plant = [](int64_t step) { WALSIM_ASSERT(step < 3, "planted by the test"); };
  EXPECT_DEATH(run_simulation(params, nullptr, plant),
               "assertion failed: step < 3.*why: planted by the test.*"
               "simulation: seed=7 step=3.*last events:.*step=3 task=");
}

// After a run its context is gone: nothing describes a destroyed run
// (the death message ends with the reason).
TEST(SimulationDeathTest, NoRunNoSimulationContext) {
  Overrides quick;
  quick.preset = Preset::kQuick;
  ASSERT_TRUE(run_simulation(draw_params(7, quick), nullptr).stats.steps > 0);
  EXPECT_DEATH(WALSIM_ASSERT(false, "after the run"), "why: after the run\n$");
}

}  // namespace
}  // namespace walsim::sim
