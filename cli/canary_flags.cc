#include "cli/canary_flags.h"

#include <cstdio>

#include "engine/mutant.h"

namespace walsim {

void add_canary_flags(CLI::App& app, sim::Overrides& overrides) {
  for (const sim::Canary& canary : sim::canaries()) {
    app.add_flag(canary.flag, overrides.*canary.override,
                 std::string("canary: ") + canary.help + " (the run must fail)");
  }
}

std::string canary_flags(const sim::Overrides& overrides) {
  std::string flags;
  for (const sim::Canary& canary : sim::canaries()) {
    if (overrides.*canary.override) flags += std::string(" ") + canary.flag;
  }
  return flags;
}

void add_mutant_flag(CLI::App& app, sim::Overrides& overrides) {
  app.add_option("--mutant", overrides.mutant,
                 "turn on one planted bug by name (a --config=mutants build only; see\n"
                 "engine/mutant.cc)");
}

bool apply_mutant_flag(const sim::Overrides& overrides, const char* command) {
  if (overrides.mutant.empty()) return true;
  if (!mutant::kCompiled) {
    std::fprintf(stderr,
                 "%s: --mutant needs a build with the planted bugs compiled in "
                 "(bazel build --config=mutants //:walsim)\n",
                 command);
    return false;
  }
  if (!mutant::set_active(overrides.mutant)) {
    std::fprintf(stderr, "%s: no planted bug named '%s' (engine/mutant.cc lists them)\n", command,
                 overrides.mutant.c_str());
    return false;
  }
  return true;
}

}  // namespace walsim
