// Method: the parent forks N workers; worker i runs seeds first+i,
// first+i+N, ... and writes one line per finished seed to its pipe
// ("seed 0" passed, "seed 1 invariant" failed). The parent reads all pipes,
// prints progress, stops the workers when the time is up, then minimizes
// the first failing seed of each invariant in-process and saves it as a
// replay file. Workers share nothing: a seed's run depends on its seed only.
#include "cli/campaign_command.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "campaign/minimize.h"
#include "cli/command.h"
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
  std::string json_path;
  std::string regressions_dir = "tests/regressions";
  double minimize_s = 60;
  bool no_minimize = false;
  sim::Overrides overrides;
};

struct Failure {
  uint64_t seed;
  std::string invariant;
};

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
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

[[noreturn]] void run_worker(int fd, int index, const Options& options) {
  for (uint64_t seed = options.first_seed + index;; seed += options.jobs) {
    if (options.seeds_max && seed >= options.first_seed + *options.seeds_max) break;
    sim::RunResult result = sim::run_simulation(sim::draw_params(seed, options.overrides), nullptr);
    std::string line = std::to_string(seed) +
                       (result.passed() ? " 0" : " 1 " + result.violation->invariant) + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
  }
  close(fd);
  _exit(0);
}

Worker start_worker(int index, const Options& options) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    run_worker(fds[1], index, options);
  }
  close(fds[1]);
  return Worker{pid, fds[0], {}};
}

class Campaign {
 public:
  explicit Campaign(const Options& options) : options_(options) {}

  int run() {
    started_ = Clock::now();
    for (int i = 0; i < options_.jobs; i++) workers_.push_back(start_worker(i, options_));
    collect_until_done();
    stop_workers();
    print_progress(/*final=*/true);
    std::vector<std::string> replay_paths = minimize_failures();
    if (!options_.json_path.empty() && !write_json(replay_paths)) return kExitUsage;
    return failures_.empty() ? kExitOk : kExitFailed;
  }

 private:
  using Clock = std::chrono::steady_clock;  // a tool's deadline, never seen by a run

  double elapsed_s() const {
    return std::chrono::duration<double>(Clock::now() - started_).count();
  }

  void collect_until_done() {
    double next_progress_s = 1;
    while (elapsed_s() < options_.time_s) {
      std::vector<pollfd> polls;
      for (const Worker& w : workers_) if (w.fd >= 0) polls.push_back({w.fd, POLLIN, 0});
      if (polls.empty()) break;  // every worker finished its seeds
      poll(polls.data(), polls.size(), 200);
      for (Worker& w : workers_) read_lines(w);
      if (elapsed_s() >= next_progress_s) {
        print_progress(/*final=*/false);
        next_progress_s = elapsed_s() + (isatty(STDOUT_FILENO) ? 0.5 : 10);
      }
    }
  }

  void read_lines(Worker& w) {
    if (w.fd < 0) return;
    pollfd one{w.fd, POLLIN, 0};
    if (poll(&one, 1, 0) <= 0) return;
    char chunk[4096];
    ssize_t got = read(w.fd, chunk, sizeof chunk);
    if (got <= 0) {
      close(w.fd);
      w.fd = -1;
      return;
    }
    w.buffer.append(chunk, got);
    size_t newline;
    while ((newline = w.buffer.find('\n')) != std::string::npos) {
      record(w.buffer.substr(0, newline));
      w.buffer.erase(0, newline + 1);
    }
  }

  void record(const std::string& line) {
    unsigned long long seed = 0;
    int failed = 0;
    char invariant[128] = "";
    if (std::sscanf(line.c_str(), "%llu %d %127s", &seed, &failed, invariant) < 2) return;
    seeds_run_++;
    if (!failed) return;
    failures_.push_back({seed, invariant});
    std::printf("%sFAIL seed=%llu invariant=%s (reproduce: walsim sim --seed %llu%s)\n",
                isatty(STDOUT_FILENO) ? "\r\033[K" : "", seed, invariant, seed,
                options_.overrides.unsafe_hard_deletes ? " --unsafe-hard-deletes" : "");
    std::fflush(stdout);
  }

  void stop_workers() {
    for (Worker& w : workers_) {
      if (w.pid > 0) kill(w.pid, SIGTERM);
    }
    for (Worker& w : workers_) {
      if (w.pid > 0) waitpid(w.pid, nullptr, 0);
      if (w.fd >= 0) close(w.fd);
    }
  }

  void print_progress(bool final) {
    double seconds = elapsed_s();
    const char* start = isatty(STDOUT_FILENO) && !final ? "\r\033[K" : "";
    std::printf("%sseeds run=%llu seeds/s=%.1f failures=%zu elapsed=%.0fs/%.0fs jobs=%d%s", start,
                static_cast<unsigned long long>(seeds_run_), seconds > 0 ? seeds_run_ / seconds : 0,
                failures_.size(), seconds, options_.time_s, options_.jobs,
                isatty(STDOUT_FILENO) && !final ? "" : "\n");
    std::fflush(stdout);
  }

  // One replay file per distinct invariant: its first failing seed, shrunk.
  std::vector<std::string> minimize_failures() {
    std::vector<std::string> paths;
    std::map<std::string, uint64_t> firsts;
    for (const Failure& f : failures_) firsts.emplace(f.invariant, f.seed);
    for (const auto& [invariant, seed] : firsts) {
      sim::SimParams params = sim::draw_params(seed, options_.overrides);
      sim::ReplayFile file{params, invariant,
                                "found by walsim campaign at seed " + std::to_string(seed)};
      if (!options_.no_minimize) {
        std::printf("minimizing seed %llu (%s, budget %.0fs)...\n",
                    static_cast<unsigned long long>(seed), invariant.c_str(), options_.minimize_s);
        std::fflush(stdout);
        campaign::MinimizeResult small = campaign::minimize(params, options_.minimize_s);
        std::printf("  before: %s\n  after:  %s\n  %lld runs in %.1fs\n",
                    campaign::describe_size(params, small.events_before).c_str(),
                    campaign::describe_size(small.params, small.events_after).c_str(),
                    static_cast<long long>(small.runs), small.seconds);
        file.params = small.params;
        file.note += ", minimized from " + campaign::describe_size(params, small.events_before) +
                     " to " + campaign::describe_size(small.params, small.events_after);
      }
      std::string path = options_.regressions_dir + "/" + invariant + "-seed" +
                         std::to_string(seed) + ".json";
      Status saved = sim::save_replay_file(path, file);
      if (!saved.is_ok()) {
        std::fprintf(stderr, "walsim campaign: %s\n", saved.message().c_str());
        continue;
      }
      std::printf("  replay: walsim sim --replay %s\n", path.c_str());
      paths.push_back(path);
    }
    return paths;
  }

  bool write_json(const std::vector<std::string>& replay_paths) {
    nlohmann::ordered_json out;
    out["seeds_run"] = seeds_run_;
    out["failures"] = nlohmann::ordered_json::array();
    for (const Failure& f : failures_) {
      out["failures"].push_back({{"seed", f.seed}, {"invariant", f.invariant}});
    }
    out["replay_files"] = replay_paths;
    out["elapsed_s"] = elapsed_s();
    out["seeds_per_s"] = seeds_run_ / std::max(elapsed_s(), 1e-9);
    out["jobs"] = options_.jobs;
    out["first_seed"] = options_.first_seed;
    std::ofstream file(options_.json_path);
    file << out.dump(2) << "\n";
    if (!file) {
      std::fprintf(stderr, "walsim campaign: cannot write '%s'\n", options_.json_path.c_str());
      return false;
    }
    return true;
  }

  const Options& options_;
  Clock::time_point started_;
  std::vector<Worker> workers_;
  uint64_t seeds_run_ = 0;
  std::vector<Failure> failures_;
};

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
  app.add_option("--json", options.json_path, "write a JSON summary to FILE");
  app.add_option("--regressions", options.regressions_dir,
                 "directory for minimized replay files")->capture_default_str();
  app.add_option("--minimize-time", options.minimize_s, "seconds to spend minimizing a failure")
      ->capture_default_str();
  app.add_flag("--no-minimize", options.no_minimize, "save failures as found");
  app.add_option("--preset", preset, "world size: quick, default or heavy")
      ->check(CLI::IsMember({"quick", "default", "heavy"}))->capture_default_str();
  app.add_flag("--no-faults", options.overrides.no_faults, "turn every fault site off");
  app.add_flag("--unsafe-hard-deletes", options.overrides.unsafe_hard_deletes,
               "the known-unsafe legacy delete mode (canary): the campaign must fail");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }
  auto seconds = parse_duration_s(time);
  if (!seconds) {
    std::fprintf(stderr, "walsim campaign: --time '%s' is not a duration (e.g. 90s, 10m, 1h)\n",
                 time.c_str());
    return kExitUsage;
  }
  options.time_s = *seconds;
  options.overrides.preset = *sim::parse_preset(preset);
  std::printf("campaign: %d jobs, %.0fs, first seed %llu, preset %s%s\n", options.jobs,
              options.time_s, static_cast<unsigned long long>(options.first_seed), preset.c_str(),
              options.overrides.unsafe_hard_deletes ? ", unsafe hard deletes (canary)" : "");
  std::fflush(stdout);
  return Campaign(options).run();
}

}  // namespace walsim
