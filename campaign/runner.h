// Runner: the campaign's worker pool, as a library that returns what
// happened (seeds run, failures with their seeds) and leaves flags,
// printing and exit codes to the command (cli/campaign_command.cc).
//
// Method: fork `jobs` workers; worker i runs the seeds of stride i,
// first+i, first+i+jobs, ..., and writes to its pipe "start S" before a
// seed and "pass S <counts>" or "fail S <counts> invariant=<invariant>"
// after it. The parent reads all pipes until the time is up or every
// stride is done, then stops the workers. Workers share nothing: a seed's
// run depends on its seed only.
//
// Shards: a campaign over many machines runs shard I of N on each; shard I
// takes the seeds congruent to I mod N (of the range, or from first_seed
// on), so the shards are disjoint and their union is the whole range.
// Within a shard the workers stride as above, over the shard's seeds.
//
// A worker that dies (a failed WALSIM_ASSERT aborts it, a signal kills
// it, it exits non-zero) is a failure, never a silent gap: its pipe closes
// with a seed started and not finished, so the parent records that seed
// as failed ("crashed: signal 6 (SIGABRT)") and starts a replacement
// worker for the rest of that stride. A seed that runs longer than the
// per-seed limit (seed_timeout_s) is a failure too ("hung: ..."): the
// parent kills its worker and starts a replacement, as for a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/params.h"
#include "sim/simulation.h"

namespace walsim::campaign {

// Counts by section and name, summed over seeds: "faults" -> firings per
// kind, "fault_seeds" -> seeds in which a kind fired, "schedule" -> seeds
// per mode, "rare_paths" -> hits per probe; later sections add their own,
// and the summary (summary.h) shows every section. Names are single
// tokens. A section whose name ends in "_first_seed" is not summed: it
// keeps the smallest value (the first seed that reached a rare path).
using Tally = std::map<std::string, std::map<std::string, int64_t>>;
void add_to(Tally& total, const Tally& more);

// What one seed's run reports. From an invariant alone, so a SeedRun may
// return just std::optional<std::string>.
struct SeedReport {
  SeedReport(std::optional<std::string> broken = std::nullopt) : invariant(std::move(broken)) {}
  std::optional<std::string> invariant;  // nullopt: passed
  Tally counts;
};

struct SeedFailure {
  uint64_t seed = 0;
  // The invariant the seed broke, or how its worker died
  // ("crashed: signal 6 (SIGABRT)", "crashed: exit 3").
  std::string invariant;
  // The worker died or hung: the seed cannot be replayed in-process (it
  // would take the caller down too); minimize it in child processes.
  bool crashed = false;
  Tally counts;  // the seed's report (empty for a crash)
  // When it arrived: seeds finished until then (this one included) and
  // seconds since the campaign started.
  uint64_t seeds_run_at = 0;
  double elapsed_s = 0;
};

struct CampaignProgress {
  uint64_t seeds_run = 0;
  size_t failures = 0;
  double elapsed_s = 0;
};

// How a worker runs one seed: the invariant it broke (nullopt if it
// passed) and its counts. Runs in the worker process; it may abort.
using SeedRun = std::function<SeedReport(uint64_t seed)>;

struct RunnerOptions {
  double time_s = 60;
  int jobs = 2;
  uint64_t first_seed = 1;
  std::optional<uint64_t> seeds_max;  // nullopt: until the time is up
  int shard_index = 0;                // this campaign is shard I of N
  int shard_count = 1;
  double seed_timeout_s = 60;         // a seed still running after this is "hung"
  bool stop_at_first_failure = false; // the planted-bug gate: one failure is the answer
  SeedRun run_seed;                   // e.g. simulate_seed(overrides)
  // Both run in the calling process as results arrive; either may be empty.
  std::function<void(const SeedFailure&)> on_failure;
  std::function<void(const CampaignProgress&)> on_progress;  // about every 200 ms
};

struct CampaignResult {
  uint64_t seeds_run = 0;               // finished: passed, failed or crashed
  std::optional<uint64_t> seeds_asked;  // the shard's part of a fixed range
  Tally counts;                         // summed over every seed that reported
  std::vector<SeedFailure> failures;    // in the order they arrived
  int workers_started = 0;              // jobs, plus one per replaced worker
  double elapsed_s = 0;
  // A fixed range whose seeds did not all run (the time was up first).
  bool incomplete() const { return seeds_asked && seeds_run < *seeds_asked; }
};

CampaignResult run_campaign(const RunnerOptions& options);

// The seeds of shard `index` of `count` in [first, first + size): every
// one congruent to index mod count, ascending.
std::vector<uint64_t> shard_seeds(uint64_t first, uint64_t size, int index, int count);

// The campaign's usual SeedRun: the simulation of draw_params(seed,
// overrides), with the faults it fired and the schedule mode it ran.
SeedRun simulate_seed(const sim::Overrides& overrides);
// The same counts for a run done elsewhere (the hidden planted-seed flag).
SeedReport report_of(const sim::SimParams& params, const sim::RunResult& result);

}  // namespace walsim::campaign
