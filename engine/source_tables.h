// Source tables: the source_tables table (DDL in engine/storage_schema.cc).
//
// One row per source table the rules name: the relation as last registered
// (relid, replica identity, columns), whether its copy is done, the key of
// the last row copied (where a restarted copy resumes), the rows copied,
// and the copy generation, bumped whenever the table must be copied again
// so that rows of an older copy still in flight are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

// Per-table snapshot progress, as stored.
struct TableState {
  std::string table;
  Relation relation;
  bool snapshot_done = false;
  std::optional<Row> resume_key;  // last key copied; nullopt: from the start
  int64_t rows_copied = 0;
  int64_t generation = 0;  // bumped when the table must be copied again
  // The table's publication membership (SourceConnector::publication_members)
  // as its last copy started; the same membership later proves the stream
  // carried the table's changes all along since (issue 10 part A).
  // nullopt: no copy started yet. kWithdrawnMember: the table was found out
  // of the publication (or back as a new member) and its rows withdrawn.
  std::optional<std::string> publication_member;
};

// The publication_member of a withdrawn table: no membership has that
// identity, so its next copy knows the stream left changes out.
inline constexpr const char* kWithdrawnMember = "";

// A table must be copied again when the source's rows can no longer be
// matched to the stored ones: a re-created table (new relid), a new replica
// identity, or changed columns (stored rows are positional).
bool needs_new_copy(const Relation& stored, const Relation& current);

// --- reads ---------------------------------------------------------------------

Result<std::vector<TableState>> read_tables(SqliteDb& db);  // in name order
Result<std::optional<TableState>> read_table(SqliteDb& db, const std::string& name);
Result<bool> any_tables(SqliteDb& db);

// --- writes, inside a transaction ------------------------------------------------

// A table not registered before: it needs a copy, so snapshot_done is
// cleared with it.
Status insert_table(StoreTransaction& txn, const Relation& relation);
Status update_relation(StoreTransaction& txn, const Relation& relation);
// The table must be copied again: clears its done flag, resume key and
// rows copied, bumps its generation, and clears snapshot_done. The
// publication member stays: the next copy compares it with its own.
// kNotFound when it is not registered.
Status require_copy(StoreTransaction& txn, const std::string& table);
Status mark_copy_done(StoreTransaction& txn, const std::string& table);
// The membership the table's copy starts under (issue 10 part A).
Status set_publication_member(StoreTransaction& txn, const std::string& table,
                              const std::string& member);
// Issue 10 (DDL): the table no longer exists in the source; it is
// forgotten (a table of that name created later registers as new).
// kNotFound when it is not registered.
Status delete_table(StoreTransaction& txn, const std::string& table);
// Adds `rows_copied` and, when set, stores the new resume key.
Status record_copy_progress(StoreTransaction& txn, const std::string& table,
                            int64_t rows_copied, const std::optional<Row>& resume_key);

}  // namespace walsim
