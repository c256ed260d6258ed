#include "cli/canary_flags.h"

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

}  // namespace walsim
