#include "engine/source_tables.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "engine/checkpoint_rules.h"
#include "engine/row_codec.h"

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

Result<Relation> parse_relation(const std::string& text) {
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

// The same few relation texts are read back on every chunk and every
// commit that checks a table's state, and parsing JSON was a few percent of
// a simulated run. The text is the whole input, so a hit returns exactly
// what parsing it would. Per thread (live mode reads tables from worker
// threads), and a handful of entries: a store holds a few tables.
Result<Relation> decode_relation(const std::string& text) {
  constexpr size_t kRemembered = 8;
  thread_local std::vector<std::pair<std::string, Relation>> remembered;
  thread_local size_t next_slot = 0;
  for (const auto& [seen, relation] : remembered) {
    if (seen == text) return relation;
  }
  WALSIM_ASSIGN_OR_RETURN(Relation relation, parse_relation(text));
  if (remembered.size() < kRemembered) {
    remembered.emplace_back(text, relation);
  } else {
    remembered[next_slot] = {text, relation};
    next_slot = (next_slot + 1) % kRemembered;
  }
  WALSIM_ASSERT(remembered.size() <= kRemembered);
  return relation;
}

#define WALSIM_SELECT_TABLE                                                   \
  "SELECT name, relation, snapshot_done, resume_key, rows_copied, generation," \
  " publication_member FROM source_tables"

// Reads a row selected by WALSIM_SELECT_TABLE.
Result<TableState> read_table_state(Statement& stmt) {
  TableState state;
  state.table = stmt.text(0);
  WALSIM_ASSIGN_OR_RETURN(state.relation, decode_relation(stmt.text(1)));
  state.snapshot_done = stmt.int64(2) != 0;
  if (auto key = stmt.optional_text(3)) {
    WALSIM_ASSIGN_OR_RETURN(state.resume_key, decode_row(*key));
  }
  state.rows_copied = stmt.int64(4);
  state.generation = stmt.int64(5);
  state.publication_member = stmt.optional_text(6);
  return state;
}

Status not_registered(const std::string& table) {
  return Status(ErrorCode::kNotFound, "table '" + table + "' is not registered");
}

}  // namespace

bool needs_new_copy(const Relation& stored, const Relation& current) {
  return stored.relid != current.relid || stored.identity != current.identity ||
         stored.columns != current.columns;
}

// --- reads ---------------------------------------------------------------------

Result<std::vector<TableState>> read_tables(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare(WALSIM_SELECT_TABLE " ORDER BY name"));
  std::vector<TableState> result;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    WALSIM_ASSIGN_OR_RETURN(TableState state, read_table_state(*stmt));
    result.push_back(std::move(state));
  }
  return result;
}

Result<std::optional<TableState>> read_table(SqliteDb& db, const std::string& name) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare(WALSIM_SELECT_TABLE " WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->bind(1, name).step());
  if (!row) return std::optional<TableState>();
  WALSIM_ASSIGN_OR_RETURN(TableState state, read_table_state(*stmt));
  return std::optional<TableState>(std::move(state));
}

Result<bool> any_tables(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT EXISTS (SELECT 1 FROM source_tables)"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  return row && stmt->int64(0) != 0;
}

// --- writes ----------------------------------------------------------------------

Status insert_table(StoreTransaction& txn, const Relation& relation) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement insert,
      txn.db().prepare("INSERT INTO source_tables (name, relation) VALUES (?1, ?2)"));
  WALSIM_RETURN_IF_ERROR(insert->bind(1, relation.name).bind(2, encode_relation(relation)).run());
  return set_snapshot_not_done(txn);
}

Status update_relation(StoreTransaction& txn, const Relation& relation) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE source_tables SET relation = ?2 WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated,
                          update->bind(1, relation.name).bind(2, encode_relation(relation)).run());
  if (updated != 1) return not_registered(relation.name);
  return Status::ok();
}

Status require_copy(StoreTransaction& txn, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE source_tables SET snapshot_done = 0, resume_key = NULL,"
                       " rows_copied = 0, generation = generation + 1 WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, update->bind(1, table).run());
  if (updated != 1) return not_registered(table);
  // The pair of mark_all_snapshot_done's refusal: a table not done always
  // comes with snapshot_done false (checkpoint_rules.h).
  return set_snapshot_not_done(txn);
}

Status mark_copy_done(StoreTransaction& txn, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE source_tables SET snapshot_done = 1 WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, update->bind(1, table).run());
  if (updated != 1) return not_registered(table);
  return Status::ok();
}

Status set_publication_member(StoreTransaction& txn, const std::string& table,
                              const std::string& member) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE source_tables SET publication_member = ?2 WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, update->bind(1, table).bind(2, member).run());
  if (updated != 1) return not_registered(table);
  return Status::ok();
}

Status delete_table(StoreTransaction& txn, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement remove,
                          txn.db().prepare("DELETE FROM source_tables WHERE name = ?1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t removed, remove->bind(1, table).run());
  if (removed != 1) return not_registered(table);
  return Status::ok();
}

Status record_copy_progress(StoreTransaction& txn, const std::string& table,
                            int64_t rows_copied, const std::optional<Row>& resume_key) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE source_tables SET rows_copied = rows_copied + ?2,"
                       " resume_key = coalesce(?3, resume_key) WHERE name = ?1"));
  std::optional<std::string> key;
  if (resume_key) key = encode_row(*resume_key);
  return update->bind(1, table).bind(2, rows_copied).bind(3, key).run().status();
}

}  // namespace walsim
