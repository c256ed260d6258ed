// `walsim campaign`: exit codes, and the proof that a worker killed by a
// failed assertion is reported with its seed, in every build mode (the
// hidden --plant-assertion-failure-at-seed flag plants one inside the
// simulation's loop; run this test with -c opt to see it under NDEBUG).
#include "cli/campaign_command.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace walsim {
namespace {

int run(std::vector<std::string> args) {
  args.insert(args.begin(), "campaign");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return campaign_command(static_cast<int>(argv.size()), argv.data());
}

TEST(CampaignCommand, BadUsageExitsTwo) {
  EXPECT_EQ(run({"--time", "soon"}), 2);
  EXPECT_EQ(run({"--jobs", "0"}), 2);
  EXPECT_EQ(run({"--preset", "huge"}), 2);
  EXPECT_EQ(run({"--bogus"}), 2);
  EXPECT_EQ(run({"--shard", "3/3"}), 2);
  EXPECT_EQ(run({"--shard", "1/0"}), 2);
  EXPECT_EQ(run({"--shard", "-1/4"}), 2);
  EXPECT_EQ(run({"--shard", "1/4x"}), 2);
  EXPECT_EQ(run({"--schedule", "fifo"}), 2);
  EXPECT_EQ(run({"--seed-timeout", "never"}), 2);
}

// Two shards of seeds 1-6 with a forced mode: each runs its half, and the
// JSON says which half, which mode, and the seeds' schedule counts.
TEST(CampaignCommand, AShardRunsItsPartOfTheRangeAndTheJsonSaysSo) {
  const std::string dir = ::testing::TempDir();
  uint64_t seeds_run = 0;
  for (const char* shard : {"0/2", "1/2"}) {
    const std::string json_path = dir + "/shard.json";
    EXPECT_EQ(run({"--seeds", "6", "--jobs", "2", "--preset", "quick", "--no-faults",
                   "--schedule", "pct", "--shard", shard, "--no-minimize", "--json", json_path}),
              0);
    std::ifstream in(json_path);
    const nlohmann::json summary = nlohmann::json::parse(in);
    EXPECT_EQ(summary["seeds_asked"], 3);
    EXPECT_EQ(summary["seeds_run"], 3);
    EXPECT_EQ(summary["shard"]["count"], 2);
    EXPECT_EQ(summary["flags"]["schedule"], "pct");
    EXPECT_EQ(summary["schedules"]["pct"], 3);
    EXPECT_TRUE(summary["passed"]);
    seeds_run += summary["seeds_run"].get<uint64_t>();
  }
  EXPECT_EQ(seeds_run, 6u);
}

TEST(CampaignCommand, APlantedAssertionFailureIsReportedWithItsSeedAndExitsOne) {
  const std::string dir = ::testing::TempDir();
  const std::string json_path = dir + "/campaign.json";
  EXPECT_EQ(run({"--seeds", "6", "--jobs", "2", "--preset", "quick", "--no-faults",
                 "--minimize-time", "5", "--regressions", dir, "--json", json_path,
                 "--plant-assertion-failure-at-seed", "3"}),
            1);
  std::ifstream in(json_path);
  ASSERT_TRUE(in.good()) << json_path;
  const nlohmann::json summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["seeds_run"], 6);  // the crashed seed's stride went on
  bool found = false;
  for (const auto& failure : summary["failures"]) {
    if (failure["seed"] != 3) continue;
    found = true;
    EXPECT_EQ(failure["invariant"], "crashed: signal 6 (SIGABRT)");
  }
  EXPECT_TRUE(found) << summary.dump(2);
  // Minimized in child processes like any failure; the campaign lived on.
  ASSERT_EQ(summary["replay_files"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["replay_files"][0], dir + "/crashed-signal-6-SIGABRT-seed3.json");
}

// Time up before the range ran in full: exit 1, and the JSON says why.
TEST(CampaignCommand, ARangeCutShortByTheTimeExitsOne) {
  const std::string json_path = ::testing::TempDir() + "/short.json";
  EXPECT_EQ(run({"--seeds", "100000", "--time", "1s", "--jobs", "1", "--preset", "quick",
                 "--no-faults", "--no-minimize", "--json", json_path}),
            1);
  std::ifstream in(json_path);
  const nlohmann::json summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["seeds_asked"], 100000);
  EXPECT_LT(summary["seeds_run"].get<uint64_t>(), 100000u);
  EXPECT_FALSE(summary["complete"]);
  EXPECT_FALSE(summary["passed"]);
}

}  // namespace
}  // namespace walsim
