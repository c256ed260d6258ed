#pragma once

namespace walsim {

// `walsim inspect --store FILE [--json]`: the published checkpoint, each
// bucket's row count and checksum, and per-table snapshot state.
int inspect_command(int argc, char** argv);

}  // namespace walsim
