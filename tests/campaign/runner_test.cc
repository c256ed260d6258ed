// The campaign's worker pool: every seed of a fixed range is run once, and
// a seed that kills its worker (a failed assertion, a signal, a non-zero
// exit) is a failure naming that seed, never a silent gap in the range.
#include "campaign/runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "engine/assert.h"
#include "sim/simulation.h"

namespace walsim::campaign {
namespace {

// Seeds first .. first+count-1 on two workers.
RunnerOptions seed_range(uint64_t first, uint64_t count, SeedRun run_seed) {
  RunnerOptions options;
  options.time_s = 600;  // a bound only; the range ends first
  options.jobs = 2;
  options.first_seed = first;
  options.seeds_max = count;
  options.run_seed = std::move(run_seed);
  return options;
}

std::vector<uint64_t> seeds_of(const std::vector<SeedFailure>& failures) {
  std::vector<uint64_t> seeds;
  for (const SeedFailure& f : failures) seeds.push_back(f.seed);
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

TEST(Runner, EverySeedOfARangeRunsOnceAndFailuresNameTheirSeeds) {
  std::vector<SeedFailure> reported;
  RunnerOptions options = seed_range(1, 12, [](uint64_t seed) -> std::optional<std::string> {
    if (seed % 5 == 0) return "checkpoint_content";
    return std::nullopt;
  });
  options.jobs = 3;
  options.on_failure = [&reported](const SeedFailure& f) { reported.push_back(f); };
  const CampaignResult result = run_campaign(options);
  EXPECT_EQ(result.seeds_run, 12u);
  EXPECT_EQ(result.seeds_asked, 12u);
  EXPECT_EQ(result.workers_started, 3);
  EXPECT_EQ(seeds_of(result.failures), (std::vector<uint64_t>{5, 10}));
  for (const SeedFailure& f : result.failures) {
    EXPECT_EQ(f.invariant, "checkpoint_content");
    EXPECT_FALSE(f.crashed);
  }
  EXPECT_EQ(seeds_of(reported), seeds_of(result.failures));
}

// The seed that aborts is the failure; its worker's stride goes on in a
// replacement worker, so seeds 7, 9 and 11 still run.
TEST(Runner, AFailedAssertionIsAFailureWithItsSeed) {
  const CampaignResult result = run_campaign(seed_range(1, 12, [](uint64_t seed) {
    WALSIM_ASSERT(seed != 5, "planted by runner_test");
    return std::optional<std::string>();
  }));
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].seed, 5u);
  EXPECT_EQ(result.failures[0].invariant, "crashed: signal 6 (SIGABRT)");
  EXPECT_TRUE(result.failures[0].crashed);
  EXPECT_EQ(result.seeds_run, 12u);
  EXPECT_EQ(result.workers_started, 3);
}

// SIGKILL, as from the OOM killer (and no sanitizer can turn it into an exit).
TEST(Runner, AKillingSignalAndANonZeroExitAreFailuresWithTheirSeeds) {
  const CampaignResult result = run_campaign(seed_range(1, 10, [](uint64_t seed) {
    if (seed == 4) _exit(3);
    if (seed == 7) raise(SIGKILL);
    return std::optional<std::string>();
  }));
  ASSERT_EQ(seeds_of(result.failures), (std::vector<uint64_t>{4, 7}));
  for (const SeedFailure& f : result.failures) {
    EXPECT_EQ(f.invariant, f.seed == 4 ? "crashed: exit 3" : "crashed: signal 9 (SIGKILL)");
  }
  EXPECT_EQ(result.seeds_run, 10u);
  EXPECT_EQ(result.workers_started, 4);
}

// A worker that crashes on its last seed needs no replacement.
TEST(Runner, ACrashOnTheLastSeedOfAStrideStartsNoWorker) {
  const CampaignResult result = run_campaign(seed_range(1, 4, [](uint64_t seed) {
    WALSIM_ASSERT(seed != 4, "planted by runner_test");
    return std::optional<std::string>();
  }));
  EXPECT_EQ(seeds_of(result.failures), (std::vector<uint64_t>{4}));
  EXPECT_EQ(result.seeds_run, 4u);
  EXPECT_EQ(result.workers_started, 2);
}

// Workers stopped at the deadline are not failures, and no seed is counted
// twice or made up.
TEST(Runner, WorkersStoppedAtTheDeadlineAreNotFailures) {
  RunnerOptions options;
  options.time_s = 0.5;
  options.jobs = 2;
  options.run_seed = [](uint64_t) {
    usleep(20000);
    return std::optional<std::string>();
  };
  const CampaignResult result = run_campaign(options);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_FALSE(result.seeds_asked.has_value());
  EXPECT_GT(result.seeds_run, 0u);
  EXPECT_EQ(result.workers_started, 2);
}

// The real thing: the simulation's verdicts, seed by seed, are the ones the
// workers report.
TEST(Runner, SimulatedSeedsReportWhatTheSimulationSays) {
  sim::Overrides canary;
  canary.preset = sim::Preset::kQuick;
  canary.unsafe_hard_deletes = true;
  std::set<uint64_t> expected;
  for (uint64_t seed = 21; seed <= 36; seed++) {
    if (!sim::run_simulation(sim::draw_params(seed, canary), nullptr).passed()) {
      expected.insert(seed);
    }
  }
  ASSERT_FALSE(expected.empty()) << "the canary fails some of these seeds";
  // Seeds 21-36: the canary fails a few of them (21, 28, ...).
  const CampaignResult result = run_campaign(seed_range(21, 16, simulate_seed(canary)));
  EXPECT_EQ(result.seeds_run, 16u);
  std::vector<uint64_t> failed = seeds_of(result.failures);
  EXPECT_EQ(std::set<uint64_t>(failed.begin(), failed.end()), expected);
}

}  // namespace
}  // namespace walsim::campaign
