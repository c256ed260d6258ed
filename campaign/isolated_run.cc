#include "campaign/isolated_run.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "engine/assert.h"

namespace walsim::campaign {

namespace {

using Clock = std::chrono::steady_clock;  // a tool's limit, never seen by a run

[[noreturn]] void run_child(int fd, const sim::SimParams& params, const sim::StepHook& hook) {
  const sim::RunResult result = sim::run_simulation(params, nullptr, hook);
  const std::string report = (result.passed() ? std::string("pass") : result.violation->invariant) +
                             "\n" + std::to_string(result.stats.trace_events) + "\n";
  size_t written = 0;
  while (written < report.size()) {
    const ssize_t n = write(fd, report.data() + written, report.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(fd);
  _exit(0);
}

// Everything the child writes until it closes the pipe or the limit passes;
// false when the limit passed first.
bool read_until_closed(int fd, double timeout_s, std::string& out) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    const double left_ms =
        std::chrono::duration<double, std::milli>(deadline - Clock::now()).count();
    if (left_ms <= 0) return false;
    pollfd poll_fd{fd, POLLIN, 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(left_ms) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the loop's deadline test ends it
    char chunk[512];
    const ssize_t got = read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;
    out.append(chunk, static_cast<size_t>(got));
  }
}

}  // namespace

std::string describe_death(int status) {
  if (WIFSIGNALED(status)) {
    const int number = WTERMSIG(status);
    const char* name = sigabbrev_np(number);
    return "crashed: signal " + std::to_string(number) +
           (name ? " (SIG" + std::string(name) + ")" : std::string());
  }
  if (WIFEXITED(status)) return "crashed: exit " + std::to_string(WEXITSTATUS(status));
  return "crashed: wait status " + std::to_string(status);
}

std::string describe_hang(double timeout_s) {
  return "hung: no result in " + std::to_string(static_cast<int64_t>(timeout_s)) + "s";
}

IsolatedOutcome run_isolated(const sim::SimParams& params, const sim::StepHook& hook,
                             double timeout_s) {
  WALSIM_ASSERT(timeout_s > 0, "an isolated run has a limit");
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  if (pipe(fds) != 0) return {std::string("crashed: cannot start: ") + std::strerror(errno), 0};
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {std::string("crashed: cannot start: ") + std::strerror(errno), 0};
  }
  if (pid == 0) {
    close(fds[0]);
    run_child(fds[1], params, hook);
  }
  close(fds[1]);
  std::string report;
  const bool ended = read_until_closed(fds[0], timeout_s, report);
  close(fds[0]);
  if (!ended) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ended) return {describe_hang(timeout_s), 0};
  const size_t newline = report.find('\n');
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!clean || newline == std::string::npos) return {describe_death(status), 0};
  WALSIM_ASSERT(newline > 0, "a run reports pass or an invariant");
  return {report.substr(0, newline), std::stoll(report.substr(newline + 1))};
}

}  // namespace walsim::campaign
