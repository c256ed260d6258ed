// The canary flags (--unsafe-hard-deletes, --unsafe-no-sync, ...), one per
// known-unsafe mode in sim::canaries(): `walsim sim` and `walsim campaign`
// accept the same ones, and print the same reproduction flags.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "sim/params.h"

namespace walsim {

// Adds a flag for every canary, setting its field of `overrides`.
void add_canary_flags(CLI::App& app, sim::Overrides& overrides);
// " --unsafe-no-sync ..." for the canaries that are on; "" for none.
std::string canary_flags(const sim::Overrides& overrides);

// --mutant NAME: a planted bug (engine/mutant.h) on, in a mutants build.
void add_mutant_flag(CLI::App& app, sim::Overrides& overrides);
// Turns overrides.mutant on for this process; false (after saying why on
// stderr, as `command`) for an unknown name or a build without mutants.
bool apply_mutant_flag(const sim::Overrides& overrides, const char* command);

}  // namespace walsim
