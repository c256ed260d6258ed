// The seed-range gate: every seed of a range passes. Sharded by seed for
// Bazel, so `bazel test` spreads a range over as many executors (local
// cores, or remote ones with --remote_executor) as the target has shards.
//
// Shard I of N (Bazel's TEST_SHARD_INDEX and TEST_TOTAL_SHARDS) runs the
// seeds congruent to I mod N, the same split as `walsim campaign --shard
// I/N`, so the shards of a range run each of its seeds exactly once. The
// test touches TEST_SHARD_STATUS_FILE to tell Bazel it shards itself, and
// keeps GoogleTest from sharding its cases on top (every case runs in
// every shard, over that shard's seeds).
//
// The ranges are flags (set in BUILD) that the environment may override,
// for a nightly run over many more seeds (an empty range is B < A):
//   bazel test -c opt //tests/sim:sim_seeds_nightly_test
//     --test_env=WALSIM_DEFAULT_SEEDS=1-50000 --test_env=WALSIM_QUICK_SEEDS=1-0
// WALSIM_UNSAFE_HARD_DELETES=1 runs the canary instead: the test must fail,
// which shows the pipeline (shards, outputs, collection) catches failures.
// A failing seed is listed with its reproduce line, and written to
// TEST_UNDECLARED_OUTPUTS_DIR (failures.json and one replay file per
// failure), which Bazel collects from every shard into outputs.zip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/params.h"
#include "sim/replay_file.h"
#include "sim/simulation.h"

namespace walsim::sim {
namespace {

struct Shard {
  uint64_t index = 0;
  uint64_t count = 1;
};

struct Range {
  uint64_t first = 1;
  uint64_t last = 0;  // last < first: empty
};

Shard g_shard;
bool g_canary = false;
Range g_default_seeds{1, 200};
Range g_quick_seeds{1, 500};
nlohmann::ordered_json g_failures = nlohmann::ordered_json::array();

std::optional<Range> parse_range(const std::string& text) {
  unsigned long long first = 0, last = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%llu-%llu%n", &first, &last, &used) != 2 ||
      used != static_cast<int>(text.size())) {
    return std::nullopt;
  }
  return Range{first, last};
}

uint64_t env_number(const char* name, uint64_t otherwise) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : otherwise;
}

// Where Bazel keeps a test's extra outputs; empty when run by hand.
std::string outputs_dir() {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return dir ? dir : "";
}

void record_failure(const SimParams& params, const RunResult& result, const Overrides& overrides) {
  const std::string reproduce =
      "walsim sim --seed " + std::to_string(params.seed) + override_flags(overrides);
  const char* preset = preset_name(overrides.preset);
  g_failures.push_back({{"seed", params.seed},
                        {"preset", preset},
                        {"invariant", result.violation->invariant},
                        {"schedule", schedule_mode_name(params.scheduler.mode)},
                        {"reproduce", reproduce}});
  if (outputs_dir().empty()) return;
  const std::string path = outputs_dir() + "/" + result.violation->invariant + "-" + preset +
                           "-seed" + std::to_string(params.seed) + ".json";
  const Status saved = save_replay_file(
      path, {params, result.violation->invariant,
             "found by //tests/sim:sim_seeds_test at seed " + std::to_string(params.seed)});
  EXPECT_TRUE(saved.is_ok()) << saved.to_string();
}

// The shard's seeds of `range`, all of which must pass.
void expect_shard_passes(const Range& range, Preset preset) {
  Overrides overrides;
  overrides.preset = preset;
  overrides.unsafe_hard_deletes = g_canary;
  uint64_t ran = 0;
  for (uint64_t seed = range.first; seed <= range.last && seed >= range.first; seed++) {
    if (seed % g_shard.count != g_shard.index) continue;
    ran++;
    const SimParams params = draw_params(seed, overrides);
    const RunResult result = run_simulation(params, nullptr);
    if (result.passed()) continue;
    record_failure(params, result, overrides);
    ADD_FAILURE() << "seed " << seed << " (schedule " << schedule_mode_name(params.scheduler.mode)
                  << ") broke " << result.violation->invariant << ": "
                  << result.violation->detail.substr(0, 400)
                  << "\n  reproduce: walsim sim --seed " << seed << override_flags(overrides);
  }
  std::printf("shard %llu/%llu: %s seeds %llu-%llu = %llu mod %llu: %llu run\n",
              static_cast<unsigned long long>(g_shard.index),
              static_cast<unsigned long long>(g_shard.count), preset_name(preset),
              static_cast<unsigned long long>(range.first),
              static_cast<unsigned long long>(range.last),
              static_cast<unsigned long long>(g_shard.index),
              static_cast<unsigned long long>(g_shard.count), static_cast<unsigned long long>(ran));
}

TEST(SimSeeds, DefaultPresetRange) { expect_shard_passes(g_default_seeds, Preset::kDefault); }
TEST(SimSeeds, QuickPresetRange) { expect_shard_passes(g_quick_seeds, Preset::kQuick); }

// "--default_seeds=A-B", "--quick_seeds=A-B"; the environment
// (WALSIM_DEFAULT_SEEDS, WALSIM_QUICK_SEEDS) wins over the flags.
bool read_ranges(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    for (auto [flag, range] : {std::pair{"--default_seeds=", &g_default_seeds},
                               std::pair{"--quick_seeds=", &g_quick_seeds}}) {
      if (arg.rfind(flag, 0) != 0) continue;
      auto parsed = parse_range(arg.substr(std::string(flag).size()));
      if (!parsed) return false;
      *range = *parsed;
    }
  }
  for (auto [name, range] : {std::pair{"WALSIM_DEFAULT_SEEDS", &g_default_seeds},
                             std::pair{"WALSIM_QUICK_SEEDS", &g_quick_seeds}}) {
    const char* value = std::getenv(name);
    if (!value || !*value) continue;
    auto parsed = parse_range(value);
    if (!parsed) return false;
    *range = *parsed;
  }
  g_canary = env_number("WALSIM_UNSAFE_HARD_DELETES", 0) != 0;
  return true;
}

// Bazel's shard, taken here; GoogleTest must not shard the cases too.
void take_shard() {
  g_shard.count = env_number("TEST_TOTAL_SHARDS", 1);
  g_shard.index = env_number("TEST_SHARD_INDEX", 0);
  if (g_shard.count == 0) g_shard = Shard{};
  unsetenv("GTEST_TOTAL_SHARDS");
  unsetenv("GTEST_SHARD_INDEX");
  if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE")) std::ofstream touch(status);
}

void write_failures() {
  if (outputs_dir().empty()) return;
  std::ofstream out(outputs_dir() + "/failures.json");
  out << nlohmann::ordered_json{{"shard", {{"index", g_shard.index}, {"count", g_shard.count}}},
                                {"failures", g_failures}}
             .dump(2)
      << "\n";
}

}  // namespace
}  // namespace walsim::sim

int main(int argc, char** argv) {
  walsim::sim::take_shard();
  testing::InitGoogleTest(&argc, argv);
  if (!walsim::sim::read_ranges(argc, argv)) {
    std::fprintf(stderr, "sim_seeds_test: a seed range is A-B, e.g. 1-200\n");
    return 2;
  }
  const int status = RUN_ALL_TESTS();
  walsim::sim::write_failures();
  return status;
}
