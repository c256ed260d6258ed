// The gate: a fixed range of seeds passes. `walsim sim --seeds 1-2000` is
// the full run; this is the part every `bazel test` pays for, in chunks so
// the test shards can run them side by side.
#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace walsim::sim {
namespace {

void expect_seeds_pass(uint64_t first, uint64_t last, Preset preset) {
  Overrides overrides;
  overrides.preset = preset;
  for (uint64_t seed = first; seed <= last; seed++) {
    RunResult result = run_simulation(draw_params(seed, overrides), nullptr);
    EXPECT_TRUE(result.passed()) << "seed " << seed << " broke " << result.violation->invariant
                                 << ": " << result.violation->detail.substr(0, 400)
                                 << "\n  reproduce: walsim sim --preset " << preset_name(preset)
                                 << " --seed " << seed;
  }
}

TEST(SimSeeds, Seeds1To50) { expect_seeds_pass(1, 50, Preset::kDefault); }
TEST(SimSeeds, Seeds51To100) { expect_seeds_pass(51, 100, Preset::kDefault); }
TEST(SimSeeds, Seeds101To150) { expect_seeds_pass(101, 150, Preset::kDefault); }
TEST(SimSeeds, Seeds151To200) { expect_seeds_pass(151, 200, Preset::kDefault); }
TEST(SimSeeds, QuickSeeds1To500) { expect_seeds_pass(1, 500, Preset::kQuick); }

}  // namespace
}  // namespace walsim::sim
