#include "campaign/summary.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/assert.h"
#include "engine/probe.h"
#include "sim/buggify.h"

namespace walsim::campaign {

namespace {

using json = nlohmann::ordered_json;

// Sections of the Tally the summary shows under a title of its own, and
// the ones a later change will fill (shown as missing until then).
constexpr const char* kRarePaths = "rare_paths";
constexpr const char* kRarePathFirstSeed = "rare_path_first_seed";
constexpr const char* kPlantedBugs = "planted_bugs";
constexpr size_t kSeedsListed = 8;  // per invariant, in the text

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

double seeds_per_s(const CampaignResult& result) {
  return result.elapsed_s > 0 ? static_cast<double>(result.seeds_run) / result.elapsed_s : 0;
}

// "seeds 1-400" or "seeds from 1 on (until the time is up)", with the shard.
std::string range_text(const SummaryInput& in) {
  std::string text = in.seeds_max ? "seeds " + std::to_string(in.first_seed) + "-" +
                                        std::to_string(in.first_seed + *in.seeds_max - 1)
                                  : "seeds from " + std::to_string(in.first_seed) +
                                        " on, for " + fixed(in.time_s, 0) + "s";
  if (in.shard_count > 1) {
    text += ", shard " + std::to_string(in.shard_index) + "/" + std::to_string(in.shard_count) +
            " (seeds = " + std::to_string(in.shard_index) + " mod " +
            std::to_string(in.shard_count) + ")";
  }
  return text;
}

const std::map<std::string, int64_t>* section(const CampaignResult& result, const char* name) {
  auto found = result.counts.find(name);
  return found == result.counts.end() ? nullptr : &found->second;
}

int64_t count_of(const std::map<std::string, int64_t>* names, const std::string& name) {
  if (!names) return 0;
  auto found = names->find(name);
  return found == names->end() ? 0 : found->second;
}

// Failures grouped by invariant, each group's seeds ascending.
std::map<std::string, std::vector<const SeedFailure*>> by_invariant(const CampaignResult& result) {
  std::map<std::string, std::vector<const SeedFailure*>> groups;
  for (const SeedFailure& failure : result.failures) groups[failure.invariant].push_back(&failure);
  for (auto& [invariant, failures] : groups) {
    std::sort(failures.begin(), failures.end(),
              [](const SeedFailure* a, const SeedFailure* b) { return a->seed < b->seed; });
  }
  return groups;
}

std::string schedule_of(const SeedFailure& failure) {
  auto found = failure.counts.find("schedule");
  if (found == failure.counts.end() || found->second.empty()) return "";
  return found->second.begin()->first;
}

void add_failure_lines(const SummaryInput& in, std::vector<std::string>& lines) {
  const CampaignResult& result = *in.result;
  if (result.failures.empty()) {
    lines.push_back("failures:     none");
    return;
  }
  const size_t invariants = by_invariant(result).size();
  lines.push_back("failures:     " + std::to_string(result.failures.size()) +
                  (result.failures.size() == 1 ? " seed, " : " seeds, ") +
                  std::to_string(invariants) + (invariants == 1 ? " invariant" : " invariants"));
  for (const auto& [invariant, failures] : by_invariant(result)) {
    std::string seeds;
    std::map<std::string, int64_t> modes;
    for (size_t i = 0; i < failures.size(); i++) {
      if (i < kSeedsListed) seeds += " " + std::to_string(failures[i]->seed);
      if (const std::string mode = schedule_of(*failures[i]); !mode.empty()) modes[mode]++;
    }
    if (failures.size() > kSeedsListed) seeds += " ...";
    std::string by_mode;
    for (const auto& [mode, count] : modes) by_mode += " " + mode + "=" + std::to_string(count);
    lines.push_back("  " + invariant + ": " + std::to_string(failures.size()) + " seeds:" + seeds +
                    (by_mode.empty() ? "" : "  (schedule" + by_mode + ")"));
    const SeedFailure& first = *failures.front();
    lines.push_back("    reproduce: " + reproduce_command(first.seed, in.overrides) +
                    (first.crashed ? "" : " --trace trace.txt --timeline timeline.svg"));
    if (auto file = in.replay_files.find(invariant); file != in.replay_files.end()) {
      lines.push_back("    minimized: walsim sim --replay " + file->second);
    }
  }
}

// "crash 12 in 5 seeds, disconnect 40 in 9 seeds, ..." over every kind.
std::string faults_text(const CampaignResult& result) {
  const auto* fired = section(result, "faults");
  const auto* seeds = section(result, "fault_seeds");
  std::string text;
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    const std::string kind = sim::fault_name(static_cast<sim::FaultKind>(i));
    if (!text.empty()) text += ", ";
    text += kind + " " + std::to_string(count_of(fired, kind));
    if (const int64_t in = count_of(seeds, kind); in > 0) {
      text += " in " + std::to_string(in) + (in == 1 ? " seed" : " seeds");
    }
  }
  return text;
}

std::string names_text(const std::map<std::string, int64_t>& names) {
  std::string text;
  for (const auto& [name, count] : names) {
    text += (text.empty() ? "" : ", ") + name + " " + std::to_string(count);
  }
  return text.empty() ? "none" : text;
}

// Wraps "a, b, c, ..." at about `width` characters under a hanging indent.
void add_wrapped(std::vector<std::string>& lines, const std::string& title,
                 const std::string& text, size_t width = 100) {
  const std::string indent(14, ' ');
  std::string line = title + std::string(title.size() < 14 ? 14 - title.size() : 1, ' ');
  size_t at = 0;
  bool first_word = true;
  while (at < text.size()) {
    size_t end = text.find(", ", at);
    end = end == std::string::npos ? text.size() : end + 2;
    const std::string word = text.substr(at, end - at);
    if (!first_word && line.size() + word.size() > width) {
      while (line.back() == ' ') line.pop_back();
      lines.push_back(line);
      line = indent;
    }
    line += word;
    first_word = false;
    at = end;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  lines.push_back(line);
}

// Every entry of the catalog, reached or not: hits and the first seed.
void add_rare_path_lines(const CampaignResult& result, std::vector<std::string>& lines) {
  const auto* hits = section(result, kRarePaths);
  const auto* first = section(result, kRarePathFirstSeed);
  size_t reached = 0;
  for (const probe::Probe& p : probe::catalog()) reached += count_of(hits, p.name) > 0;
  lines.push_back("rare paths:   " + std::to_string(reached) + " of " +
                  std::to_string(probe::catalog().size()) + " reached  (hits, first seed)");
  for (const probe::Probe& p : probe::catalog()) {
    const int64_t count = count_of(hits, p.name);
    char line[160];
    if (count == 0) {
      std::snprintf(line, sizeof line, "  %-46s NEVER%s", p.name,
                    *p.gap ? "  (a known gap of the world: see engine/probe.cc)" : "");
    } else {
      std::snprintf(line, sizeof line, "  %-46s %8lld  seed %lld", p.name,
                    static_cast<long long>(count), static_cast<long long>(count_of(first, p.name)));
    }
    lines.push_back(line);
  }
}

std::string verdict(const CampaignResult& result) {
  if (!result.failures.empty()) {
    return "FAIL: " + std::to_string(result.failures.size()) + " of " +
           std::to_string(result.seeds_run) + " seeds broke an invariant";
  }
  // A range cut short proves nothing about the seeds it did not run.
  if (result.incomplete()) {
    return "FAIL: only " + std::to_string(result.seeds_run) + " of the " +
           std::to_string(*result.seeds_asked) + " seeds asked for ran before the time was up";
  }
  return "PASS: " + std::to_string(result.seeds_run) + " seeds, no invariant broken";
}

json tally_json(const std::map<std::string, int64_t>* names) {
  json out = json::object();
  if (names) {
    for (const auto& [name, count] : *names) out[name] = count;
  }
  return out;
}

// The canaries switched on, by their replay-file names.
std::vector<std::string> canary_names(const sim::Overrides& overrides) {
  std::vector<std::string> names;
  for (const sim::Canary& canary : sim::canaries()) {
    if (overrides.*canary.override) names.push_back(canary.name);
  }
  return names;
}

// ", canaries: unsafe_no_sync unsafe_hard_deletes" or "".
std::string canaries_text(const sim::Overrides& overrides) {
  std::string text;
  for (const std::string& name : canary_names(overrides)) text += " " + name;
  return text.empty() ? text : ", canaries:" + text;
}

}  // namespace

std::vector<std::string> rare_paths_never_reached(const CampaignResult& result) {
  std::vector<std::string> never;
  const auto* hits = section(result, kRarePaths);
  for (const probe::Probe& p : probe::catalog()) {
    if (count_of(hits, p.name) == 0 && !*p.gap) never.push_back(p.name);
  }
  const auto* fired = section(result, "faults");
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    const std::string kind = sim::fault_name(static_cast<sim::FaultKind>(i));
    if (count_of(fired, kind) == 0) never.push_back("fault:" + kind);
  }
  return never;
}

std::string reproduce_command(uint64_t seed, const sim::Overrides& overrides) {
  return "walsim sim --seed " + std::to_string(seed) + sim::override_flags(overrides);
}

std::vector<std::string> summary_lines(const SummaryInput& in) {
  WALSIM_ASSERT(in.result != nullptr, "a summary summarizes a result");
  const CampaignResult& result = *in.result;
  const uint64_t failed = result.failures.size();
  std::vector<std::string> lines = {"== campaign summary =="};
  lines.push_back("seeds:        " +
                  (result.seeds_asked ? "asked " + std::to_string(*result.seeds_asked) + ", "
                                      : std::string()) +
                  "run " + std::to_string(result.seeds_run) + ", passed " +
                  std::to_string(result.seeds_run - std::min(failed, result.seeds_run)) +
                  ", failed " + std::to_string(failed) + "  (" + range_text(in) + ")");
  lines.push_back("speed:        " + fixed(seeds_per_s(result), 1) + " seeds/s  (" +
                  std::to_string(result.seeds_run) + " seeds in " + fixed(result.elapsed_s, 1) +
                  "s on " + std::to_string(in.jobs) + " jobs)");
  lines.push_back("flags:        preset " + std::string(sim::preset_name(in.overrides.preset)) +
                  (in.overrides.no_faults ? ", faults off" : ", faults drawn per seed") +
                  canaries_text(in.overrides) +
                  (in.overrides.schedule ? std::string(", schedule forced to ") +
                                               sim::schedule_mode_name(*in.overrides.schedule)
                                         : ", schedule drawn per seed"));
  const auto* schedules = section(result, "schedule");
  std::string modes;
  for (const std::string& name : sim::schedule_mode_names()) {
    modes += (modes.empty() ? "" : ", ") + name + " " + std::to_string(count_of(schedules, name));
  }
  lines.push_back("schedules:    " + modes + "  (seeds per mode)");
  add_wrapped(lines, "faults fired:", faults_text(result));
  add_failure_lines(in, lines);
  add_rare_path_lines(result, lines);
  const auto* planted = section(result, kPlantedBugs);
  lines.push_back("planted bugs: " + (planted ? names_text(*planted)
                                              : std::string("(a gate of its own: walsim campaign "
                                                            "--mutants, in a mutants build)")));
  for (const auto& [name, names] : result.counts) {
    static const std::vector<std::string> kShown = {"faults", "fault_seeds", "schedule",
                                                    kRarePaths, kRarePathFirstSeed, kPlantedBugs};
    if (std::find(kShown.begin(), kShown.end(), name) != kShown.end()) continue;
    add_wrapped(lines, name + ":", names_text(names));
  }
  lines.push_back("result:       " + verdict(result));
  return lines;
}

std::string summary_json(const SummaryInput& in) {
  WALSIM_ASSERT(in.result != nullptr, "a summary summarizes a result");
  const CampaignResult& result = *in.result;
  json out;
  out["seeds_asked"] = result.seeds_asked ? json(*result.seeds_asked) : json(nullptr);
  out["seeds_run"] = result.seeds_run;
  out["seeds_passed"] = result.seeds_run - std::min<uint64_t>(result.failures.size(), result.seeds_run);
  out["seeds_failed"] = result.failures.size();
  out["first_seed"] = in.first_seed;
  out["seeds_max"] = in.seeds_max ? json(*in.seeds_max) : json(nullptr);
  out["shard"] = {{"index", in.shard_index}, {"count", in.shard_count}};
  out["elapsed_s"] = result.elapsed_s;
  out["seeds_per_s"] = seeds_per_s(result);
  out["jobs"] = in.jobs;
  out["flags"] = {{"preset", sim::preset_name(in.overrides.preset)},
                  {"no_faults", in.overrides.no_faults},
                  {"canaries", canary_names(in.overrides)},
                  {"schedule", in.overrides.schedule
                                   ? json(sim::schedule_mode_name(*in.overrides.schedule))
                                   : json(nullptr)}};
  out["failures"] = json::array();
  for (const SeedFailure& f : result.failures) {
    const std::string mode = schedule_of(f);
    out["failures"].push_back({{"seed", f.seed},
                               {"invariant", f.invariant},
                               {"crashed", f.crashed},
                               {"schedule", mode.empty() ? json(nullptr) : json(mode)},
                               {"reproduce", reproduce_command(f.seed, in.overrides)}});
  }
  json replay_files = json::array();
  for (const auto& [invariant, path] : in.replay_files) replay_files.push_back(path);
  out["replay_files"] = replay_files;
  out["schedules"] = tally_json(section(result, "schedule"));
  json faults = json::object();
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    const std::string kind = sim::fault_name(static_cast<sim::FaultKind>(i));
    faults[kind] = {{"fired", count_of(section(result, "faults"), kind)},
                    {"seeds", count_of(section(result, "fault_seeds"), kind)}};
  }
  out["faults"] = faults;
  // Filled by later work; null until then, so a reader can tell "none
  // reached" ({}) from "not counted" (null).
  json rare = json::object();
  for (const probe::Probe& p : probe::catalog()) {
    const int64_t count = count_of(section(result, kRarePaths), p.name);
    rare[p.name] = {{"hits", count},
                    {"first_seed", count ? json(count_of(section(result, kRarePathFirstSeed), p.name))
                                         : json(nullptr)}};
  }
  out["rare_paths"] = rare;
  out["planted_bugs"] = section(result, kPlantedBugs) ? tally_json(section(result, kPlantedBugs))
                                                       : json(nullptr);
  json counts = json::object();
  for (const auto& [name, names] : result.counts) counts[name] = tally_json(&names);
  out["counts"] = counts;
  out["complete"] = !result.incomplete();
  out["passed"] = result.failures.empty() && !result.incomplete();
  return out.dump(2) + "\n";
}

}  // namespace walsim::campaign
