#pragma once

namespace walsim {

// `walsim sim --seed N | --seeds A-B [options]`: runs the deterministic
// simulation. argv[0] is the command's name. Exit code: 0 every seed
// passed, 1 an invariant broke, 2 bad usage.
int sim_command(int argc, char** argv);

}  // namespace walsim
