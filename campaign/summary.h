// Summary: what a campaign found, for a person (a few aligned lines that
// a newcomer reads at a glance) and for CI (the same as JSON).
//
// Sections, in order: seeds (asked, run, passed, failed), speed, schedule
// modes used, faults fired per kind, failures (per invariant: how many,
// which seeds, the command that reproduces the first, its minimized replay
// file), rare paths, planted bugs, and the verdict. Every section of the
// result's Tally is shown: one a later change adds (say "rare_paths", a
// count per rare path reached) appears under its own title without a
// change here; the sections still to come print what is missing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaign/runner.h"
#include "sim/params.h"

namespace walsim::campaign {

// What the summary needs besides the result: how the campaign was asked.
struct SummaryInput {
  const CampaignResult* result = nullptr;
  sim::Overrides overrides;  // the flags that change what a seed means
  uint64_t first_seed = 1;
  std::optional<uint64_t> seeds_max;
  int shard_index = 0;
  int shard_count = 1;
  int jobs = 1;
  double time_s = 0;
  // Minimized replay files, by the invariant whose first seed they hold.
  std::map<std::string, std::string> replay_files;
};

// "walsim sim --seed 12 --preset default --unsafe-hard-deletes".
std::string reproduce_command(uint64_t seed, const sim::Overrides& overrides);

std::vector<std::string> summary_lines(const SummaryInput& input);

// The rare paths (engine/probe.h's catalog, known gaps left out) no seed
// reached, then the fault kinds that never fired ("fault:disk_full"):
// what the campaign's --require-rare-paths gate fails on.
std::vector<std::string> rare_paths_never_reached(const CampaignResult& result);
// The same content, as a JSON document (ends with a newline).
std::string summary_json(const SummaryInput& input);

}  // namespace walsim::campaign
