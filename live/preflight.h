// Preflight: everything `walsim replicate` checks before it writes anything,
// on the store or on the source. The first problem comes back as one Status
// whose message says what is wrong and how to fix it.
#pragma once

#include <vector>

#include "engine/bucket_rules.h"
#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_source_connector.h"
#include "live/source_monitor.h"

namespace walsim::live {

// Checks, in order: the slot name; that the source is reachable and the
// login works; wal_level = logical; the REPLICATION privilege; that every
// table the rules name exists, has a replica identity, fits the rules'
// columns and may be read; that the publication publishes all of them.
// Returns the tables as described.
Result<std::vector<Relation>> check_source(PgSourceConnector& source, SourceMonitor& monitor,
                                           const BucketRules& rules);

}  // namespace walsim::live
