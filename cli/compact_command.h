#pragma once

namespace walsim {

// `walsim compact --store FILE [--up-to-op N] [--no-vacuum]`: rewrites each
// bucket's history at or below the published checkpoint (superseded ops
// become MOVE, a bucket's leading MOVE/REMOVE run one CLEAR; engine/
// compactor.h), then reclaims the space (VACUUM) and prints the store's
// bytes before and after. Takes the store's writer lock: refused while
// `walsim replicate` runs on the store.
int compact_command(int argc, char** argv);

}  // namespace walsim
