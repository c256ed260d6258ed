#include "tests/live/walsim_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace walsim::live::testing {

namespace {

std::string read_file(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string walsim_binary() {
  const char* runfiles = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(runfiles ? runfiles : ".") + "/" + (workspace ? workspace : "walsim") +
         "/tests/live/walsim";
}

WalsimProcess::WalsimProcess(const std::vector<std::string>& args, std::string stdout_path,
                             std::string stderr_path)
    : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
  std::string binary = walsim_binary();
  pid_ = ::fork();
  if (pid_ != 0) return;
  int out = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0) ::_exit(126);
  ::dup2(out, 1);
  ::dup2(err, 2);
  std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}

WalsimProcess::~WalsimProcess() {
  if (running()) {
    signal(SIGKILL);
    wait(10'000);
  }
}

bool WalsimProcess::running() {
  if (pid_ <= 0 || exit_code_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) exit_code_ = exit_code_of(status);
  return !exit_code_;
}

void WalsimProcess::signal(int signal_number) {
  if (running()) ::kill(pid_, signal_number);
}

std::optional<int> WalsimProcess::wait(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

std::string WalsimProcess::out() const { return read_file(stdout_path_); }

std::string WalsimProcess::err() const { return read_file(stderr_path_); }

WalsimRun run_walsim(const std::vector<std::string>& args, const std::string& temp_dir,
                     int64_t timeout_ms) {
  WalsimProcess process(args, temp_dir + "/run.out", temp_dir + "/run.err");
  WalsimRun run;
  std::optional<int> code = process.wait(timeout_ms);
  if (!code) {
    process.signal(SIGKILL);
    code = process.wait(10'000);
  }
  run.exit_code = code.value_or(-1);
  run.out = process.out();
  run.err = process.err();
  return run;
}

}  // namespace walsim::live::testing
