// Every command's flag parsing, so that all of them report a mistake the
// same way. CLI11 checks required options before it looks at arguments it
// did not recognize, so `walsim replicate --bogus` would answer "--source
// is required"; here an unknown argument is named first, whatever else is
// wrong, because it is usually the cause (a typo in a flag's name).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace walsim {

// Parses `argv` (argv[0] is the command's name) into `app`. nullopt when
// the command should go on; otherwise the exit code to return: kExitOk
// after --help, kExitUsage after a mistake, which is printed as one line
// on stderr (plus CLI11's hint to run --help).
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv);

}  // namespace walsim
