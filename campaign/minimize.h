// Minimize: shrink a failing run's parameters while it still breaks the
// same invariant, so the file a campaign leaves behind is small enough to
// read event by event.
//
// Method: greedy passes over a fixed list of shrinks (fewer tables, rows,
// transactions, clients and workers; one fault site or op kind off; shorter
// transactions). A shrink is kept when the run still fails the same way;
// when the smaller world passes under the same seed, a few nearby seeds get
// a try, since a smaller world re-draws every choice. Passes repeat until
// none shrinks or the time budget is spent. Every run is isolated in a
// child process (campaign/isolated_run.h), so a failure that crashes or
// hangs is minimized like an invariant: by how the child ended.
#pragma once

#include <cstdint>
#include <string>

#include "sim/params.h"
#include "sim/simulation.h"

namespace walsim::campaign {

struct MinimizeResult {
  sim::SimParams params;  // still fails with `invariant`
  std::string invariant;  // or "crashed: ...", "hung: ..."
  bool reproduced = false;  // the original run failed again; else nothing shrank
  int64_t runs = 0;
  int64_t events_before = 0;  // trace events of the original failing run
  int64_t events_after = 0;
  double seconds = 0;
};

struct MinimizeOptions {
  double budget_s = 60;
  double run_timeout_s = 60;  // an attempt running longer is "hung"
  sim::StepHook hook;         // run after every step of every attempt (planted failures)
};

// The way `failing` fails is the one kept.
MinimizeResult minimize(const sim::SimParams& failing, const MinimizeOptions& options);

// "tables=1 rows=2 transactions=3 faults=0 events=27"
std::string describe_size(const sim::SimParams& params, int64_t events);

}  // namespace walsim::campaign
