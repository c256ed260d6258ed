#pragma once

namespace walsim {

// `walsim check-rules --rules FILE [--source URL [--publication P]]`:
// parses a rules file and names the tables it replicates, or the line and
// problem that make it invalid (exit 2). With --source, also checks the
// rules against that server (live/rules_check.h) and names every problem
// found (exit 1).
int check_rules_command(int argc, char** argv);

}  // namespace walsim
