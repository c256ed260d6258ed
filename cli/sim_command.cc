#include "cli/sim_command.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/canary_flags.h"
#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/assert.h"
#include "sim/params.h"
#include "sim/replay_file.h"
#include "sim/simulation.h"
#include "sim/timeline.h"

namespace walsim {

namespace {

using sim::Overrides;
using sim::RunResult;
using sim::SimParams;

struct SeedRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

std::optional<SeedRange> parse_range(const std::string& text) {
  const size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
  try {
    size_t used_first = 0, used_last = 0;
    const std::string first = text.substr(0, dash), last = text.substr(dash + 1);
    SeedRange range{std::stoull(first, &used_first), std::stoull(last, &used_last)};
    if (used_first != first.size() || used_last != last.size() || range.first > range.last) {
      return std::nullopt;
    }
    return range;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string result_line(uint64_t seed, const RunResult& result) {
  const sim::RunStats& s = result.stats;
  std::string line = result.passed() ? "PASS" : "FAIL";
  line += " seed=" + std::to_string(seed);
  if (!result.passed()) line += " invariant=" + result.violation->invariant;
  line += " steps=" + std::to_string(s.steps) + " heal_steps=" + std::to_string(s.heal_steps) +
          " transactions=" + std::to_string(s.transactions) +
          " checkpoints=" + std::to_string(s.checkpoints) + " final=" +
          (s.final_op ? "op " + std::to_string(*s.final_op) + " lsn " + s.final_lsn->to_string()
                      : std::string("none")) +
          " restarts=" + std::to_string(s.engine_restarts) +
          " sessions=" + std::to_string(s.stream_sessions) +
          " client_syncs=" + std::to_string(s.client_syncs) +
          " sim_time_ms=" + std::to_string(s.sim_time_ms) +
          " wal_kib_max=" + std::to_string(s.wal_bytes_max / 1024) +
          " faults: " + result.faults_summary;
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(s.trace_hash));
  line += " trace_hash=" + std::string(hash);
  return line;
}

// Where one run's outputs go, if anywhere: every event (--trace) and the
// drawing of the run (--timeline).
struct RunOutputs {
  std::string trace_path;
  std::string timeline_path;
  std::string replay_out_path;  // --save-replay
};

// Writes the run as a replay file that expects what this run did (its
// broken invariant, or "pass"): the first step of pinning a seed in
// tests/regressions (edit "expect" to "pass" and the note once fixed).
bool save_run(const std::string& path, const SimParams& params, const RunResult& result,
              const std::string& reproduce) {
  WALSIM_ASSERT(!path.empty());
  const std::string expect = result.passed() ? "pass" : result.violation->invariant;
  const Status saved = sim::save_replay_file(path, {params, expect, "saved by: " + reproduce, /*reverts=*/""});
  if (!saved.is_ok()) {
    std::fprintf(stderr, "walsim sim: cannot write replay file '%s': %s\n", path.c_str(),
                 saved.to_string().c_str());
    return false;
  }
  std::printf("replay file: %s (expect %s)\n", path.c_str(), expect.c_str());
  return true;
}

bool write_timeline(const std::string& path, const SimParams& params, const RunResult& result,
                    const sim::TimelineRecorder& recording, const std::string& reproduce) {
  sim::TimelineInput input;
  input.recording = &recording;
  input.result = &result;
  input.params = &params;
  input.header.push_back(reproduce);
  for (const std::string& line : sim::describe_params(params)) input.header.push_back(line);
  std::ofstream out(path);
  out << sim::timeline_svg(input);
  if (!out) {
    std::fprintf(stderr, "walsim sim: cannot write timeline '%s'\n", path.c_str());
    return false;
  }
  std::printf("timeline: %s\n", path.c_str());
  return true;
}

// Runs `params` and explains the result; `reproduce` is the command line
// that replays it (printed on failure).
int run_params(const SimParams& params, const RunOutputs& outputs, const std::string& reproduce) {
  const std::string& trace_path = outputs.trace_path;
  const uint64_t seed = params.seed;
  for (const std::string& line : sim::describe_params(params)) std::printf("%s\n", line.c_str());
  std::fflush(stdout);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> trace(nullptr, &std::fclose);
  if (!trace_path.empty()) {
    trace.reset(std::fopen(trace_path.c_str(), "w"));
    if (!trace) {
      std::fprintf(stderr, "walsim sim: cannot write trace file '%s'\n", trace_path.c_str());
      return kExitUsage;
    }
  }
  sim::TimelineRecorder recording;
  const RunResult result = sim::run_simulation(params, trace.get(), nullptr,
                                               outputs.timeline_path.empty() ? nullptr : &recording);
  for (const std::string& line : result.world) std::printf("%s\n", line.c_str());
  std::printf("%s\n", result_line(seed, result).c_str());
  if (!outputs.timeline_path.empty() &&
      !write_timeline(outputs.timeline_path, params, result, recording, reproduce)) {
    return kExitUsage;
  }
  if (!outputs.replay_out_path.empty() &&
      !save_run(outputs.replay_out_path, params, result, reproduce)) {
    return kExitUsage;
  }
  if (result.passed()) return kExitOk;
  std::printf("invariant %s broken: %s\n", result.violation->invariant.c_str(),
              result.violation->detail.c_str());
  std::printf("last events:\n");
  for (const std::string& event : result.recent_events) std::printf("  %s\n", event.c_str());
  std::printf("reproduce: %s --trace trace.txt --timeline timeline.svg\n", reproduce.c_str());
  return kExitFailed;
}

int run_one(uint64_t seed, const Overrides& overrides, const RunOutputs& outputs) {
  return run_params(sim::draw_params(seed, overrides), outputs,
                    "walsim sim --seed " + std::to_string(seed) + sim::override_flags(overrides));
}

// A replay file holds the whole parameter set, so it replays exactly even
// when the way seeds draw parameters changes.
int run_replay(const std::string& path, const RunOutputs& outputs) {
  auto file = sim::load_replay_file(path);
  if (!file.is_ok()) {
    std::fprintf(stderr, "walsim sim: %s\n", file.status().message().c_str());
    return kExitUsage;
  }
  std::printf("replay: %s (expect %s; %s)\n", path.c_str(), file->expect.c_str(),
              file->note.c_str());
  return run_params(file->params, outputs, "walsim sim --replay " + path);
}

int run_range(const SeedRange& range, const Overrides& overrides, bool quiet) {
  using Clock = std::chrono::steady_clock;  // throughput only; never seen by a run
  const auto started = Clock::now();
  auto elapsed_s = [&started] {
    return std::chrono::duration<double>(Clock::now() - started).count();
  };
  std::map<uint64_t, std::string> failures;  // seed -> invariant
  uint64_t done = 0;
  const uint64_t total = range.last - range.first + 1;
  double next_report_s = 5;
  for (uint64_t seed = range.first;; seed++) {
    const RunResult result = sim::run_simulation(sim::draw_params(seed, overrides), nullptr);
    done++;
    if (!result.passed()) {
      failures[seed] = result.violation->invariant;
      std::printf("%s\n  %s\n", result_line(seed, result).c_str(),
                  result.violation->detail.c_str());
      std::fflush(stdout);
    }
    if (!quiet && elapsed_s() >= next_report_s) {
      std::printf("progress: %llu/%llu seeds, %zu failed, %.1f seeds/s\n",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                  failures.size(), done / elapsed_s());
      std::fflush(stdout);
      next_report_s += 5;
    }
    if (seed == range.last) break;
  }
  const double seconds = elapsed_s();
  std::printf("seeds=%llu-%llu run=%llu passed=%llu failed=%zu elapsed_s=%.2f seeds_per_s=%.1f\n",
              static_cast<unsigned long long>(range.first),
              static_cast<unsigned long long>(range.last), static_cast<unsigned long long>(done),
              static_cast<unsigned long long>(done - failures.size()), failures.size(), seconds,
              seconds > 0 ? done / seconds : 0.0);
  if (failures.empty()) return kExitOk;
  std::string list;
  for (const auto& [seed, invariant] : failures) {
    list += " " + std::to_string(seed) + "(" + invariant + ")";
  }
  std::printf("failed seeds:%s\n", list.c_str());
  std::printf("reproduce one: walsim sim --seed %llu%s\n",
              static_cast<unsigned long long>(failures.begin()->first),
              sim::override_flags(overrides).c_str());
  return kExitFailed;
}

}  // namespace

int sim_command(int argc, char** argv) {
  CLI::App app{
      "Runs the replication engine against a simulated Postgres under a seeded scheduler\n"
      "with faults, and checks every published checkpoint against an independent oracle.\n"
      "One seed is one run: the same seed and build always replay the same run.",
      "walsim sim"};
  std::optional<uint64_t> seed;
  std::string seeds;
  RunOutputs outputs;
  std::string preset = "default";
  Overrides overrides;
  bool quiet = false;
  std::string replay_path;
  auto* seed_option = app.add_option("--seed", seed, "run one seed and explain its result");
  app.add_option("--replay", replay_path, "run a saved replay file (tests/regressions/*.json)")
      ->excludes(seed_option);
  app.add_option("--seeds", seeds, "run a range of seeds A-B (inclusive) and summarize")
      ->excludes(seed_option);
  app.add_option("--trace", outputs.trace_path,
                 "write every event of the run to FILE (--seed or --replay)");
  app.add_option("--timeline", outputs.timeline_path,
                 "draw the run as lanes over steps into FILE.svg (--seed or --replay)");
  app.add_option("--save-replay", outputs.replay_out_path,
                 "write the run's parameters as a replay file FILE that expects its result "
                 "(--seed or --replay)");
  app.add_option("--preset", preset, "world size: quick, default or heavy")
      ->check(CLI::IsMember({"quick", "default", "heavy"}));
  app.add_option("--tables", overrides.tables, "number of tables instead of the seed's")
      ->check(CLI::Range(1, 16));
  app.add_option("--rows", overrides.rows, "initial rows per table instead of the seed's")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--transactions", overrides.transactions,
                 "source transactions after the slot instead of the seed's")
      ->check(CLI::Range(0, 10000000));
  app.add_option("--workers", overrides.workers, "snapshot workers instead of the seed's")
      ->check(CLI::Range(1, 16));
  app.add_flag("--no-faults", overrides.no_faults, "turn every fault site off");
  add_canary_flags(app, overrides);
  add_mutant_flag(app, overrides);
  std::string schedule;
  app.add_option("--schedule", schedule,
                 "how tasks are chosen, instead of the seed's: random, pct, targeted or live")
      ->check(CLI::IsMember(sim::schedule_mode_names()));
  app.add_flag("--quiet", quiet, "with --seeds: no progress lines");
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  overrides.preset = *sim::parse_preset(preset);
  if (!schedule.empty()) overrides.schedule = sim::parse_schedule_mode(schedule);
  if (!apply_mutant_flag(overrides, "walsim sim")) return kExitUsage;
  if (!overrides.mutant.empty()) std::printf("planted bug on: %s\n", overrides.mutant.c_str());
  if (!replay_path.empty()) {
    if (!seeds.empty()) {
      std::fprintf(stderr, "walsim sim: --replay runs one file; drop --seeds\n");
      return kExitUsage;
    }
    return run_replay(replay_path, outputs);
  }
  if (!seed && seeds.empty()) {
    std::fprintf(stderr, "walsim sim: give --seed N, --seeds A-B or --replay FILE (see --help)\n");
    return kExitUsage;
  }
  if (seed) return run_one(*seed, overrides, outputs);
  if (!outputs.trace_path.empty() || !outputs.timeline_path.empty() ||
      !outputs.replay_out_path.empty()) {
    std::fprintf(stderr,
                 "walsim sim: --trace, --timeline and --save-replay need --seed (one run per "
                 "file)\n");
    return kExitUsage;
  }
  std::optional<SeedRange> range = parse_range(seeds);
  if (!range) {
    std::fprintf(stderr, "walsim sim: --seeds wants A-B with A <= B, e.g. 1-2000; got '%s'\n",
                 seeds.c_str());
    return kExitUsage;
  }
  return run_range(*range, overrides, quiet);
}

}  // namespace walsim
