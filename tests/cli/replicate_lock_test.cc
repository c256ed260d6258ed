// One writer per store, across processes: while this test process holds
// a store's lock, `walsim replicate` in a child process is refused with one
// line and exit 1, before it reads the rules or connects to the source.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli/replicate_command.h"
#include "engine/store_lock.h"

namespace walsim {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string err;
};

// Runs `walsim replicate ARGS` in a forked child; returns its exit code
// and what it wrote to stderr.
Outcome replicate_in_child(std::vector<std::string> args) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    args.insert(args.begin(), "replicate");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    const int code = replicate_command(static_cast<int>(argv.size()), argv.data());
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  Outcome outcome;
  char buffer[512];
  for (ssize_t got; (got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    outcome.err.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

TEST(ReplicateLock, ASecondWriterIsRefusedWithOneLineBeforeTouchingTheSource) {
  const std::string store = ::testing::TempDir() + "/replicate_lock.db";
  FileStoreLocks locks;
  auto held = locks.acquire(store);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  // No such rules file and no such server: had it got past the lock, it
  // would have said so instead.
  const Outcome refused = replicate_in_child(
      {"--source", "host=/nonexistent-socket-dir dbname=none", "--store", store, "--rules",
       "/nonexistent/rules.yaml"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "walsim replicate: store '" + store +
                             "' is in use by another walsim (process " +
                             std::to_string(::getpid()) +
                             "); one writer per store: stop it first, or use another --store\n");
  EXPECT_EQ(::access(store.c_str(), F_OK), -1) << "the refused writer created no store";

  held->reset();  // the first writer stops
  const Outcome next = replicate_in_child(
      {"--source", "host=/nonexistent-socket-dir dbname=none", "--store", store, "--rules",
       "/nonexistent/rules.yaml"});
  EXPECT_NE(next.exit_code, 0);
  EXPECT_EQ(next.err.find("in use"), std::string::npos) << next.err;
}

}  // namespace
}  // namespace walsim
