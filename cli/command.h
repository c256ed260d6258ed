// A walsim subcommand: `walsim <name> [args]`. Each command parses its own
// arguments (with --help) and returns the process exit code:
//   0 success, 1 the work failed (e.g. an invariant broke), 2 bad usage.
#pragma once

namespace walsim {

struct Command {
  const char* name;
  const char* summary;
  // argv[0] is the command's name; the rest are its arguments.
  int (*run)(int argc, char** argv);
};

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

}  // namespace walsim
