// The built `walsim` binary as a child process: for tests of the command
// line (exit codes, messages) and of real crashes (SIGKILL).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace walsim::live::testing {

// The walsim binary in this test's runfiles (//tests/live:walsim).
std::string walsim_binary();

class WalsimProcess {
 public:
  // Starts `walsim args...` with stdout and stderr going to the two files.
  WalsimProcess(const std::vector<std::string>& args, std::string stdout_path,
                std::string stderr_path);
  // Kills a process still running (SIGKILL) and reaps it.
  ~WalsimProcess();
  WalsimProcess(const WalsimProcess&) = delete;
  WalsimProcess& operator=(const WalsimProcess&) = delete;

  bool started() const { return pid_ > 0; }
  bool running();
  void signal(int signal_number);
  // The exit code, or 128 + signal for a signalled process; nullopt when
  // it is still running after `timeout_ms`.
  std::optional<int> wait(int64_t timeout_ms);

  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string stdout_path_;
  std::string stderr_path_;
};

struct WalsimRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `walsim args...` to completion (SIGKILL after `timeout_ms`).
WalsimRun run_walsim(const std::vector<std::string>& args, const std::string& temp_dir,
                     int64_t timeout_ms = 30'000);

}  // namespace walsim::live::testing
