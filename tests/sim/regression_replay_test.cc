// Every replay file in tests/regressions/ runs again here and must end as
// the file expects: "pass" for a bug that was fixed (it must never come
// back), or the invariant a planted bug breaks (the canary must keep being
// caught). Files are found through the test's runfiles.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/mutant.h"
#include "sim/replay_file.h"
#include "sim/simulation.h"

namespace walsim {
namespace {

std::vector<std::filesystem::path> replay_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator("tests/regressions")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(RegressionReplay, EveryFileEndsAsItExpects) {
  std::vector<std::filesystem::path> files = replay_files();
  ASSERT_FALSE(files.empty()) << "tests/regressions/ holds at least the canary";
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    auto file = sim::load_replay_file(path.string());
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    sim::RunResult result = sim::run_simulation(file->params, nullptr);
    std::string outcome = result.passed() ? "pass" : result.violation->invariant;
    EXPECT_EQ(outcome, file->expect)
        << (result.passed() ? std::string() : result.violation->detail);
  }
}

// A fixed bug's file names the planted bug that undoes its fix. In a build
// with mutants (--config=mutants) the file runs again with it on and must
// fail: "fails without the fix" is checked, not claimed. In other builds
// the name must still be one the catalog knows.
TEST(RegressionReplay, EveryFileFailsWithItsFixReverted) {
  int checked = 0;
  for (const auto& path : replay_files()) {
    SCOPED_TRACE(path.string());
    auto file = sim::load_replay_file(path.string());
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    if (file->reverts.empty()) continue;
    EXPECT_EQ(file->expect, "pass") << "only a fixed bug's file reverts a fix";
    ASSERT_NE(mutant::find(file->reverts), nullptr) << "no planted bug named " << file->reverts;
    if (!mutant::kCompiled) continue;
    ASSERT_TRUE(mutant::set_active(file->reverts));
    sim::RunResult result = sim::run_simulation(file->params, nullptr);
    ASSERT_TRUE(mutant::set_active(""));
    EXPECT_FALSE(result.passed()) << "passes with " << file->reverts << " on: the file no "
                                  << "longer shows its bug";
    checked++;
  }
  if (mutant::kCompiled) {
    EXPECT_GT(checked, 0) << "a mutants build checks at least one file";
    std::printf("%d replay files failed with their fix reverted\n", checked);
  }
}

TEST(RegressionReplay, MalformedFilesAreRefusedWithTheField) {
  auto missing = sim::replay_from_json(R"({"format": "walsim-replay-1", "expect": "pass"})");
  EXPECT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), "missing field file.params");
  auto not_json = sim::replay_from_json("seed=1");
  EXPECT_EQ(not_json.status().message(), "not a JSON object");
  auto canary = sim::load_replay_file("tests/sim/testdata/replay-before-disk-faults.json");
  ASSERT_TRUE(canary.is_ok());
  std::string text = sim::to_json(*canary);
  text.replace(text.find("\"start_lsn\": \""), 14, "\"start_lsn\": \"zz");
  auto bad_lsn = sim::replay_from_json(text);
  EXPECT_NE(bad_lsn.status().message().find("params.start_lsn is not an LSN"), std::string::npos)
      << bad_lsn.status().message();
}

TEST(RegressionReplay, RoundTripKeepsEveryParameter) {
  auto canary = sim::load_replay_file("tests/sim/testdata/replay-before-disk-faults.json");
  ASSERT_TRUE(canary.is_ok());
  auto again = sim::replay_from_json(sim::to_json(*canary));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(sim::to_json(*again), sim::to_json(*canary));
  sim::RunResult first = sim::run_simulation(canary->params, nullptr);
  sim::RunResult second = sim::run_simulation(again->params, nullptr);
  EXPECT_EQ(first.stats.trace_hash, second.stats.trace_hash);
}

// Files written before the disk faults, group commit and the new canaries
// existed (the canary file is one) load with those off or at the engine's
// defaults; files written now keep them.
TEST(RegressionReplay, NewFieldsDefaultWhenMissingAndRoundTrip) {
  auto old = sim::load_replay_file("tests/sim/testdata/replay-before-disk-faults.json");
  ASSERT_TRUE(old.is_ok());
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kPowerLoss)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kStorageRefused)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kSlotDropped)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kFreshCluster)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kPublicationChange)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kTableRecreated)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kTableRecreatedWhileDown)], 0u);
  EXPECT_EQ(old->params.faults[static_cast<size_t>(sim::FaultKind::kIdentityChanged)], 0u);
  EXPECT_FALSE(old->params.engine.unsafe_no_sync);
  EXPECT_EQ(old->params.engine.durable_every_transactions, 256);
  sim::ReplayFile file = *old;
  file.params.faults[static_cast<size_t>(sim::FaultKind::kPowerLossAtIo)] = 300;
  file.params.engine.unsafe_ack_before_commit = true;
  file.params.engine.durable_every_transactions = 8;
  file.params.engine.op_ids_reserved_ahead = 64;
  auto again = sim::replay_from_json(sim::to_json(file));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->params.faults[static_cast<size_t>(sim::FaultKind::kPowerLossAtIo)], 300u);
  EXPECT_TRUE(again->params.engine.unsafe_ack_before_commit);
  EXPECT_FALSE(again->params.engine.unsafe_no_sync);
  EXPECT_EQ(again->params.engine.durable_every_transactions, 8);
  EXPECT_EQ(again->params.engine.op_ids_reserved_ahead, 64);
}

}  // namespace
}  // namespace walsim
