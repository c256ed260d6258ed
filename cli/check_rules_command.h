#pragma once

namespace walsim {

// `walsim check-rules --rules FILE`: parses a rules file and names the
// tables it replicates, or the line and problem that make it invalid.
int check_rules_command(int argc, char** argv);

}  // namespace walsim
