#include "engine/storage_schema.h"

#include <nlohmann/json.hpp>
#include <string>

namespace walsim {

namespace {

constexpr const char* kFormatName = "walsim-bucket-store";
// 2: replication_state gained the durability columns (durable_lsn, the
// published checkpoint, the op id reservation). A writer upgrades a version 1 store in place
// (kUpgradeFrom1), in a durable transaction: the checkpoint it publishes
// survives a power loss from then on.
// 3: bucket_totals, per-bucket totals kept as ops are written, so
// `walsim inspect` reads one row per bucket instead of the op log. A writer
// fills it from the log once (kUpgradeFrom2).
// 4 (issue 10): bucket_definitions, the fingerprint of each bucket
// definition the store was built with (rules_fingerprint.h). A writer
// upgrades a version 3 store in place (kUpgradeFrom3): the table starts
// empty, and the first start records its rules. Older builds refuse a
// version 4 store ("format version 4, this build reads 3").
// 5 (issue 10 part A): source_tables gained publication_member, the
// membership a table's copy started under (kUpgradeFrom4).
// 6 (issue 11): rules versions. rules_versions, one row per version of the
// bucket rules (rules_versions.h); bucket_definitions per version; the
// version each checkpoint belongs to in replication_state. A writer
// upgrades a version 5 store in place (kUpgradeFrom5): the definitions it
// recorded become version 1, active, and its checkpoints belong to it.
// 7 (issue 11 item 3, compaction): bucket_data.op also allows 'MOVE' and
// 'CLEAR', the ops compaction leaves (engine/compactor.h). A writer
// upgrades a version 6 store in place (kUpgradeFrom6). Older builds refuse
// a version 7 store.
constexpr const char* kFormatVersion = "7";
constexpr const char* kUpgradeFrom1 = R"sql(
ALTER TABLE replication_state ADD COLUMN durable_lsn INTEGER;
ALTER TABLE replication_state ADD COLUMN published_checkpoint INTEGER;
ALTER TABLE replication_state ADD COLUMN published_checkpoint_lsn INTEGER;
ALTER TABLE replication_state ADD COLUMN op_id_reserved INTEGER NOT NULL DEFAULT 0;
UPDATE replication_state SET published_checkpoint = last_checkpoint,
  published_checkpoint_lsn = last_checkpoint_lsn, op_id_reserved = last_op_id;
UPDATE walsim_meta SET value = '2' WHERE key = 'version';
)sql";
// The totals as the writers would have kept them: per (bucket, row), its
// ops, and whether its latest op is a PUT (SQLite takes a bare column from
// the row of the one max()).
constexpr const char* kUpgradeFrom2 = R"sql(
CREATE TABLE bucket_totals (
  bucket TEXT PRIMARY KEY,
  op_count INTEGER NOT NULL,
  live_rows INTEGER NOT NULL,
  checksum INTEGER NOT NULL,
  last_op_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO bucket_totals (bucket, op_count, live_rows, checksum, last_op_id)
  SELECT bucket, sum(ops), sum(op = 'PUT'), sum(checksums) % 4294967296, max(last_op)
  FROM (SELECT bucket, op, max(op_id) AS last_op, count(*) AS ops, sum(checksum) AS checksums
        FROM bucket_data GROUP BY bucket, source_table, row_id)
  GROUP BY bucket;
UPDATE walsim_meta SET value = '3' WHERE key = 'version';
)sql";
// Format 4's bucket_definitions, for the upgrade steps only (kUpgradeFrom5
// gives it its version column).
constexpr const char* kBucketDefinitions = R"sql(
-- One row per bucket definition the store serves (rules_fingerprint.h).
CREATE TABLE bucket_definitions (
  name TEXT PRIMARY KEY,           -- the definition's name, bucket ids start with it
  fingerprint TEXT NOT NULL,       -- FNV-1a 64 of normalized, 16 hex digits
  normalized TEXT NOT NULL         -- its queries, normalized: what the fingerprint covers
);
)sql";
constexpr const char* kUpgradeFrom3 = "UPDATE walsim_meta SET value = '4' WHERE key = 'version';";

constexpr const char* kUpgradeFrom4 = R"sql(
ALTER TABLE source_tables ADD COLUMN publication_member TEXT;
UPDATE walsim_meta SET value = '5' WHERE key = 'version';
)sql";

// SQLite cannot change a primary key: bucket_definitions is rebuilt with
// the version in its key. At most one version is active and at most one is
// building (the partial unique index).
constexpr const char* kUpgradeFrom5 = R"sql(
CREATE TABLE rules_versions (
  id INTEGER PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('building', 'active', 'retired')),
  rules_text TEXT,
  created_lsn INTEGER,
  activated_lsn INTEGER
);
CREATE UNIQUE INDEX rules_versions_one_per_state ON rules_versions (state)
  WHERE state <> 'retired';
INSERT INTO rules_versions (id, state)
  SELECT 1, 'active' WHERE EXISTS (SELECT 1 FROM bucket_definitions);
CREATE TABLE bucket_definitions_6 (
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  normalized TEXT NOT NULL,
  PRIMARY KEY (version, name)
) WITHOUT ROWID;
INSERT INTO bucket_definitions_6 (version, name, fingerprint, normalized)
  SELECT 1, name, fingerprint, normalized FROM bucket_definitions;
DROP TABLE bucket_definitions;
ALTER TABLE bucket_definitions_6 RENAME TO bucket_definitions;
ALTER TABLE replication_state ADD COLUMN checkpoint_version INTEGER;
ALTER TABLE replication_state ADD COLUMN published_version INTEGER;
UPDATE replication_state SET
  checkpoint_version = (SELECT id FROM rules_versions WHERE state = 'active'),
  published_version = (SELECT id FROM rules_versions WHERE state = 'active');
UPDATE walsim_meta SET value = '6' WHERE key = 'version';
)sql";

// SQLite cannot alter a CHECK: bucket_data is rebuilt, one copy of the op
// log, once, in the writer's durable upgrade transaction.
constexpr const char* kUpgradeFrom6 = R"sql(
CREATE TABLE bucket_data_7 (
  op_id INTEGER PRIMARY KEY,
  bucket TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('PUT', 'REMOVE', 'MOVE', 'CLEAR')),
  source_table TEXT NOT NULL,
  row_id TEXT NOT NULL,
  checksum INTEGER NOT NULL,
  data TEXT
);
INSERT INTO bucket_data_7 (op_id, bucket, op, source_table, row_id, checksum, data)
  SELECT op_id, bucket, op, source_table, row_id, checksum, data FROM bucket_data;
DROP TABLE bucket_data;
ALTER TABLE bucket_data_7 RENAME TO bucket_data;
CREATE INDEX bucket_data_by_bucket ON bucket_data (bucket, op_id);
UPDATE walsim_meta SET value = '7' WHERE key = 'version';
)sql";

constexpr const char* kSlotKey = "slot_name";
constexpr const char* kSlotMembersKey = "slot_members";

// The one description of the store. What each column means, and which
// rules use it: docs/design.md ("The store", "The rules, exactly") and
// checkpoint_rules.h.
constexpr const char* kSchema = R"sql(
-- 'format' and 'version' (see kFormatName), 'slot_name' once paired,
-- 'slot_members' (a JSON object, table to membership) if known.
CREATE TABLE walsim_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- One row per source table the rules name.
CREATE TABLE source_tables (
  name TEXT PRIMARY KEY,
  relation TEXT NOT NULL,          -- JSON: relid, schema, name, identity, columns
  snapshot_done INTEGER NOT NULL DEFAULT 0,  -- 1: this table's copy is done
  resume_key TEXT,                 -- encoded key of the last row copied
  rows_copied INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0,  -- bumped when the table must be copied again
  publication_member TEXT          -- the publication membership its copy started under
);
-- The store's copy of every source row it knows, and its tombstones.
CREATE TABLE current_data (
  source_table TEXT NOT NULL,
  row_id TEXT NOT NULL,            -- encoded replica identity key
  data TEXT NOT NULL,              -- encoded full row, kept for TOAST merges
  buckets TEXT NOT NULL,           -- bucket ids the row is in, '\n'-joined
  pending_delete INTEGER,          -- tombstone: op id of the delete; NULL: live
  copied INTEGER NOT NULL DEFAULT 0,  -- 1: values came from a table copy
  incomplete INTEGER,              -- 1: an unchanged-TOAST value is unknown
  PRIMARY KEY (source_table, row_id)
) WITHOUT ROWID;
CREATE INDEX current_data_incomplete ON current_data (source_table)
  WHERE incomplete = 1 AND pending_delete IS NULL;
CREATE INDEX current_data_tombstones ON current_data (pending_delete)
  WHERE pending_delete IS NOT NULL;
-- The op log. Op ids ascend, so rows append at the end of the table;
-- clients read a bucket's ops through the (bucket, op_id) index.
CREATE TABLE bucket_data (
  op_id INTEGER PRIMARY KEY,       -- global, increasing: replication_state.last_op_id
  bucket TEXT NOT NULL,            -- definition name + parameters: by_owner["alice"]
  -- PUT, REMOVE (appended); MOVE, CLEAR (left by compaction, format 7)
  op TEXT NOT NULL CHECK (op IN ('PUT', 'REMOVE', 'MOVE', 'CLEAR')),
  source_table TEXT NOT NULL,      -- '' for a CLEAR
  row_id TEXT NOT NULL,            -- '' for a CLEAR
  checksum INTEGER NOT NULL,       -- op_checksum(), 32-bit; a CLEAR: the sum it replaced
  data TEXT                        -- PUT: the bucket's data JSON; otherwise NULL
);
CREATE INDEX bucket_data_by_bucket ON bucket_data (bucket, op_id);
-- Per bucket, its ops so far added up: kept by every write transaction
-- (one upsert per bucket it touched, op_log.cc), read by `walsim inspect`.
CREATE TABLE bucket_totals (
  bucket TEXT PRIMARY KEY,
  op_count INTEGER NOT NULL,       -- ops in the bucket
  live_rows INTEGER NOT NULL,      -- rows whose latest op in the bucket is a PUT
  checksum INTEGER NOT NULL,       -- sum of the op checksums, wrapping 32-bit
  last_op_id INTEGER NOT NULL      -- the bucket's newest op
) WITHOUT ROWID;
-- The checkpoint state (checkpoint_rules.h states the rules over it).
CREATE TABLE replication_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  snapshot_done INTEGER NOT NULL,  -- 1: every table copy is done
  last_checkpoint INTEGER,         -- op id of the newest checkpoint the rules created
  last_checkpoint_lsn INTEGER,     -- the LSN it is consistent with
  no_checkpoint_before INTEGER,    -- LSN the stream must reach first
  keepalive_op INTEGER,            -- ops of blocked commits, for the next checkpoint
  last_op_id INTEGER NOT NULL DEFAULT 0,  -- the op id sequence
  op_id_reserved INTEGER NOT NULL DEFAULT 0,  -- ids up to here may have been handed out:
                                   -- raised only durably, skipped by a new process
  last_applied_lsn INTEGER,        -- commit LSN of the last source transaction applied
  durable_lsn INTEGER,             -- end LSN a durable commit covers: what the source may be told
  published_checkpoint INTEGER,    -- what clients read: last_checkpoint as of the last
  published_checkpoint_lsn INTEGER, --   durable commit (so it survives a power loss)
  checkpoint_version INTEGER,      -- rules version last_checkpoint belongs to
  published_version INTEGER        -- rules version published_checkpoint belongs to
);
INSERT INTO replication_state (id, snapshot_done) VALUES (1, 0);
-- One row per version of the bucket rules (rules_versions.h).
CREATE TABLE rules_versions (
  id INTEGER PRIMARY KEY,          -- 1, 2, ... in the order they were deployed
  state TEXT NOT NULL CHECK (state IN ('building', 'active', 'retired')),
  rules_text TEXT,                 -- the rules file as deployed; NULL: from a format 5 store
  created_lsn INTEGER,             -- the stream's position when it was created; NULL: at the start
  activated_lsn INTEGER            -- the checkpoint LSN it became active at; NULL: at the start
);
-- One active version, one building at most.
CREATE UNIQUE INDEX rules_versions_one_per_state ON rules_versions (state)
  WHERE state <> 'retired';
-- One row per bucket definition of each version (rules_fingerprint.h).
CREATE TABLE bucket_definitions (
  version INTEGER NOT NULL,        -- rules_versions.id
  name TEXT NOT NULL,              -- the definition's name, bucket ids start with it
  fingerprint TEXT NOT NULL,       -- FNV-1a 64 of normalized, 16 hex digits
  normalized TEXT NOT NULL,        -- its queries, normalized: what the fingerprint covers
  PRIMARY KEY (version, name)
) WITHOUT ROWID;
)sql";

Result<int64_t> count_user_tables(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  WALSIM_ASSERT(row, "count(*) returns one row");
  return stmt->int64(0);
}

Status not_a_store(SqliteDb& db, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument,
                "'" + db.path() + "' is not a walsim store: " + why);
}

// The store's format version, once its format marker is checked.
Result<std::string> read_format_version(SqliteDb& db) {
  auto stmt = db.prepare(
      "SELECT value FROM walsim_meta WHERE key = 'format' UNION ALL "
      "SELECT value FROM walsim_meta WHERE key = 'version'");
  if (!stmt.is_ok()) return not_a_store(db, "it has other tables");
  std::string values[2];
  for (auto& value : values) {
    WALSIM_ASSIGN_OR_RETURN(bool row, (*stmt)->step());
    if (!row) return not_a_store(db, "its format marker is missing");
    value = (*stmt)->text(0);
  }
  if (values[0] != kFormatName) return not_a_store(db, "unknown format '" + values[0] + "'");
  return values[1];
}

// `upgrade`: a writer brings a version 1 to 6 store up to this build's
// format, one durable transaction for all the steps.
Status check_format(SqliteDb& db, bool upgrade) {
  WALSIM_ASSIGN_OR_RETURN(std::string version, read_format_version(db));
  if (version == kFormatVersion) return Status::ok();
  const bool older = version == "1" || version == "2" || version == "3" || version == "4" ||
                     version == "5" || version == "6";
  if (older && upgrade) {
    return in_transaction(
        db,
        [&]() -> Status {
          // Each step from the store's version on, in order.
          const int from = version[0] - '0';
          if (from <= 1) WALSIM_RETURN_IF_ERROR(db.exec(kUpgradeFrom1));
          if (from <= 2) WALSIM_RETURN_IF_ERROR(db.exec(kUpgradeFrom2));
          if (from <= 3) {
            WALSIM_RETURN_IF_ERROR(db.exec(kBucketDefinitions));
            WALSIM_RETURN_IF_ERROR(db.exec(kUpgradeFrom3));
          }
          if (from <= 4) WALSIM_RETURN_IF_ERROR(db.exec(kUpgradeFrom4));
          if (from <= 5) WALSIM_RETURN_IF_ERROR(db.exec(kUpgradeFrom5));
          return db.exec(kUpgradeFrom6);
        },
        Durability::kSurvivesPowerLoss);
  }
  if (older) {
    return not_a_store(db, "format version " + version + ", this build reads " +
                               std::string(kFormatVersion) + " (`walsim replicate` upgrades it)");
  }
  return not_a_store(db, "format version " + version + ", this build reads " + kFormatVersion);
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
  return check_format(db, /*upgrade=*/false);
}

Status prepare_store_schema(SqliteDb& db) {
  Result<int64_t> tables = count_user_tables(db);
  if (!tables.is_ok()) {
    if (tables.status().code() == ErrorCode::kCorrupt) {
      return not_a_store(db, "not a SQLite database");
    }
    return tables.status();
  }
  if (*tables > 0) return check_format(db, /*upgrade=*/true);
  return in_transaction(db, [&]() -> Status {
    WALSIM_RETURN_IF_ERROR(db.exec(kSchema));
    WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                            db.prepare("INSERT INTO walsim_meta (key, value) VALUES (?1, ?2)"));
    WALSIM_RETURN_IF_ERROR(stmt->bind(1, "format").bind(2, kFormatName).run());
    stmt->reset();
    return stmt->bind(1, "version").bind(2, kFormatVersion).run().status();
  });
}

Result<std::optional<std::string>> read_slot_name(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT value FROM walsim_meta WHERE key = ?1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->bind(1, kSlotKey).step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->text(0));
}

Status write_slot_name(StoreTransaction& txn, const std::string& slot) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      txn.db().prepare("INSERT INTO walsim_meta (key, value) VALUES (?1, ?2)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  WALSIM_ASSIGN_OR_RETURN(int64_t stored, stmt->bind(1, kSlotKey).bind(2, slot).run());
  WALSIM_ASSERT(stored == 1, "an upsert stores exactly one row");
  return Status::ok();
}

Result<std::map<std::string, std::string>> read_slot_members(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT value FROM walsim_meta WHERE key = ?1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->bind(1, kSlotMembersKey).step());
  std::map<std::string, std::string> members;
  if (!row) return members;
  nlohmann::json parsed = nlohmann::json::parse(stmt->text(0), nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return Status(ErrorCode::kCorrupt, "store '" + db.path() + "': walsim_meta 'slot_members' is not a JSON object");
  }
  for (const auto& [table, member] : parsed.items()) {
    if (!member.is_string()) {
      return Status(ErrorCode::kCorrupt, "store '" + db.path() + "': slot member of '" + table + "' is not a string");
    }
    members[table] = member.get<std::string>();
  }
  WALSIM_ASSERT(members.size() == parsed.size());
  return members;
}

Status write_slot_members(StoreTransaction& txn,
                          const std::map<std::string, std::string>& members) {
  if (members.empty()) {
    WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                            txn.db().prepare("DELETE FROM walsim_meta WHERE key = ?1"));
    return stmt->bind(1, kSlotMembersKey).run().status();
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [table, member] : members) {
    WALSIM_ASSERT(!member.empty(), "a membership has an identity");
    object[table] = member;
  }
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      txn.db().prepare("INSERT INTO walsim_meta (key, value) VALUES (?1, ?2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  WALSIM_ASSIGN_OR_RETURN(int64_t stored, stmt->bind(1, kSlotMembersKey).bind(2, object.dump()).run());
  WALSIM_ASSERT(stored == 1, "an upsert stores exactly one row");
  return Status::ok();
}

}  // namespace walsim
