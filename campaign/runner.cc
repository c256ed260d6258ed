#include "campaign/runner.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "campaign/isolated_run.h"
#include "engine/assert.h"
#include "engine/probe.h"
#include "sim/simulation.h"

namespace walsim::campaign {

namespace {

using Clock = std::chrono::steady_clock;  // a tool's deadline, never seen by a run

constexpr int kPollMs = 200;

// One worker process, as the parent knows it.
struct Worker {
  int stride = 0;          // runs the shard's seeds stride, stride + jobs, ...
  uint64_t next_seed = 0;  // the next seed it will start
  pid_t pid = -1;          // -1 once reaped
  int fd = -1;             // read end of its pipe; -1 once closed
  std::string buffer;      // the start of a line not yet complete
  std::optional<uint64_t> running;  // started and not yet finished
  Clock::time_point running_since;  // when `running` started
  bool killed_hung = false;         // the parent killed it past the seed limit
  bool started_any = false;
};

bool write_all(int fd, const std::string& line) {
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

// "pass 12 faults.crash=2 schedule.pct=1" or "fail 12 ... invariant=x":
// the invariant goes last, since only it may hold spaces.
std::string report_line(uint64_t seed, const SeedReport& report) {
  std::string line = (report.invariant ? "fail " : "pass ") + std::to_string(seed);
  for (const auto& [section, names] : report.counts) {
    for (const auto& [name, count] : names) {
      WALSIM_ASSERT(section.find_first_of(" .=\n") == std::string::npos &&
                        name.find_first_of(" =\n") == std::string::npos,
                    "tally names are single tokens");
      line += " " + section + "." + name + "=" + std::to_string(count);
    }
  }
  if (report.invariant) line += " invariant=" + *report.invariant;
  return line + "\n";
}

// The worker's whole life. It says which seed it starts before running it,
// so if the run kills the process the parent knows which seed did.
[[noreturn]] void run_worker(int fd, uint64_t first_seed, uint64_t end_seed, uint64_t step,
                             const SeedRun& run_seed) {
  for (uint64_t seed = first_seed; seed < end_seed; seed += step) {
    if (!write_all(fd, "start " + std::to_string(seed) + "\n")) break;
    if (!write_all(fd, report_line(seed, run_seed(seed)))) break;
    if (end_seed - seed <= step) break;  // the next seed would overflow
  }
  close(fd);
  _exit(0);
}

// The counts and invariant after "pass S " or "fail S ".
void parse_report(const std::string& rest, SeedFailure& out) {
  size_t at = 0;
  while (at < rest.size()) {
    const size_t end = std::min(rest.find(' ', at), rest.size());
    const std::string token = rest.substr(at, end - at);
    if (token.rfind("invariant=", 0) == 0) {
      out.invariant = rest.substr(at + 10);
      return;
    }
    const size_t dot = token.find('.'), equals = token.find('=');
    if (dot != std::string::npos && equals != std::string::npos && dot < equals) {
      out.counts[token.substr(0, dot)][token.substr(dot + 1, equals - dot - 1)] +=
          std::stoll(token.substr(equals + 1));
    }
    at = end + 1;
  }
}

class Pool {
 public:
  explicit Pool(const RunnerOptions& options)
      : options_(options),
        step_(static_cast<uint64_t>(options.jobs) * static_cast<uint64_t>(options.shard_count)) {
    WALSIM_ASSERT(options.jobs >= 1);
    WALSIM_ASSERT(options.shard_count >= 1 && options.shard_index >= 0 &&
                      options.shard_index < options.shard_count,
                  "shard I of N has 0 <= I < N");
    WALSIM_ASSERT(options.run_seed != nullptr, "a campaign needs a way to run a seed");
    WALSIM_ASSERT(options.seed_timeout_s > 0, "a seed limit is a positive time");
    if (options.seeds_max) {
      result_.seeds_asked = shard_seeds(options.first_seed, *options.seeds_max,
                                        options.shard_index, options.shard_count).size();
    }
  }

  CampaignResult run() {
    started_ = Clock::now();
    // The shard's first seed: the first one congruent to its index.
    const auto count = static_cast<uint64_t>(options_.shard_count);
    const uint64_t shard_first =
        options_.first_seed +
        (static_cast<uint64_t>(options_.shard_index) + count - options_.first_seed % count) % count;
    for (int stride = 0; stride < options_.jobs; stride++) {
      const uint64_t first = shard_first + count * static_cast<uint64_t>(stride);
      if (first < end_seed() && first >= shard_first) start(stride, first);
    }
    collect_until_done();
    stop_all();
    result_.elapsed_s = elapsed_s();
    return result_;
  }

 private:
  double elapsed_s() const {
    return std::chrono::duration<double>(Clock::now() - started_).count();
  }

  uint64_t end_seed() const {
    return options_.seeds_max ? options_.first_seed + *options_.seeds_max
                              : std::numeric_limits<uint64_t>::max();
  }

  void start(int stride, uint64_t next_seed) {
    // Whatever the parent buffered must not be written twice by a child.
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) return cannot_start(next_seed);
    const pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      close(fds[0]);
      close(fds[1]);
      errno = error;
      return cannot_start(next_seed);
    }
    if (pid == 0) {
      close(fds[0]);
      for (const Worker& other : workers_) {
        if (other.fd >= 0) close(other.fd);
      }
      run_worker(fds[1], next_seed, end_seed(), step_, options_.run_seed);
    }
    close(fds[1]);
    Worker worker;
    worker.stride = stride;
    worker.next_seed = next_seed;
    worker.pid = pid;
    worker.fd = fds[0];
    workers_.push_back(std::move(worker));
    result_.workers_started++;
  }

  // The stride's next seed is a failure too: it will not run.
  void cannot_start(uint64_t next_seed) {
    record_failure({next_seed, std::string("crashed: cannot start a worker: ") +
                                   std::strerror(errno), true, {}});
  }

  void collect_until_done() {
    while (elapsed_s() < options_.time_s) {
      std::vector<pollfd> polls;
      std::vector<size_t> polled;  // index into workers_ of each poll entry
      for (size_t i = 0; i < workers_.size(); i++) {
        if (workers_[i].fd < 0) continue;
        polls.push_back({workers_[i].fd, POLLIN, 0});
        polled.push_back(i);
      }
      if (polls.empty()) break;  // every stride is done
      if (options_.stop_at_first_failure && !result_.failures.empty()) break;
      if (poll(polls.data(), polls.size(), kPollMs) < 0 && errno != EINTR) break;
      for (size_t k = 0; k < polls.size(); k++) {
        if (polls[k].revents != 0) read_from(polled[k], /*stopping=*/false);
      }
      kill_hung_workers();
      if (options_.on_progress) {
        options_.on_progress({result_.seeds_run, result_.failures.size(), elapsed_s()});
      }
    }
  }

  // A seed past its limit: the worker is killed; its pipe then closes and
  // reap() records the seed as hung and starts a replacement.
  void kill_hung_workers() {
    const auto now = Clock::now();
    for (Worker& w : workers_) {
      if (w.pid <= 0 || !w.running || w.killed_hung) continue;
      if (std::chrono::duration<double>(now - w.running_since).count() < options_.seed_timeout_s) {
        continue;
      }
      w.killed_hung = true;
      kill(w.pid, SIGKILL);
    }
  }

  // Reads what the pipe holds; on end of file the worker has ended, and
  // unless it was stopped at the deadline, it is reaped and judged.
  void read_from(size_t index, bool stopping) {
    char chunk[4096];
    const ssize_t got = read(workers_[index].fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) return;
    if (got > 0) {
      Worker& w = workers_[index];
      w.buffer.append(chunk, static_cast<size_t>(got));
      size_t newline;
      while ((newline = w.buffer.find('\n')) != std::string::npos) {
        const std::string line = w.buffer.substr(0, newline);
        w.buffer.erase(0, newline + 1);
        handle_line(w, line);
      }
      return;
    }
    close(workers_[index].fd);
    workers_[index].fd = -1;
    reap(index, stopping);
  }

  void handle_line(Worker& w, const std::string& line) {
    unsigned long long seed = 0;
    char verb[8] = "";
    int used = 0;
    if (std::sscanf(line.c_str(), "%7s %llu %n", verb, &seed, &used) < 2) return;
    const std::string what = verb;
    if (what == "start") {
      WALSIM_ASSERT(!w.running, "a worker runs one seed at a time");
      w.running = seed;
      w.running_since = Clock::now();
      w.started_any = true;
      return;
    }
    WALSIM_ASSERT(what == "pass" || what == "fail", "the worker protocol has three verbs");
    WALSIM_ASSERT(w.running == seed, "a worker finishes the seed it started");
    w.running.reset();
    w.next_seed = seed + step_;
    result_.seeds_run++;
    SeedFailure report{seed, "", false, {}};
    parse_report(line.substr(static_cast<size_t>(used)), report);
    add_to(result_.counts, report.counts);
    WALSIM_ASSERT((what == "fail") == !report.invariant.empty(), "a failure names its invariant");
    if (what == "fail") record_failure(std::move(report));
  }

  // A worker ends well only by finishing its stride. Any other end is a
  // failure that names a seed; a replacement runs the rest of the stride.
  void reap(size_t index, bool stopping) {
    int status = 0;
    while (waitpid(workers_[index].pid, &status, 0) < 0 && errno == EINTR) {
    }
    Worker& w = workers_[index];
    w.pid = -1;
    const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean_exit && !w.running && w.next_seed >= end_seed()) return;
    if (stopping && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) return;  // the deadline
    if (w.running) {
      const uint64_t seed = *w.running;
      w.running.reset();
      result_.seeds_run++;
      const std::string how =
          w.killed_hung ? describe_hang(options_.seed_timeout_s) : describe_death(status);
      record_failure({seed, how, true, {}});
      if (!stopping) restart(w.stride, seed + step_);
      return;
    }
    // Died between two seeds: blame the next one, and run it again only if
    // this worker got anywhere (a worker that dies at birth would loop).
    record_failure({w.next_seed, describe_death(status) + " before starting this seed", true, {}});
    if (!stopping && w.started_any) restart(w.stride, w.next_seed);
  }

  void restart(int stride, uint64_t next_seed) {
    if (next_seed >= end_seed() || elapsed_s() >= options_.time_s) return;
    start(stride, next_seed);
  }

  void record_failure(SeedFailure failure) {
    failure.seeds_run_at = result_.seeds_run;
    failure.elapsed_s = elapsed_s();
    result_.failures.push_back(std::move(failure));
    if (options_.on_failure) options_.on_failure(result_.failures.back());
  }

  // The deadline: every live worker is stopped; what it finished before is
  // read, a seed it was running when stopped is not counted.
  void stop_all() {
    for (const Worker& w : workers_) {
      if (w.pid > 0) kill(w.pid, SIGTERM);
    }
    for (size_t i = 0; i < workers_.size(); i++) {
      while (workers_[i].fd >= 0) read_from(i, /*stopping=*/true);
      WALSIM_ASSERT(workers_[i].pid < 0, "a closed pipe's worker is reaped");
    }
  }

  const RunnerOptions& options_;
  const uint64_t step_;  // between a worker's seeds: jobs x shards
  Clock::time_point started_;
  std::vector<Worker> workers_;  // every worker started, live or ended
  CampaignResult result_;
};

}  // namespace

void add_to(Tally& total, const Tally& more) {
  static const std::string kKeepsSmallest = "_first_seed";
  for (const auto& [section, names] : more) {
    const bool smallest = section.size() > kKeepsSmallest.size() &&
                          section.compare(section.size() - kKeepsSmallest.size(),
                                          kKeepsSmallest.size(), kKeepsSmallest) == 0;
    for (const auto& [name, count] : names) {
      auto [at, added] = total[section].try_emplace(name, count);
      if (added) continue;
      at->second = smallest ? std::min(at->second, count) : at->second + count;
    }
  }
}

CampaignResult run_campaign(const RunnerOptions& options) { return Pool(options).run(); }

std::vector<uint64_t> shard_seeds(uint64_t first, uint64_t size, int index, int count) {
  WALSIM_ASSERT(count >= 1 && index >= 0 && index < count);
  std::vector<uint64_t> seeds;
  for (uint64_t seed = first; seed - first < size; seed++) {
    if (seed % static_cast<uint64_t>(count) == static_cast<uint64_t>(index)) seeds.push_back(seed);
  }
  return seeds;
}

SeedReport report_of(const sim::SimParams& params, const sim::RunResult& result) {
  SeedReport report(result.passed() ? std::nullopt
                                    : std::optional<std::string>(result.violation->invariant));
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    if (result.faults_fired[i] == 0) continue;
    const char* kind = sim::fault_name(static_cast<sim::FaultKind>(i));
    report.counts["faults"][kind] = result.faults_fired[i];
    report.counts["fault_seeds"][kind] = 1;
  }
  report.counts["schedule"][sim::schedule_mode_name(params.scheduler.mode)] = 1;
  const std::vector<probe::Probe>& probes = probe::catalog();
  for (size_t i = 0; i < probes.size() && i < result.probe_hits.size(); i++) {
    if (result.probe_hits[i] == 0) continue;
    report.counts["rare_paths"][probes[i].name] = result.probe_hits[i];
    report.counts["rare_path_first_seed"][probes[i].name] = static_cast<int64_t>(params.seed);
  }
  return report;
}

SeedRun simulate_seed(const sim::Overrides& overrides) {
  return [overrides](uint64_t seed) -> SeedReport {
    const sim::SimParams params = sim::draw_params(seed, overrides);
    return report_of(params, sim::run_simulation(params, nullptr));
  };
}

}  // namespace walsim::campaign
