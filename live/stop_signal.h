// SIGINT/SIGTERM as a stop request: the handler only sets a flag, and the
// runtime checks it between steps, so a stop never cuts a step in half.
// This flag is walsim's only global mutable state: a signal handler has no
// other way to reach the program.
#pragma once

#include <atomic>

namespace walsim::live {

// Installs the handlers (without SA_RESTART, so a wait returns at once). A
// second signal while stopping ends the process the default way.
void install_stop_signal_handlers();

// The flag the handlers set; pass it to LiveRuntime::run.
const std::atomic<bool>& stop_signal_flag();

// The signal that set the flag (SIGINT or SIGTERM), 0 before any.
int stop_signal_number();

}  // namespace walsim::live
