// walsim: the one entry point. `walsim <command> [args]`; `walsim --help`
// lists the commands, `walsim <command> --help` explains one.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/campaign_command.h"
#include "cli/check_rules_command.h"
#include "cli/command.h"
#include "cli/compact_command.h"
#include "cli/inspect_command.h"
#include "cli/replicate_command.h"
#include "cli/rules_diff_command.h"
#include "cli/sim_command.h"

namespace walsim {
namespace {

const Command kCommands[] = {
    {"campaign", "run simulation seeds in parallel for a time; minimize failures",
     campaign_command},
    {"check-rules", "check a bucket rules file and list the tables it replicates",
     check_rules_command},
    {"compact", "compact a store's op history (MOVE/CLEAR) and reclaim its space",
     compact_command},
    {"inspect", "print a store's checkpoint, buckets and snapshot state", inspect_command},
    {"replicate", "replicate a live Postgres database into a bucket store", replicate_command},
    {"rules", "rules diff: the plan of deploying new bucket rules on a store", rules_command},
    {"sim", "run the deterministic simulation: one seed, a range, or a replay file", sim_command},
};

void print_usage(FILE* out) {
  std::fprintf(out,
               "walsim: a Postgres-to-bucket-store replication engine and its deterministic\n"
               "simulation harness.\n\n"
               "usage: walsim <command> [options]      (walsim <command> --help for more)\n\n"
               "commands:\n");
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %-12s %s\n", command.name, command.summary);
  }
}

int main(int argc, char** argv) {
  // `bazel run` starts programs in the runfiles tree; paths a user types
  // (--store, --rules, --json, tests/regressions) mean the directory the
  // user ran it from, which Bazel passes here.
  if (const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (chdir(user_dir) != 0) {
      std::fprintf(stderr, "walsim: cannot enter '%s'\n", user_dir);
      return kExitUsage;
    }
  }
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  for (const Command& command : kCommands) {
    if (!std::strcmp(argv[1], command.name)) return command.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "walsim: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace walsim

int main(int argc, char** argv) { return walsim::main(argc, argv); }
