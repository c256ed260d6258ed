// `walsim campaign`: flags, progress lines and the exit code around
// campaign/runner (the worker pool, which returns what happened),
// campaign/minimize (which shrinks a failure into a replay file, written
// after the deadline for the first failing seed of each invariant) and
// campaign/summary (the closing summary, as text and as JSON).
#include "cli/campaign_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "campaign/minimize.h"
#include "campaign/runner.h"
#include "campaign/summary.h"
#include "cli/canary_flags.h"
#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/assert.h"
#include "engine/mutant.h"
#include "sim/params.h"
#include "sim/replay_file.h"
#include "sim/simulation.h"

namespace walsim {

namespace {

struct Options {
  double time_s = 60;
  int jobs = 2;
  uint64_t first_seed = 1;
  std::optional<uint64_t> seeds_max;
  int shard_index = 0;  // --shard I/N
  int shard_count = 1;
  std::string json_path;
  std::string regressions_dir = "tests/regressions";
  double minimize_s = 60;
  double seed_timeout_s = 60;
  bool no_minimize = false;
  sim::Overrides overrides;
  std::optional<uint64_t> planted_seed;  // hidden test flag, see seed_run()
  bool require_rare_paths = false;       // fail on a catalog entry never reached
  bool mutants = false;                  // the planted-bug gate
  double mutant_time_s = 60;             // its bound per planted bug
};

// "90", "90s", "10m", "1h" -> seconds; nullopt when malformed.
std::optional<double> parse_duration_s(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double scale = 1;
  std::string number = text;
  switch (text.back()) {
    case 's': number.pop_back(); break;
    case 'm': scale = 60; number.pop_back(); break;
    case 'h': scale = 3600; number.pop_back(); break;
    default: break;
  }
  try {
    size_t used = 0;
    double value = std::stod(number, &used);
    if (used != number.size() || value <= 0) return std::nullopt;
    return value * scale;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The hidden --plant-assertion-failure-at-seed N: seed N's run fails a
// WALSIM_ASSERT inside the simulation's loop, in every build mode, so a
// test (tests/cli/campaign_command_test.cc) and anyone holding a -c opt
// binary can see a worker killed by an assertion reported with its seed.
// The planted failure's hook for `seed`'s runs (its minimizing too), or none.
sim::StepHook planted_hook(const Options& options, uint64_t seed) {
  if (options.planted_seed != seed) return nullptr;
  return [](int64_t step) {
    WALSIM_ASSERT(step > 1, "planted by --plant-assertion-failure-at-seed");
  };
}

campaign::SeedRun seed_run(const Options& options) {
  campaign::SeedRun simulate = campaign::simulate_seed(options.overrides);
  if (!options.planted_seed) return simulate;
  const uint64_t planted = *options.planted_seed;
  const sim::Overrides overrides = options.overrides;
  const sim::StepHook plant = planted_hook(options, planted);
  return [planted, overrides, simulate, plant](uint64_t seed) -> campaign::SeedReport {
    if (seed != planted) return simulate(seed);
    const sim::SimParams params = sim::draw_params(seed, overrides);
    return campaign::report_of(params, sim::run_simulation(params, nullptr, plant));
  };
}

// "3/8" -> (3, 8); nullopt unless 0 <= I < N.
std::optional<std::pair<int, int>> parse_shard(const std::string& text) {
  int index = -1, count = 0, used = 0;
  if (std::sscanf(text.c_str(), "%d/%d%n", &index, &count, &used) != 2) return std::nullopt;
  if (used != static_cast<int>(text.size()) || count < 1 || index < 0 || index >= count) {
    return std::nullopt;
  }
  return std::make_pair(index, count);
}

bool on_terminal() { return isatty(STDOUT_FILENO) != 0; }

void print_failure(const campaign::SeedFailure& failure, const Options& options) {
  std::printf("%sFAIL seed=%llu invariant=%s (reproduce: %s)\n", on_terminal() ? "\r\033[K" : "",
              static_cast<unsigned long long>(failure.seed), failure.invariant.c_str(),
              campaign::reproduce_command(failure.seed, options.overrides).c_str());
  std::fflush(stdout);
}

void print_progress(const campaign::CampaignProgress& progress, const Options& options,
                    bool final) {
  const bool redraw = on_terminal() && !final;
  const double seconds = progress.elapsed_s;
  std::printf("%sseeds run=%llu seeds/s=%.1f failures=%zu elapsed=%.0fs/%.0fs jobs=%d%s",
              redraw ? "\r\033[K" : "", static_cast<unsigned long long>(progress.seeds_run),
              seconds > 0 ? progress.seeds_run / seconds : 0, progress.failures, seconds,
              options.time_s, options.jobs, redraw ? "" : "\n");
  std::fflush(stdout);
}

// One progress line per second at first, then every 0.5 s on a terminal
// (redrawn in place) or every 10 s in a log.
std::function<void(const campaign::CampaignProgress&)> progress_printer(const Options& options) {
  auto next_s = std::make_shared<double>(1);
  return [next_s, &options](const campaign::CampaignProgress& progress) {
    if (progress.elapsed_s < *next_s) return;
    print_progress(progress, options, /*final=*/false);
    *next_s = progress.elapsed_s + (on_terminal() ? 0.5 : 10);
  };
}

// "crashed: signal 6 (SIGABRT)" -> "crashed-signal-6-SIGABRT": a file name.
std::string file_stem(const std::string& invariant) {
  std::string stem;
  for (char c : invariant) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (plain) stem += c;
    else if (!stem.empty() && stem.back() != '-') stem += '-';
  }
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return stem;
}

// One replay file per distinct invariant: its first failing seed, shrunk.
// A seed that crashed or hung its worker is minimized too: every run of the
// minimizer is a child process of its own (campaign/isolated_run.h).
std::map<std::string, std::string> minimize_failures(
    const std::vector<campaign::SeedFailure>& failures, const Options& options) {
  std::map<std::string, std::string> paths;  // invariant -> replay file
  std::map<std::string, uint64_t> firsts;
  for (const campaign::SeedFailure& f : failures) firsts.emplace(f.invariant, f.seed);
  for (const auto& [invariant, seed] : firsts) {
    sim::SimParams params = sim::draw_params(seed, options.overrides);
    sim::ReplayFile file{params, invariant,
                         "found by walsim campaign at seed " + std::to_string(seed), ""};
    if (!options.no_minimize) {
      std::printf("minimizing seed %llu (%s, budget %.0fs)...\n",
                  static_cast<unsigned long long>(seed), invariant.c_str(), options.minimize_s);
      std::fflush(stdout);
      campaign::MinimizeResult small = campaign::minimize(
          params, {options.minimize_s, options.seed_timeout_s, planted_hook(options, seed)});
      if (!small.reproduced) {
        std::printf("  seed %llu passed when run again alone: not deterministic? saved as found\n",
                    static_cast<unsigned long long>(seed));
      }
      std::printf("  before: %s\n  after:  %s\n  %lld runs in %.1fs\n",
                  campaign::describe_size(params, small.events_before).c_str(),
                  campaign::describe_size(small.params, small.events_after).c_str(),
                  static_cast<long long>(small.runs), small.seconds);
      file.params = small.params;
      file.note += ", minimized from " + campaign::describe_size(params, small.events_before) +
                   " to " + campaign::describe_size(small.params, small.events_after);
    }
    std::error_code ignored;  // a missing directory shows as the save's error
    std::filesystem::create_directories(options.regressions_dir, ignored);
    std::string path = options.regressions_dir + "/" + file_stem(invariant) + "-seed" +
                       std::to_string(seed) + ".json";
    Status saved = sim::save_replay_file(path, file);
    if (!saved.is_ok()) {
      std::fprintf(stderr, "walsim campaign: %s\n", saved.message().c_str());
      continue;
    }
    std::printf("  replay: walsim sim --replay %s\n", path.c_str());
    paths[invariant] = path;
  }
  return paths;
}

std::string fixed_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

bool write_json(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) {
    std::fprintf(stderr, "walsim campaign: cannot write '%s'\n", path.c_str());
    return false;
  }
  return true;
}

// --- the planted-bug gate (--mutants) -----------------------------------------

struct GateRow {
  const mutant::Mutant* mutant = nullptr;
  bool caught = false;
  uint64_t seed = 0;
  uint64_t seeds_to_failure = 0;  // seeds finished until the first failure, it included
  double seconds_to_failure = 0;
  std::string invariant;
  std::string minimized;  // describe_size() of the shrunk failure, or ""
  uint64_t seeds_run = 0;
  double seconds = 0;
  bool time_up = false;  // a fixed range (--seeds) not run in full: an escape, not a pass
};

// One bounded campaign with `m` on, stopped at its first failure.
GateRow run_one_mutant(const mutant::Mutant& m, const Options& options) {
  WALSIM_ASSERT(mutant::set_active(m.name), "the catalog's names are valid");
  sim::Overrides overrides = options.overrides;
  overrides.mutant = m.name;
  campaign::RunnerOptions runner;
  runner.time_s = options.mutant_time_s;
  runner.jobs = options.jobs;
  runner.first_seed = options.first_seed;
  runner.seeds_max = options.seeds_max;
  runner.seed_timeout_s = options.seed_timeout_s;
  runner.stop_at_first_failure = true;
  runner.run_seed = campaign::simulate_seed(overrides);
  const campaign::CampaignResult result = campaign::run_campaign(runner);
  GateRow row;
  row.mutant = &m;
  row.seeds_run = result.seeds_run;
  row.seconds = result.elapsed_s;
  row.time_up = result.failures.empty() && result.incomplete();
  if (!result.failures.empty()) {
    const campaign::SeedFailure& first = result.failures.front();
    row.caught = true;
    row.seed = first.seed;
    row.seeds_to_failure = first.seeds_run_at;
    row.seconds_to_failure = first.elapsed_s;
    row.invariant = first.invariant;
    if (!options.no_minimize) {
      const sim::SimParams params = sim::draw_params(first.seed, overrides);
      const campaign::MinimizeResult small =
          campaign::minimize(params, {options.minimize_s, options.seed_timeout_s, nullptr});
      row.minimized = campaign::describe_size(small.params, small.events_after);
    }
  }
  WALSIM_ASSERT(mutant::set_active(""), "turning the planted bug off always works");
  return row;
}

void print_gate_row(const GateRow& row, const Options& options) {
  sim::Overrides overrides = options.overrides;
  overrides.mutant = row.mutant->name;
  if (!row.caught) {
    std::printf("ESCAPED %-42s %llu seeds in %.1fs found nothing%s\n", row.mutant->name,
                static_cast<unsigned long long>(row.seeds_run), row.seconds,
                row.time_up ? " (time up before the range was run)" : "");
  } else {
    std::printf("caught  %-42s seed %llu, %llu seeds, %.1fs to the first failure: %s\n",
                row.mutant->name, static_cast<unsigned long long>(row.seed),
                static_cast<unsigned long long>(row.seeds_to_failure), row.seconds_to_failure,
                row.invariant.c_str());
    if (!row.minimized.empty()) std::printf("        minimized: %s\n", row.minimized.c_str());
    std::printf("        reproduce: %s\n",
                campaign::reproduce_command(row.seed, overrides).c_str());
  }
  std::fflush(stdout);
}

std::string gate_json(const std::vector<GateRow>& rows, const Options& options) {
  nlohmann::ordered_json out;
  out["schedule"] = options.overrides.schedule
                        ? nlohmann::ordered_json(sim::schedule_mode_name(*options.overrides.schedule))
                        : nlohmann::ordered_json(nullptr);
  out["mutant_time_s"] = options.mutant_time_s;
  out["mutants"] = nlohmann::ordered_json::array();
  int escaped = 0;
  for (const GateRow& row : rows) {
    escaped += !row.caught;
    out["mutants"].push_back({{"name", row.mutant->name},
                              {"area", row.mutant->area},
                              {"reverts", row.mutant->reverts},
                              {"caught", row.caught},
                              {"seed", row.caught ? nlohmann::ordered_json(row.seed) : nullptr},
                              {"seeds_to_failure", row.seeds_to_failure},
                              {"seconds_to_failure", row.seconds_to_failure},
                              {"invariant", row.invariant},
                              {"minimized", row.minimized},
                              {"seeds_run", row.seeds_run}});
  }
  out["escaped"] = escaped;
  out["passed"] = escaped == 0;
  return out.dump(2) + "\n";
}

// Every planted bug in the catalog (or the --mutant one), each a bounded
// campaign of its own; an escape fails the gate.
int run_gate(const Options& options) {
  if (!mutant::kCompiled) {
    std::fprintf(stderr, "walsim campaign: --mutants needs a build with the planted bugs "
                         "compiled in (bazel build -c opt --config=mutants //:walsim)\n");
    return kExitUsage;
  }
  std::vector<GateRow> rows;
  for (const mutant::Mutant& m : mutant::catalog()) {
    if (!options.overrides.mutant.empty() && options.overrides.mutant != m.name) continue;
    if (options.overrides.mutant.empty() && *m.not_gated) {
      std::printf("skipped %-42s not gated: %s\n", m.name, m.not_gated);
      continue;
    }
    rows.push_back(run_one_mutant(m, options));
    print_gate_row(rows.back(), options);
  }
  int escaped = 0;
  for (const GateRow& row : rows) escaped += !row.caught;
  std::printf("\n== planted-bug gate ==\n");
  for (const GateRow& row : rows) {
    std::printf("  %-8s %-42s %-18s %s\n", row.caught ? "caught" : "ESCAPED", row.mutant->name,
                row.mutant->area,
                row.caught ? (std::to_string(row.seeds_to_failure) + " seeds, " +
                              fixed_text(row.seconds_to_failure) + "s")
                                 .c_str()
                           : "");
  }
  std::printf("result:       %s: %zu planted bugs, %d escaped\n", escaped ? "FAIL" : "PASS",
              rows.size(), escaped);
  std::fflush(stdout);
  if (!options.json_path.empty() && !write_json(options.json_path, gate_json(rows, options))) {
    return kExitUsage;
  }
  return escaped == 0 ? kExitOk : kExitFailed;
}

int run(const Options& options) {
  campaign::RunnerOptions runner;
  runner.time_s = options.time_s;
  runner.jobs = options.jobs;
  runner.first_seed = options.first_seed;
  runner.seeds_max = options.seeds_max;
  runner.shard_index = options.shard_index;
  runner.shard_count = options.shard_count;
  runner.seed_timeout_s = options.seed_timeout_s;
  runner.run_seed = seed_run(options);
  runner.on_failure = [&options](const campaign::SeedFailure& f) { print_failure(f, options); };
  runner.on_progress = progress_printer(options);
  const campaign::CampaignResult result = campaign::run_campaign(runner);
  print_progress({result.seeds_run, result.failures.size(), result.elapsed_s}, options,
                 /*final=*/true);
  campaign::SummaryInput summary;
  summary.result = &result;
  summary.overrides = options.overrides;
  summary.first_seed = options.first_seed;
  summary.seeds_max = options.seeds_max;
  summary.shard_index = options.shard_index;
  summary.shard_count = options.shard_count;
  summary.jobs = options.jobs;
  summary.time_s = options.time_s;
  summary.replay_files = minimize_failures(result.failures, options);
  std::printf("\n");
  for (const std::string& line : campaign::summary_lines(summary)) std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (!options.json_path.empty() &&
      !write_json(options.json_path, campaign::summary_json(summary))) {
    return kExitUsage;
  }
  bool unreached = false;
  if (options.require_rare_paths) {
    for (const std::string& name : campaign::rare_paths_never_reached(result)) {
      std::printf("FAIL: rare path never reached: %s\n", name.c_str());
      unreached = true;
    }
  }
  return result.failures.empty() && !result.incomplete() && !unreached ? kExitOk : kExitFailed;
}

}  // namespace

int campaign_command(int argc, char** argv) {
  CLI::App app(
      "Runs simulation seeds in parallel worker processes (swarm parameters per seed) until\n"
      "the time is up; minimizes each failure into a replay file.",
      "walsim campaign");
  Options options;
  std::string time = "60s";
  std::string preset = "default";
  app.add_option("--time", time, "how long to run: 90s, 10m, 1h")->capture_default_str();
  app.add_option("--jobs", options.jobs, "worker processes")->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--first-seed", options.first_seed, "the first seed")->capture_default_str();
  app.add_option("--seeds", options.seeds_max, "stop after this many seeds (a fixed range)");
  std::string shard;
  app.add_option("--shard", shard,
                 "I/N: run only the seeds congruent to I mod N (0 <= I < N); the N shards of a\n"
                 "range, on N machines, run each of its seeds exactly once");
  app.add_option("--json", options.json_path, "write a JSON summary to FILE");
  app.add_option("--regressions", options.regressions_dir,
                 "directory for minimized replay files")->capture_default_str();
  app.add_option("--minimize-time", options.minimize_s, "seconds to spend minimizing a failure")
      ->capture_default_str();
  app.add_flag("--no-minimize", options.no_minimize, "save failures as found");
  app.add_flag("--mutants", options.mutants,
               "the planted-bug gate: for each planted bug (or the --mutant one) a campaign of\n"
               "--seeds seeds (a bound that does not depend on the machine's speed) or\n"
               "--mutant-time, that stops at its first failure; exit 1 if any escapes");
  app.add_flag("--require-rare-paths", options.require_rare_paths,
               "exit 1 if a rare path of the catalog (engine/probe.cc) or a fault kind was\n"
               "never reached by any seed");
  std::string mutant_time = "60s";
  app.add_option("--mutant-time", mutant_time, "with --mutants: the bound per planted bug")
      ->capture_default_str();
  std::string seed_timeout = "60s";
  app.add_option("--seed-timeout", seed_timeout,
                 "a seed still running after this is a failure (\"hung\"); its worker is killed")
      ->capture_default_str();
  app.add_option("--preset", preset, "world size: quick, default or heavy")
      ->check(CLI::IsMember({"quick", "default", "heavy"}))->capture_default_str();
  app.add_flag("--no-faults", options.overrides.no_faults, "turn every fault site off");
  add_canary_flags(app, options.overrides);
  add_mutant_flag(app, options.overrides);
  std::string schedule;
  app.add_option("--schedule", schedule,
                 "force a schedule mode (random, pct, targeted, live); default: each seed draws one")
      ->check(CLI::IsMember(sim::schedule_mode_names()));
  app.add_option("--plant-assertion-failure-at-seed", options.planted_seed,
                 "test only: seed N's run fails an assertion")
      ->group("");  // hidden from --help
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  auto seconds = parse_duration_s(time);
  if (!seconds) {
    std::fprintf(stderr, "walsim campaign: --time '%s' is not a duration (e.g. 90s, 10m, 1h)\n",
                 time.c_str());
    return kExitUsage;
  }
  options.time_s = *seconds;
  auto seed_limit = parse_duration_s(seed_timeout);
  if (!seed_limit) {
    std::fprintf(stderr, "walsim campaign: --seed-timeout '%s' is not a duration (e.g. 60s)\n",
                 seed_timeout.c_str());
    return kExitUsage;
  }
  options.seed_timeout_s = *seed_limit;
  auto mutant_limit = parse_duration_s(mutant_time);
  if (!mutant_limit) {
    std::fprintf(stderr, "walsim campaign: --mutant-time '%s' is not a duration (e.g. 60s)\n",
                 mutant_time.c_str());
    return kExitUsage;
  }
  options.mutant_time_s = *mutant_limit;
  options.overrides.preset = *sim::parse_preset(preset);
  // Before any worker forks: every worker inherits the planted bug.
  if (!apply_mutant_flag(options.overrides, "walsim campaign")) return kExitUsage;
  if (!schedule.empty()) options.overrides.schedule = sim::parse_schedule_mode(schedule);
  if (!shard.empty()) {
    auto parsed = parse_shard(shard);
    if (!parsed) {
      std::fprintf(stderr, "walsim campaign: --shard wants I/N with 0 <= I < N, e.g. 3/8; got '%s'\n",
                   shard.c_str());
      return kExitUsage;
    }
    std::tie(options.shard_index, options.shard_count) = *parsed;
  }
  if (options.mutants) return run_gate(options);
  std::printf("campaign: %d jobs, %.0fs, first seed %llu%s, preset %s%s%s\n", options.jobs,
              options.time_s, static_cast<unsigned long long>(options.first_seed),
              options.shard_count > 1 ? (", shard " + shard).c_str() : "", preset.c_str(),
              canary_flags(options.overrides).empty()
                  ? ""
                  : (", canaries:" + canary_flags(options.overrides)).c_str(),
              schedule.empty() ? "" : (", schedule " + schedule).c_str());
  std::fflush(stdout);
  return run(options);
}

}  // namespace walsim
