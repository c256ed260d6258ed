#include "engine/bucket_storage.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/row_codec.h"
#include "engine/storage_schema.h"
#include "engine/write_batch.h"

namespace walsim {

namespace {

using json = nlohmann::json;

std::string encode_relation(const Relation& relation) {
  json columns = json::array();
  for (const Column& column : relation.columns) {
    columns.push_back({{"name", column.name}, {"type_oid", column.type_oid},
                       {"is_key", column.is_key}});
  }
  return json{{"relid", relation.relid},
              {"schema", relation.schema},
              {"name", relation.name},
              {"identity", static_cast<int>(relation.identity)},
              {"columns", columns}}
      .dump();
}

Result<Relation> decode_relation(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("columns")) {
    return Status(ErrorCode::kCorrupt, "stored relation is malformed: " + text);
  }
  try {
    Relation relation;
    relation.relid = parsed.at("relid").get<uint32_t>();
    relation.schema = parsed.at("schema").get<std::string>();
    relation.name = parsed.at("name").get<std::string>();
    relation.identity = static_cast<ReplicaIdentity>(parsed.at("identity").get<int>());
    for (const json& column : parsed.at("columns")) {
      relation.columns.push_back(Column{column.at("name").get<std::string>(),
                                        column.at("type_oid").get<uint32_t>(),
                                        column.at("is_key").get<bool>()});
    }
    return relation;
  } catch (const json::exception& error) {
    return Status(ErrorCode::kCorrupt, std::string("stored relation: ") + error.what());
  }
}

std::optional<Lsn> optional_lsn(const std::optional<int64_t>& value) {
  if (!value) return std::nullopt;
  return Lsn(static_cast<uint64_t>(*value));
}

// A table must be copied again when the source's rows can no longer be
// matched to the stored ones: a re-created table (new relid), a new replica
// identity, or changed columns (stored rows are positional).
bool needs_new_copy(const Relation& stored, const Relation& current) {
  return stored.relid != current.relid || stored.identity != current.identity ||
         stored.columns != current.columns;
}

}  // namespace

uint32_t op_checksum(OpKind kind, const std::string& bucket, const std::string& table,
                     const std::string& row_id, const std::optional<std::string>& data) {
  // FNV-1a, 32-bit, over the fields with a separator byte between them so
  // ("ab","c") and ("a","bc") differ.
  uint32_t hash = 2166136261u;
  auto mix = [&hash](std::string_view text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 16777619u;
    }
    hash ^= 0xFF;
    hash *= 16777619u;
  };
  mix(kind == OpKind::kPut ? "PUT" : "REMOVE");
  mix(bucket);
  mix(table);
  mix(row_id);
  if (data) mix(*data);
  return hash;
}

std::string row_id_of(const Row& key) { return encode_row(key); }

std::map<std::pair<std::string, std::string>, StoredOp> reduce_ops(
    const std::vector<StoredOp>& ops) {
  std::map<std::pair<std::string, std::string>, StoredOp> latest;
  int64_t previous_op = 0;
  for (const StoredOp& op : ops) {
    assert(op.op_id > previous_op && "reduce_ops needs ops in op id order");
    previous_op = op.op_id;
    latest[{op.table, op.row_id}] = op;
  }
  return latest;
}

BucketStorage::BucketStorage(SqliteDb& db, const BucketRules& rules, Options options)
    : db_(db), rules_(rules), options_(options) {}

Result<std::unique_ptr<BucketStorage>> BucketStorage::open(SqliteDb& db,
                                                           const BucketRules& rules,
                                                           Options options) {
  WALSIM_RETURN_IF_ERROR(prepare_store_schema(db));
  return std::unique_ptr<BucketStorage>(new BucketStorage(db, rules, options));
}

Status BucketStorage::write_transaction(const char* operation,
                                        const std::function<Status()>& body) {
  if (options_.faults) WALSIM_RETURN_IF_ERROR(options_.faults->before_write(operation));
  return in_transaction(db_, body);
}

// --- snapshot bookkeeping ---------------------------------------------------

Result<bool> BucketStorage::register_table(const Relation& relation) {
  bool changed = false;
  Status status = write_transaction("register_table", [&]() -> Status {
    auto stored = table(relation.name);
    if (!stored.is_ok()) return stored.status();
    if (!*stored) {
      auto insert = db_.prepare(
          "INSERT INTO source_tables (name, relation) VALUES (?1, ?2)");
      if (!insert.is_ok()) return insert.status();
      WALSIM_RETURN_IF_ERROR(
          (*insert)->bind(1, relation.name).bind(2, encode_relation(relation)).run());
      changed = true;
      return set_snapshot_not_done();
    }
    if (!needs_new_copy((*stored)->relation, relation)) return Status::ok();
    changed = true;
    WALSIM_RETURN_IF_ERROR(remove_table_rows(relation.name));
    auto update = db_.prepare("UPDATE source_tables SET relation = ?2 WHERE name = ?1");
    if (!update.is_ok()) return update.status();
    WALSIM_RETURN_IF_ERROR(
        (*update)->bind(1, relation.name).bind(2, encode_relation(relation)).run());
    return require_snapshot(relation.name);
  });
  if (!status.is_ok()) return status;
  return changed;
}

Status BucketStorage::remove_table_rows(const std::string& table) {
  // The old rows belong to a table that no longer exists in this form:
  // REMOVE them from their buckets and forget them entirely (tombstones
  // too), so the new copy can write every key afresh.
  WALSIM_RETURN_IF_ERROR(stream_batch()->write_table_removal(table));
  auto erase = db_.prepare("DELETE FROM current_data WHERE source_table = ?1");
  if (!erase.is_ok()) return erase.status();
  return (*erase)->bind(1, table).run();
}

Status BucketStorage::set_snapshot_not_done() {
  return db_.exec("UPDATE replication_state SET snapshot_done = 0 WHERE id = 1");
}

Status BucketStorage::require_snapshot(const std::string& table) {
  auto update = db_.prepare(
      "UPDATE source_tables SET snapshot_done = 0, resume_key = NULL, rows_copied = 0,"
      " generation = generation + 1 WHERE name = ?1");
  if (!update.is_ok()) return update.status();
  WALSIM_RETURN_IF_ERROR((*update)->bind(1, table).run());
  if (sqlite3_changes(db_.handle()) != 1) {
    return Status(ErrorCode::kNotFound, "table '" + table + "' is not registered");
  }
  return set_snapshot_not_done();
}

Result<std::vector<TableState>> BucketStorage::tables() {
  auto stmt = db_.prepare(
      "SELECT name, relation, snapshot_done, resume_key, rows_copied, generation"
      " FROM source_tables ORDER BY name");
  if (!stmt.is_ok()) return stmt.status();
  std::vector<TableState> result;
  while (true) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    auto state = read_table_state(**stmt);
    if (!state.is_ok()) return state.status();
    result.push_back(std::move(*state));
  }
  return result;
}

Result<std::optional<TableState>> BucketStorage::table(const std::string& name) {
  auto stmt = db_.prepare(
      "SELECT name, relation, snapshot_done, resume_key, rows_copied, generation"
      " FROM source_tables WHERE name = ?1");
  if (!stmt.is_ok()) return stmt.status();
  (*stmt)->bind(1, name);
  auto row = (*stmt)->step();
  if (!row.is_ok()) return row.status();
  if (!*row) return std::optional<TableState>();
  auto state = read_table_state(**stmt);
  if (!state.is_ok()) return state.status();
  return std::optional<TableState>(std::move(*state));
}

Result<TableState> BucketStorage::read_table_state(Statement& stmt) {
  TableState state;
  state.table = stmt.text(0);
  auto relation = decode_relation(stmt.text(1));
  if (!relation.is_ok()) return relation.status();
  state.relation = std::move(*relation);
  state.snapshot_done = stmt.int64(2) != 0;
  if (auto key = stmt.optional_text(3)) {
    auto decoded = decode_row(*key);
    if (!decoded.is_ok()) return decoded.status();
    state.resume_key = std::move(*decoded);
  }
  state.rows_copied = stmt.int64(4);
  state.generation = stmt.int64(5);
  return state;
}

Status BucketStorage::mark_table_snapshot_done(const std::string& table, Lsn lsn,
                                               std::optional<int64_t> generation) {
  return write_transaction("mark_table_snapshot_done", [&]() -> Status {
    auto state = this->table(table);
    if (!state.is_ok()) return state.status();
    if (!*state) return Status(ErrorCode::kNotFound, "table '" + table + "' is not registered");
    if (generation && (*state)->generation != *generation) {
      return Status(ErrorCode::kFailedPrecondition,
                    "the copy of table '" + table + "' was superseded by a new one");
    }
    auto update = db_.prepare("UPDATE source_tables SET snapshot_done = 1 WHERE name = ?1");
    if (!update.is_ok()) return update.status();
    WALSIM_RETURN_IF_ERROR((*update)->bind(1, table).run());
    return raise_no_checkpoint_before(lsn);
  });
}

Status BucketStorage::raise_no_checkpoint_before(Lsn lsn) {
  auto state = replication_state();
  if (!state.is_ok()) return state.status();
  Lsn raised = std::max(state->no_checkpoint_before.value_or(Lsn::zero()), lsn);
  auto update = db_.prepare("UPDATE replication_state SET no_checkpoint_before = ?1 WHERE id = 1");
  if (!update.is_ok()) return update.status();
  return (*update)->bind(1, static_cast<int64_t>(raised.value())).run();
}

Status BucketStorage::store_keepalive_op(int64_t keepalive_op) {
  auto update = db_.prepare("UPDATE replication_state SET keepalive_op = ?1 WHERE id = 1");
  if (!update.is_ok()) return update.status();
  return (*update)->bind(1, keepalive_op).run();
}

Status BucketStorage::raise_keepalive_op(int64_t op) {
  auto update = db_.prepare(
      "UPDATE replication_state SET keepalive_op = max(coalesce(keepalive_op, 0), ?1)"
      " WHERE id = 1");
  if (!update.is_ok()) return update.status();
  return (*update)->bind(1, op).run();
}

Status BucketStorage::store_last_applied_lsn(Lsn lsn) {
  auto update = db_.prepare(
      "UPDATE replication_state SET last_applied_lsn = max(coalesce(last_applied_lsn, 0), ?1)"
      " WHERE id = 1");
  if (!update.is_ok()) return update.status();
  return (*update)->bind(1, static_cast<int64_t>(lsn.value())).run();
}

Status BucketStorage::store_checkpoint(int64_t checkpoint, Lsn lsn) {
  auto update = db_.prepare(
      "UPDATE replication_state SET last_checkpoint = ?1, last_checkpoint_lsn = ?2,"
      " keepalive_op = NULL WHERE id = 1");
  if (!update.is_ok()) return update.status();
  WALSIM_RETURN_IF_ERROR(
      (*update)->bind(1, checkpoint).bind(2, static_cast<int64_t>(lsn.value())).run());
  // A tombstone exists to stop a late snapshot write; checkpoints are only
  // created once every snapshot is done, so the published ones can go.
  auto erase = db_.prepare(
      "DELETE FROM current_data WHERE pending_delete IS NOT NULL AND pending_delete <= ?1");
  if (!erase.is_ok()) return erase.status();
  return (*erase)->bind(1, checkpoint).run();
}

Status BucketStorage::mark_table_snapshot_required(const std::string& table) {
  return write_transaction("mark_table_snapshot_required",
                           [&] { return require_snapshot(table); });
}

Status BucketStorage::mark_all_snapshot_done(Lsn lsn) {
  return write_transaction("mark_all_snapshot_done", [&]() -> Status {
    auto all = tables();
    if (!all.is_ok()) return all.status();
    std::string pending;
    for (const TableState& state : *all) {
      if (state.snapshot_done) continue;
      pending += (pending.empty() ? "" : ", ") + state.table;
    }
    if (!pending.empty()) {
      return Status(ErrorCode::kFailedPrecondition,
                    "cannot mark all snapshots done: tables still need a snapshot: " + pending);
    }
    WALSIM_RETURN_IF_ERROR(db_.exec("UPDATE replication_state SET snapshot_done = 1 WHERE id = 1"));
    return raise_no_checkpoint_before(lsn);
  });
}

// --- read side ----------------------------------------------------------------

Result<ReplicationState> BucketStorage::replication_state() {
  auto stmt = db_.prepare(
      "SELECT snapshot_done, last_checkpoint, last_checkpoint_lsn, no_checkpoint_before,"
      " keepalive_op, last_applied_lsn FROM replication_state WHERE id = 1");
  if (!stmt.is_ok()) return stmt.status();
  auto row = (*stmt)->step();
  if (!row.is_ok()) return row.status();
  if (!*row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
  ReplicationState state;
  state.snapshot_done = (*stmt)->int64(0) != 0;
  state.last_checkpoint = (*stmt)->optional_int64(1);
  state.last_checkpoint_lsn = optional_lsn((*stmt)->optional_int64(2));
  state.no_checkpoint_before = optional_lsn((*stmt)->optional_int64(3));
  state.keepalive_op = (*stmt)->optional_int64(4);
  state.last_applied_lsn = optional_lsn((*stmt)->optional_int64(5));
  return state;
}

Result<std::optional<Checkpoint>> BucketStorage::checkpoint() {
  auto state = replication_state();
  if (!state.is_ok()) return state.status();
  if (!state->last_checkpoint_lsn) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(
      Checkpoint{state->last_checkpoint.value_or(0), *state->last_checkpoint_lsn});
}

Result<std::vector<StoredOp>> BucketStorage::bucket_ops(const std::string& bucket,
                                                        int64_t after_op, int64_t up_to_op) {
  auto stmt = db_.prepare(
      "SELECT op_id, op, source_table, row_id, checksum, data FROM bucket_data"
      " WHERE bucket = ?1 AND op_id > ?2 AND op_id <= ?3 ORDER BY op_id");
  if (!stmt.is_ok()) return stmt.status();
  (*stmt)->bind(1, bucket).bind(2, after_op).bind(3, up_to_op);
  std::vector<StoredOp> ops;
  while (true) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    Statement& s = **stmt;
    ops.push_back(StoredOp{s.int64(0), bucket,
                           s.text(1) == "PUT" ? OpKind::kPut : OpKind::kRemove,
                           s.text(2), s.text(3), static_cast<uint32_t>(s.int64(4)),
                           s.optional_text(5)});
  }
  return ops;
}

Result<std::vector<std::string>> BucketStorage::buckets(int64_t up_to_op) {
  auto stmt = db_.prepare(
      "SELECT DISTINCT bucket FROM bucket_data WHERE op_id <= ?1 ORDER BY bucket");
  if (!stmt.is_ok()) return stmt.status();
  (*stmt)->bind(1, up_to_op);
  std::vector<std::string> result;
  while (true) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    result.push_back((*stmt)->text(0));
  }
  return result;
}

Result<uint32_t> BucketStorage::bucket_checksum(const std::string& bucket, int64_t up_to_op) {
  // Summed in C++ so the wrap-around is exactly 32-bit.
  auto stmt = db_.prepare(
      "SELECT checksum FROM bucket_data WHERE bucket = ?1 AND op_id <= ?2");
  if (!stmt.is_ok()) return stmt.status();
  (*stmt)->bind(1, bucket).bind(2, up_to_op);
  uint32_t sum = 0;
  while (true) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    sum += static_cast<uint32_t>((*stmt)->int64(0));
  }
  return sum;
}

Result<int64_t> BucketStorage::live_row_count(const std::string& table) {
  auto stmt = db_.prepare(
      "SELECT count(*) FROM current_data WHERE source_table = ?1 AND pending_delete IS NULL");
  if (!stmt.is_ok()) return stmt.status();
  auto row = (*stmt)->bind(1, table).step();
  if (!row.is_ok()) return row.status();
  return (*stmt)->int64(0);
}

Result<bool> BucketStorage::has_incomplete_rows() {
  auto stmt = db_.prepare(
      "SELECT EXISTS (SELECT 1 FROM current_data"
      " WHERE incomplete = 1 AND pending_delete IS NULL)");
  if (!stmt.is_ok()) return stmt.status();
  auto row = (*stmt)->step();
  if (!row.is_ok()) return row.status();
  return (*stmt)->int64(0) != 0;
}

Result<std::pair<std::string, std::vector<Row>>> BucketStorage::incomplete_rows(size_t limit) {
  auto stmt = db_.prepare(
      "SELECT source_table, row_id FROM current_data"
      " WHERE incomplete = 1 AND pending_delete IS NULL ORDER BY source_table LIMIT ?1");
  if (!stmt.is_ok()) return stmt.status();
  (*stmt)->bind(1, static_cast<int64_t>(limit));
  std::pair<std::string, std::vector<Row>> result;
  while (true) {
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    std::string table = (*stmt)->text(0);
    if (!result.second.empty() && table != result.first) break;
    auto key = decode_row((*stmt)->text(1));
    if (!key.is_ok()) return key.status();
    result.first = table;
    result.second.push_back(std::move(*key));
  }
  return result;
}

// --- writing ------------------------------------------------------------------

std::unique_ptr<WriteBatch> BucketStorage::stream_batch() {
  return std::unique_ptr<WriteBatch>(new WriteBatch(*this, WriteBatch::Kind::kStream, "", 0));
}

Result<std::unique_ptr<WriteBatch>> BucketStorage::snapshot_batch(const std::string& table) {
  auto state = this->table(table);
  if (!state.is_ok()) return state.status();
  if (!*state) return Status(ErrorCode::kNotFound, "table '" + table + "' is not registered");
  return std::unique_ptr<WriteBatch>(
      new WriteBatch(*this, WriteBatch::Kind::kSnapshot, table, (*state)->generation));
}

}  // namespace walsim
