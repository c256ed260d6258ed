// walsim_sim: the simulator alone, `walsim_sim --seed N` = `walsim sim
// --seed N`, for runs and tests that need no other command.
#include "sim/sim_command.h"

int main(int argc, char** argv) { return walsim::sim_command(argc, argv); }
