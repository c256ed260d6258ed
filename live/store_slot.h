// The store's side of the slot pairing (see slot_plan.h): which slot a store
// follows, and starting a new replication state when that slot is lost.
//
// The slot name is kept in walsim_meta under 'slot_name'. A new replication
// state must not leave clients stranded: rather than wiping the store, every
// table is re-registered as a different relation, which the engine answers
// with REMOVE ops for all its rows and a fresh copy, so a client's
// incremental download still converges on the new state.
#pragma once

#include <optional>
#include <string>

#include "engine/bucket_storage.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

// What an existing store says before anything is written to it.
struct StoreFacts {
  std::optional<std::string> slot_name;
  bool has_tables = false;
};

// kInvalidArgument "... is not a walsim store: ..." for any other file; a
// missing file is a new store (no slot, no tables) and is not created.
Result<StoreFacts> probe_store(const std::string& path);

Result<std::optional<std::string>> stored_slot_name(SqliteDb& db);
Status store_slot_name(SqliteDb& db, const std::string& slot);

// Every replicated table's rows are removed (REMOVE ops) and the table
// needs a new copy; nothing is published until all copies are done. The
// next Replicator re-registers the tables with their real relations.
// Idempotent, so a crash half-way is repaired by running it again.
Status start_new_replication_state(BucketStorage& storage);

}  // namespace walsim
