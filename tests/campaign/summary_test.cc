// The campaign's closing summary: what a newcomer reads, and the JSON CI
// reads, from a result built by hand.
#include "campaign/summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/probe.h"
#include "sim/buggify.h"

namespace walsim::campaign {
namespace {

CampaignResult sample_result() {
  CampaignResult result;
  result.seeds_run = 20;
  result.seeds_asked = 20;
  result.elapsed_s = 4;
  result.counts["faults"]["crash"] = 7;
  result.counts["fault_seeds"]["crash"] = 3;
  result.counts["schedule"]["pct"] = 12;
  result.counts["schedule"]["targeted"] = 8;
  SeedFailure failure{12, "checkpoint_content", false, {}};
  failure.counts["schedule"]["targeted"] = 1;
  result.failures.push_back(failure);
  result.failures.push_back({9, "checkpoint_content", false, {{"schedule", {{"pct", 1}}}}});
  result.failures.push_back({3, "crashed: signal 6 (SIGABRT)", true, {}});
  return result;
}

SummaryInput sample_input(const CampaignResult& result) {
  SummaryInput input;
  input.result = &result;
  input.overrides.preset = sim::Preset::kQuick;
  input.overrides.no_faults = true;
  input.overrides.unsafe_hard_deletes = true;
  input.overrides.schedule = sim::ScheduleMode::kTargeted;
  input.first_seed = 1;
  input.seeds_max = 40;
  input.shard_index = 1;
  input.shard_count = 2;
  input.jobs = 2;
  input.replay_files["checkpoint_content"] = "out/checkpoint_content-seed9.json";
  return input;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// Every flag that changes what a seed means is on the reproduce line.
TEST(Summary, AReproduceLineCarriesEveryFlagThatChangesWhatASeedMeans) {
  sim::Overrides overrides;
  overrides.preset = sim::Preset::kHeavy;
  overrides.no_faults = true;
  overrides.unsafe_hard_deletes = true;
  overrides.schedule = sim::ScheduleMode::kPct;
  EXPECT_EQ(reproduce_command(7, overrides),
            "walsim sim --seed 7 --preset heavy --no-faults --unsafe-hard-deletes --schedule pct");
  EXPECT_EQ(reproduce_command(7, {}), "walsim sim --seed 7 --preset default");
}

TEST(Summary, TheTextSaysSeedsFailuresFaultsSchedulesAndTheVerdict) {
  const CampaignResult result = sample_result();
  const std::string text = joined(summary_lines(sample_input(result)));
  EXPECT_NE(text.find("seeds:        asked 20, run 20, passed 17, failed 3"), std::string::npos)
      << text;
  EXPECT_NE(text.find("shard 1/2"), std::string::npos) << text;
  EXPECT_NE(text.find("5.0 seeds/s"), std::string::npos) << text;
  EXPECT_NE(text.find("random 0, pct 12, targeted 8"), std::string::npos) << text;
  EXPECT_NE(text.find("crash 7 in 3 seeds"), std::string::npos) << text;
  EXPECT_NE(text.find("disconnect 0"), std::string::npos) << text;  // every kind, fired or not
  // Per invariant, the seeds ascending and the first one's reproduce line.
  EXPECT_NE(text.find("checkpoint_content: 2 seeds: 9 12  (schedule pct=1 targeted=1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reproduce: walsim sim --seed 9 --preset quick --no-faults "
                      "--unsafe-hard-deletes --schedule targeted --trace"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("minimized: walsim sim --replay out/checkpoint_content-seed9.json"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("crashed: signal 6 (SIGABRT): 1 seeds: 3"), std::string::npos) << text;
  EXPECT_NE(text.find("rare paths:   0 of " + std::to_string(probe::catalog().size()) + " reached"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("truncate_restarted_copy                        NEVER"), std::string::npos)
      << text;
  EXPECT_NE(text.find("planted bugs: (a gate of its own: walsim campaign --mutants"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("result:       FAIL: 3 of 20 seeds"), std::string::npos) << text;
}

// A section a later change adds to the tally is shown without a change here.
TEST(Summary, ANewTallySectionIsShownUnderItsName) {
  CampaignResult result = sample_result();
  result.failures.clear();
  result.counts["rare_paths"]["truncate_restarted_copy"] = 5;
  result.counts["rare_path_first_seed"]["truncate_restarted_copy"] = 7;
  result.counts["mutant_kills"]["skip_tombstone"] = 2;
  const std::string text = joined(summary_lines(sample_input(result)));
  EXPECT_NE(text.find("truncate_restarted_copy                               5  seed 7"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("rare_path_first_seed:"), std::string::npos) << text;
  EXPECT_NE(text.find("mutant_kills: skip_tombstone 2"), std::string::npos) << text;
  EXPECT_NE(text.find("result:       PASS: 20 seeds"), std::string::npos) << text;
}

TEST(Summary, TheJsonCarriesTheSame) {
  const CampaignResult result = sample_result();
  const nlohmann::json json = nlohmann::json::parse(summary_json(sample_input(result)));
  EXPECT_EQ(json["seeds_asked"], 20);
  EXPECT_EQ(json["seeds_run"], 20);
  EXPECT_EQ(json["seeds_failed"], 3);
  EXPECT_EQ(json["shard"]["index"], 1);
  EXPECT_EQ(json["shard"]["count"], 2);
  EXPECT_EQ(json["seeds_per_s"], 5.0);
  EXPECT_EQ(json["flags"]["schedule"], "targeted");
  EXPECT_EQ(json["faults"]["crash"]["fired"], 7);
  EXPECT_EQ(json["faults"]["crash"]["seeds"], 3);
  EXPECT_EQ(json["faults"]["disconnect"]["fired"], 0);
  EXPECT_EQ(json["schedules"]["pct"], 12);
  ASSERT_EQ(json["failures"].size(), 3u);
  EXPECT_EQ(json["failures"][0]["seed"], 12);
  EXPECT_EQ(json["failures"][0]["schedule"], "targeted");
  EXPECT_EQ(json["failures"][0]["reproduce"],
            "walsim sim --seed 12 --preset quick --no-faults --unsafe-hard-deletes --schedule "
            "targeted");
  EXPECT_TRUE(json["failures"][2]["crashed"]);
  EXPECT_EQ(json["replay_files"][0], "out/checkpoint_content-seed9.json");
  EXPECT_EQ(json["rare_paths"]["truncate_restarted_copy"]["hits"], 0);
  EXPECT_TRUE(json["rare_paths"]["truncate_restarted_copy"]["first_seed"].is_null());
  EXPECT_TRUE(json["planted_bugs"].is_null());
  EXPECT_FALSE(json["passed"]);
}

}  // namespace
}  // namespace walsim::campaign

namespace walsim::campaign {
namespace {

// The gate's list: catalog entries never reached, then fault kinds never fired.
TEST(Summary, RarePathsNeverReachedNameEachEntryAndFaultKind) {
  CampaignResult result;
  for (const probe::Probe& p : probe::catalog()) result.counts["rare_paths"][p.name] = 1;
  result.counts["rare_paths"].erase("copy_resumed_from_key");
  // Known gaps of the world (engine/probe.cc says why) are not asked for.
  for (const probe::Probe& p : probe::catalog()) {
    if (*p.gap) result.counts["rare_paths"].erase(p.name);
  }
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    result.counts["faults"][sim::fault_name(static_cast<sim::FaultKind>(i))] = 1;
  }
  result.counts["faults"].erase("disk_full");
  EXPECT_EQ(rare_paths_never_reached(result),
            (std::vector<std::string>{"copy_resumed_from_key", "fault:disk_full"}));
}

// A fixed range cut short by the time: no failure, and still not a pass.
TEST(Summary, ARangeNotRunInFullIsAFailureThatSaysSo) {
  CampaignResult result;
  result.seeds_asked = 400;
  result.seeds_run = 123;
  result.elapsed_s = 20;
  SummaryInput input;
  input.result = &result;
  input.seeds_max = 400;
  std::string text;
  for (const std::string& line : summary_lines(input)) text += line + "\n";
  EXPECT_NE(text.find("FAIL: only 123 of the 400 seeds asked for ran"), std::string::npos) << text;
  const nlohmann::json json = nlohmann::json::parse(summary_json(input));
  EXPECT_EQ(json["seeds_asked"], 400);
  EXPECT_EQ(json["seeds_run"], 123);
  EXPECT_FALSE(json["complete"]);
  EXPECT_FALSE(json["passed"]);
}

}  // namespace
}  // namespace walsim::campaign
