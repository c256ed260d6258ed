#include "engine/storage_schema.h"

#include <string>

namespace walsim {

namespace {

constexpr const char* kFormatName = "walsim-bucket-store";
constexpr const char* kFormatVersion = "1";

constexpr const char* kSchema = R"sql(
CREATE TABLE walsim_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE source_tables (
  name TEXT PRIMARY KEY,
  relation TEXT NOT NULL,          -- JSON: relid, identity, columns
  snapshot_done INTEGER NOT NULL DEFAULT 0,
  resume_key TEXT,                 -- encoded key of the last row copied
  rows_copied INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE current_data (
  source_table TEXT NOT NULL,
  row_id TEXT NOT NULL,            -- encoded replica identity key
  data TEXT NOT NULL,              -- encoded full row, kept for TOAST merges
  buckets TEXT NOT NULL,           -- bucket ids the row is in, '\n'-joined
  pending_delete INTEGER,          -- tombstone: op id of the delete
  copied INTEGER NOT NULL DEFAULT 0,  -- 1: values came from a table copy
  incomplete INTEGER,              -- 1: an unchanged-TOAST value is unknown
  PRIMARY KEY (source_table, row_id)
) WITHOUT ROWID;
CREATE INDEX current_data_incomplete ON current_data (source_table)
  WHERE incomplete = 1 AND pending_delete IS NULL;
CREATE INDEX current_data_tombstones ON current_data (pending_delete)
  WHERE pending_delete IS NOT NULL;
-- Op ids ascend, so rows append at the end of the table; clients read a
-- bucket's ops through the (bucket, op_id) index.
CREATE TABLE bucket_data (
  op_id INTEGER PRIMARY KEY,       -- global, increasing: replication_state.last_op_id
  bucket TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('PUT', 'REMOVE')),
  source_table TEXT NOT NULL,
  row_id TEXT NOT NULL,
  checksum INTEGER NOT NULL,
  data TEXT
);
CREATE INDEX bucket_data_by_bucket ON bucket_data (bucket, op_id);
CREATE TABLE replication_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  snapshot_done INTEGER NOT NULL,
  last_checkpoint INTEGER,
  last_checkpoint_lsn INTEGER,
  no_checkpoint_before INTEGER,
  keepalive_op INTEGER,
  last_op_id INTEGER NOT NULL DEFAULT 0,  -- the op id sequence
  last_applied_lsn INTEGER             -- commit LSN of the last source transaction applied
);
INSERT INTO replication_state (id, snapshot_done) VALUES (1, 0);
)sql";

Result<int64_t> count_user_tables(SqliteDb& db) {
  auto stmt = db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
  if (!stmt.is_ok()) return stmt.status();
  auto row = (*stmt)->step();
  if (!row.is_ok()) return row.status();
  return (*stmt)->int64(0);
}

Status not_a_store(SqliteDb& db, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument,
                "'" + db.path() + "' is not a walsim store: " + why);
}

Status check_format(SqliteDb& db) {
  auto stmt = db.prepare(
      "SELECT value FROM walsim_meta WHERE key = 'format' UNION ALL "
      "SELECT value FROM walsim_meta WHERE key = 'version'");
  if (!stmt.is_ok()) return not_a_store(db, "it has other tables");
  std::string values[2];
  for (auto& value : values) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) return not_a_store(db, "its format marker is missing");
    value = (*stmt)->text(0);
  }
  if (values[0] != kFormatName) return not_a_store(db, "unknown format '" + values[0] + "'");
  if (values[1] != kFormatVersion) {
    return not_a_store(db, "format version " + values[1] + ", this build reads " + kFormatVersion);
  }
  return Status::ok();
}

}  // namespace

Status check_store_schema(SqliteDb& db) {
  Result<int64_t> tables = count_user_tables(db);
  if (!tables.is_ok()) {
    if (tables.status().code() == ErrorCode::kCorrupt) {
      return not_a_store(db, "not a SQLite database");
    }
    return tables.status();
  }
  if (*tables == 0) return not_a_store(db, "it is empty");
  return check_format(db);
}

Status prepare_store_schema(SqliteDb& db) {
  Result<int64_t> tables = count_user_tables(db);
  if (!tables.is_ok()) {
    if (tables.status().code() == ErrorCode::kCorrupt) {
      return not_a_store(db, "not a SQLite database");
    }
    return tables.status();
  }
  if (*tables > 0) return check_format(db);
  return in_transaction(db, [&] {
    WALSIM_RETURN_IF_ERROR(db.exec(kSchema));
    auto stmt = db.prepare("INSERT INTO walsim_meta (key, value) VALUES (?1, ?2)");
    if (!stmt.is_ok()) return stmt.status();
    WALSIM_RETURN_IF_ERROR((*stmt)->bind(1, "format").bind(2, kFormatName).run());
    (*stmt)->reset();
    return (*stmt)->bind(1, "version").bind(2, kFormatVersion).run();
  });
}

}  // namespace walsim
