// Isolated runs: one simulation in a child process with a time limit, so a
// run that aborts, dies of a signal or never ends is an outcome to compare
// ("crashed: signal 6 (SIGABRT)", "hung: no result in 60s"), not the end of
// the process that asked. The minimizer runs every attempt this way.
#pragma once

#include <cstdint>
#include <string>

#include "sim/params.h"
#include "sim/simulation.h"

namespace walsim::campaign {

struct IsolatedOutcome {
  // "pass", the invariant broken, or how the child died or hung; the same
  // words the campaign's runner uses for a worker, so they compare equal.
  std::string outcome;
  int64_t events = 0;  // trace events, when the run reported
};

IsolatedOutcome run_isolated(const sim::SimParams& params, const sim::StepHook& hook,
                             double timeout_s);

// "crashed: signal 6 (SIGABRT)", "crashed: exit 3", from a wait status.
std::string describe_death(int status);
// "hung: no result in 60s".
std::string describe_hang(double timeout_s);

}  // namespace walsim::campaign
