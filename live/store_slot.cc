#include "live/store_slot.h"

#include <sys/stat.h>

#include "engine/storage_schema.h"

namespace walsim {

namespace {

constexpr const char* kSlotKey = "slot_name";

bool file_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

Result<bool> has_tables(SqliteDb& db) {
  Result<Statement*> stmt = db.prepare("SELECT EXISTS (SELECT 1 FROM source_tables)");
  if (!stmt.is_ok()) return stmt.status();
  Result<bool> row = (*stmt)->step();
  if (!row.is_ok()) return row.status();
  return *row && (*stmt)->int64(0) != 0;
}

}  // namespace

Result<StoreFacts> probe_store(const std::string& path) {
  StoreFacts facts;
  if (!file_exists(path)) return facts;
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::open(path, /*create=*/false);
  if (!db.is_ok()) return db.status();
  WALSIM_RETURN_IF_ERROR(check_store_schema(**db));
  Result<std::optional<std::string>> slot = stored_slot_name(**db);
  if (!slot.is_ok()) return slot.status();
  facts.slot_name = *slot;
  Result<bool> tables = has_tables(**db);
  if (!tables.is_ok()) return tables.status();
  facts.has_tables = *tables;
  return facts;
}

Result<std::optional<std::string>> stored_slot_name(SqliteDb& db) {
  Result<Statement*> stmt = db.prepare("SELECT value FROM walsim_meta WHERE key = ?1");
  if (!stmt.is_ok()) return stmt.status();
  Result<bool> row = (*stmt)->bind(1, kSlotKey).step();
  if (!row.is_ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*stmt)->text(0));
}

Status store_slot_name(SqliteDb& db, const std::string& slot) {
  return in_transaction(db, [&] {
    Result<Statement*> stmt = db.prepare(
        "INSERT INTO walsim_meta (key, value) VALUES (?1, ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!stmt.is_ok()) return stmt.status();
    return (*stmt)->bind(1, kSlotKey).bind(2, slot).run();
  });
}

Status start_new_replication_state(BucketStorage& storage) {
  Result<std::vector<TableState>> tables = storage.tables();
  if (!tables.is_ok()) return tables.status();
  for (TableState& table : *tables) {
    // relid 0 names no real table: the engine treats it as a re-created
    // table (REMOVE every row, new generation, copy again), and again when
    // the next start-up registers the real relid.
    Relation placeholder = table.relation;
    placeholder.relid = 0;
    Result<bool> changed = storage.register_table(placeholder);
    if (!changed.is_ok()) return changed.status();
  }
  return Status::ok();
}

}  // namespace walsim
