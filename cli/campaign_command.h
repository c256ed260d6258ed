#pragma once

namespace walsim {

// `walsim campaign --time 10m --jobs N [options]`: runs seeds in parallel
// worker processes until the time is up, shows progress, writes a JSON
// summary, and minimizes each distinct failure into a replay file.
// Exit code: 0 no seed failed, 1 a seed failed (broke an invariant or
// killed its worker, e.g. by a failed assertion), 2 bad usage.
int campaign_command(int argc, char** argv);

}  // namespace walsim
