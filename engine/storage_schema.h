// The bucket store's schema: the one description of its tables (the DDL in
// storage_schema.cc, column by column), the check that a file is a walsim
// store, and the walsim_meta table.
//
// Every SQL statement against the store lives in engine/, each table's in
// the one file that owns it:
//   walsim_meta        format marker, slot name,    storage_schema.cc
//                      the slot's members
//   source_tables      one row per source table     source_tables.cc
//   current_data       one row per (table, row id)  current_data.cc
//   bucket_data        the op log                   op_log.cc
//   replication_state  one row: checkpoint state    checkpoint_rules.cc
//                      (its last_op_id: the op id sequence, op_log.cc)
//   rules_versions     one row per rules version    rules_versions.cc
//   bucket_definitions one row per (version, definition)  rules_versions.cc
//                      (its fingerprint: rules_fingerprint.h)
// Writes run inside a StoreTransaction (store_transaction.h).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

// On an empty database: creates the schema and the replication state row
// (snapshot_done false). On a walsim store: checks its format version.
// Anything else is kInvalidArgument "... is not a walsim store", and nothing
// is written to it.
Status prepare_store_schema(SqliteDb& db);

// Checks only, never creates: an empty database is "not a walsim store".
// For readers such as `walsim inspect` that must not change the file.
Status check_store_schema(SqliteDb& db);

// walsim_meta 'slot_name': the replication slot the store follows.
Result<std::optional<std::string>> read_slot_name(SqliteDb& db);
Status write_slot_name(StoreTransaction& txn, const std::string& slot);

// walsim_meta 'slot_members': each rules table's publication membership
// (SourceConnector::publication_members) as read just *before* the slot the
// store follows was created; a table left out was not published then. A
// copy under the same membership needs no wait for the stream
// (BucketStorage::start_copy). An empty map deletes the key: no table is
// known to have been published since before the slot.
Result<std::map<std::string, std::string>> read_slot_members(SqliteDb& db);
Status write_slot_members(StoreTransaction& txn,
                          const std::map<std::string, std::string>& members);

}  // namespace walsim
