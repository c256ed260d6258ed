#include "live/stop_signal.h"

#include <signal.h>

namespace walsim::live {

namespace {

// Lock-free atomics are async-signal-safe; a plain bool is not.
std::atomic<bool> g_stop_requested{false};
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

void on_stop_signal(int signal_number) {
  if (g_stop_requested.exchange(true)) {
    // Second signal: the user insists. Committed state is consistent at any
    // point, so dying here loses only the step in progress.
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
    return;
  }
  g_stop_signal.store(signal_number);
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR at once
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool>& stop_signal_flag() { return g_stop_requested; }

int stop_signal_number() { return g_stop_signal.load(); }

}  // namespace walsim::live
