#pragma once

namespace walsim {

// `walsim inspect --store FILE [--json] [--count-rows]`: the published
// checkpoint, each bucket's rows, ops and checksum (read from the bucket
// totals, not the op log, so it answers at once on a big store), and
// per-table snapshot state.
int inspect_command(int argc, char** argv);

}  // namespace walsim
