// Runner: the campaign's worker pool, as a library that returns what
// happened (seeds run, failures with their seeds) and leaves flags,
// printing and exit codes to the command (cli/campaign_command.cc).
//
// Method: fork `jobs` workers; worker i runs the seeds of stride i,
// first+i, first+i+jobs, ..., and writes to its pipe "start S" before a
// seed and "pass S" or "fail S <invariant>" after it. The parent reads all
// pipes until the time is up or every stride is done, then stops the
// workers. Workers share nothing: a seed's run depends on its seed only.
//
// A worker that dies (a failed WALSIM_ASSERT aborts it, a signal kills
// it, it exits non-zero) is a failure, never a silent gap: its pipe closes
// with a seed started and not finished, so the parent records that seed
// as failed ("crashed: signal 6 (SIGABRT)") and starts a replacement
// worker for the rest of that stride.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/params.h"

namespace walsim::campaign {

struct SeedFailure {
  uint64_t seed = 0;
  // The invariant the seed broke, or how its worker died
  // ("crashed: signal 6 (SIGABRT)", "crashed: exit 3").
  std::string invariant;
  // The worker died: the seed cannot be replayed in-process (it would take
  // the caller down too) and has no violation to minimize.
  bool crashed = false;
};

struct CampaignProgress {
  uint64_t seeds_run = 0;
  size_t failures = 0;
  double elapsed_s = 0;
};

// How a worker runs one seed: the invariant it broke, or nullopt if it
// passed. Runs in the worker process; it may abort.
using SeedRun = std::function<std::optional<std::string>(uint64_t seed)>;

struct RunnerOptions {
  double time_s = 60;
  int jobs = 2;
  uint64_t first_seed = 1;
  std::optional<uint64_t> seeds_max;  // nullopt: until the time is up
  SeedRun run_seed;                   // e.g. simulate_seed(overrides)
  // Both run in the calling process as results arrive; either may be empty.
  std::function<void(const SeedFailure&)> on_failure;
  std::function<void(const CampaignProgress&)> on_progress;  // about every 200 ms
};

struct CampaignResult {
  uint64_t seeds_run = 0;               // finished: passed, failed or crashed
  std::optional<uint64_t> seeds_asked;  // the fixed range's size, if any
  std::vector<SeedFailure> failures;    // in the order they arrived
  int workers_started = 0;              // jobs, plus one per replaced worker
  double elapsed_s = 0;
};

CampaignResult run_campaign(const RunnerOptions& options);

// The campaign's usual SeedRun: the simulation of draw_params(seed, overrides).
SeedRun simulate_seed(const sim::Overrides& overrides);

}  // namespace walsim::campaign
