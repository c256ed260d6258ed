// The bucket store's SQLite schema, and the check that a file is a walsim
// store. Documented table by table in bucket_storage.h.
#pragma once

#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

// On an empty database: creates the schema and the replication state row
// (snapshot_done false). On a walsim store: checks its format version.
// Anything else is kInvalidArgument "... is not a walsim store", and nothing
// is written to it.
Status prepare_store_schema(SqliteDb& db);

// Checks only, never creates: an empty database is "not a walsim store".
// For readers such as `walsim inspect` that must not change the file.
Status check_store_schema(SqliteDb& db);

}  // namespace walsim
