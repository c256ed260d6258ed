// `bazel run -c opt //bench:seeds -- [FIRST LAST]`: default-preset seeds
// per CPU second, in this process, one seed after another (what one
// campaign job does). CPU time, not wall time: the development machine is
// shared, and CPU time is what a seed costs whoever else runs. Seeds per
// second with `walsim campaign --jobs N` on N idle cores is about N times
// this figure. The last line is `seeds_per_s=...` for scripts.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "sim/params.h"
#include "sim/simulation.h"

namespace {

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  const uint64_t first = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  const uint64_t last = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 60;
  if (first == 0 || last < first) {
    std::fprintf(stderr, "usage: seeds [FIRST LAST] (seeds 1-60 by default)\n");
    return 2;
  }
  walsim::sim::Overrides overrides;  // the default preset, faults drawn per seed
  int64_t failed = 0;
  int64_t steps = 0;
  const double start_s = cpu_seconds();
  for (uint64_t seed = first; seed <= last; seed++) {
    const walsim::sim::RunResult result =
        walsim::sim::run_simulation(walsim::sim::draw_params(seed, overrides), nullptr);
    failed += result.passed() ? 0 : 1;
    steps += result.stats.steps;
  }
  const double cpu_s = cpu_seconds() - start_s;
  const double seeds = static_cast<double>(last - first + 1);
  std::printf("seeds=%llu-%llu failed=%lld steps=%lld cpu_s=%.2f ms_per_seed=%.1f\n",
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
              static_cast<long long>(failed), static_cast<long long>(steps), cpu_s,
              1000.0 * cpu_s / seeds);
  std::printf("seeds_per_s=%.2f\n", seeds / cpu_s);
  return 0;
}
