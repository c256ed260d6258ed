#include "live/pg_table_reader.h"

#include <utility>

#include "live/copy_text.h"

namespace walsim::live {

namespace {

Result<std::vector<std::string>> key_params(const Relation& table,
                                            const std::optional<Row>& key) {
  std::vector<std::string> params;
  if (!key) return params;
  if (key->size() != table.key_indexes().size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a key for " + table.name + " has " + std::to_string(key->size()) +
                      " values; the key has " + std::to_string(table.key_indexes().size()));
  }
  for (const Value& value : *key) {
    if (!value.is_text()) {
      return Status(ErrorCode::kInvalidArgument,
                    "a key for " + table.name + " holds a null or TOAST marker");
    }
    params.push_back(value.text);
  }
  WALSIM_ASSERT(params.size() == table.key_indexes().size());
  return params;
}

// The SELECT lists the table's columns, so every row must be that wide:
// the engine indexes rows by the relation's column positions.
bool rows_fit(const Relation& table, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    if (row.size() != table.columns.size()) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<PgTableReader>> PgTableReader::start(
    std::unique_ptr<PgConnection> connection, const ReaderOptions& options) {
  WALSIM_ASSERT(connection != nullptr);
  WALSIM_ASSERT(options.statement_timeout_ms >= 0, "a timeout is a duration");
  std::unique_ptr<PgTableReader> reader(new PgTableReader(std::move(connection), options.method));
  // Named, so that pg_stat_activity tells the readers from the stream and
  // the monitor (kReaderApplicationName).
  std::string setup = std::string("SET application_name = '") + kReaderApplicationName + "'";
  if (options.statement_timeout_ms > 0) {
    setup += "; SET statement_timeout = " + std::to_string(options.statement_timeout_ms);
  }
  WALSIM_RETURN_IF_ERROR(reader->lost_or(reader->connection_->exec(setup)));
  return reader;
}

PgTableReader::PgTableReader(std::unique_ptr<PgConnection> connection, ReadMethod method)
    : connection_(std::move(connection)), method_(method) {}

Status PgTableReader::lost_or(Status status) const {
  if (status.is_ok() || connection_->is_connected()) return status;
  return Status(ErrorCode::kDisconnected, status.message());
}

Status PgTableReader::failed_read(const Relation& table, Status status) {
  status = lost_or(std::move(status));
  WALSIM_ASSERT(!status.is_ok(), "only a failed read is explained");
  if (status.code() != ErrorCode::kNotFound) return status;
  Result<std::vector<Row>> found = connection_->query(
      "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2",
      {table.schema, table.name});
  // Still there (a column went, say), or no way to tell: the server's word.
  if (!found.is_ok() || !found->empty()) return status;
  return Status(ErrorCode::kNotFound, "table " + table.schema + "." + table.name +
                                          " does not exist any more: it was dropped during "
                                          "its copy");
}

// SELECT cols FROM schema.table [WHERE (keys) > (..) AND ...] ORDER BY keys
// LIMIT n. Columns come back in the text format, i.e. through each type's
// output function (COPY's text format too): the same text pgoutput sends
// for them. (A `::text` cast would differ for char(n), whose cast strips
// padding.)
Result<std::string> PgTableReader::select_sql(const Relation& table,
                                              const std::vector<KeyCondition>& conditions,
                                              std::optional<size_t> limit) {
  std::string columns, keys;
  for (const Column& column : table.columns) {
    WALSIM_ASSIGN_OR_RETURN(std::string quoted, connection_->quote_identifier(column.name));
    columns += (columns.empty() ? "" : ", ") + quoted;
    if (column.is_key) keys += (keys.empty() ? "" : ", ") + quoted;
  }
  WALSIM_ASSIGN_OR_RETURN(std::string schema, connection_->quote_identifier(table.schema));
  WALSIM_ASSIGN_OR_RETURN(std::string name, connection_->quote_identifier(table.name));
  std::string sql = "SELECT " + columns + " FROM " + schema + "." + name;
  for (size_t i = 0; i < conditions.size(); i++) {
    const KeyCondition& condition = conditions[i];
    WALSIM_ASSERT(condition.values.size() == table.key_indexes().size(),
                  "one value per key column");
    std::string values;
    for (const std::string& value : condition.values) {
      values += (values.empty() ? "" : ", ") + value;
    }
    sql += (i == 0 ? " WHERE (" : " AND (") + keys + ") " + condition.comparison + " (" + values +
           ")";
  }
  sql += " ORDER BY " + keys;
  return limit ? sql + " LIMIT " + std::to_string(*limit) : sql;
}

Result<std::vector<std::string>> PgTableReader::key_sql(const std::vector<std::string>& values,
                                                        bool literals, size_t first_placeholder) {
  std::vector<std::string> sql;
  for (size_t i = 0; i < values.size(); i++) {
    if (!literals) {
      sql.push_back("$" + std::to_string(first_placeholder + i));
      continue;
    }
    WALSIM_ASSIGN_OR_RETURN(std::string literal, connection_->quote_literal(values[i]));
    sql.push_back(std::move(literal));
  }
  return sql;
}

Result<std::vector<Row>> PgTableReader::copy_rows(const Relation& table,
                                                  const std::string& select) {
  std::vector<Row> rows;
  const size_t columns = table.columns.size();
  Status status = connection_->copy_out("COPY (" + select + ") TO STDOUT",
                                        [&](std::string_view line) -> Status {
                                          WALSIM_ASSIGN_OR_RETURN(
                                              Row row, parse_copy_text_line(line, columns));
                                          rows.push_back(std::move(row));
                                          return Status::ok();
                                        });
  if (!status.is_ok()) return failed_read(table, std::move(status));
  return rows;
}

// The largest key now. Its values come back as text, the same text a
// chunk's rows hold, so the bound compares as the rows' keys do.
Result<std::optional<Row>> PgTableReader::read_bound_key(const Relation& table) {
  std::string keys, descending;
  for (size_t index : table.key_indexes()) {
    WALSIM_ASSIGN_OR_RETURN(std::string quoted,
                            connection_->quote_identifier(table.columns[index].name));
    keys += (keys.empty() ? "" : ", ") + quoted;
    descending += (descending.empty() ? "" : ", ") + quoted + " DESC";
  }
  WALSIM_ASSIGN_OR_RETURN(std::string schema, connection_->quote_identifier(table.schema));
  WALSIM_ASSIGN_OR_RETURN(std::string name, connection_->quote_identifier(table.name));
  Result<std::vector<Row>> rows = connection_->query(
      "SELECT " + keys + " FROM " + schema + "." + name + " ORDER BY " + descending + " LIMIT 1");
  if (!rows.is_ok()) return failed_read(table, rows.status());
  if (rows->empty()) return std::optional<Row>();  // empty: read to the end
  Row& last = rows->front();
  WALSIM_ASSERT(last.size() == table.key_indexes().size(), "the bound is a key");
  // A NULL key value (REPLICA IDENTITY FULL) sorts first in DESC order and
  // compares with nothing: no bound rather than a wrong one.
  for (const Value& value : last) {
    if (!value.is_text()) return std::optional<Row>();
  }
  return std::optional(std::move(last));
}

Result<TableChunk> PgTableReader::read_chunk(const Relation& table,
                                             const std::optional<Row>& after_key,
                                             const std::optional<Row>& until_key,
                                             size_t limit) {
  if (limit == 0) return Status(ErrorCode::kInvalidArgument, "read_chunk needs a limit > 0");
  if (table.key_indexes().empty()) {
    return Status(ErrorCode::kUnsupported, "table " + table.schema + "." + table.name +
                                               " has no replica identity columns to page by");
  }
  WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> after, key_params(table, after_key));
  WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> until, key_params(table, until_key));
  const bool copy = method_ == ReadMethod::kCopy;
  std::vector<KeyCondition> conditions;
  std::vector<std::string> params;  // for SELECT: $1.. in the order they appear
  if (after_key) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> values, key_sql(after, copy, 1));
    conditions.push_back({">", std::move(values)});
    params.insert(params.end(), after.begin(), after.end());
  }
  if (until_key) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> values,
                            key_sql(until, copy, params.size() + 1));
    conditions.push_back({"<=", std::move(values)});
    params.insert(params.end(), until.begin(), until.end());
  }
  WALSIM_ASSIGN_OR_RETURN(std::string sql, select_sql(table, conditions, limit));
  std::vector<Row> rows;
  if (copy) {
    WALSIM_ASSIGN_OR_RETURN(rows, copy_rows(table, sql));
  } else {
    Result<std::vector<Row>> selected = connection_->query(sql, params);
    if (!selected.is_ok()) return failed_read(table, selected.status());
    rows = std::move(selected).value();
  }
  // Read after the rows: every commit they show lies before this position.
  WALSIM_ASSIGN_OR_RETURN(Lsn lsn, current_lsn());
  WALSIM_ASSERT(rows.size() <= limit, "LIMIT bounds the chunk");
  WALSIM_ASSERT(rows_fit(table, rows));
  TableChunk chunk;
  chunk.is_last = rows.size() < limit;
  chunk.rows = std::move(rows);
  chunk.consistent_lsn = lsn;
  if (!until_key) {
    WALSIM_ASSIGN_OR_RETURN(chunk.bound_key, read_bound_key(table));
  }
  return chunk;
}

// One query per key: this fills the rare rows whose unchanged-TOAST value
// the engine could not learn from the stream, so simplicity wins.
Result<TableChunk> PgTableReader::read_rows(const Relation& table, const std::vector<Row>& keys) {
  std::vector<std::string> placeholders;
  for (size_t i = 1; i <= table.key_indexes().size(); i++) {
    placeholders.push_back("$" + std::to_string(i));
  }
  WALSIM_ASSIGN_OR_RETURN(std::string sql, select_sql(table, {{"=", placeholders}}, std::nullopt));
  TableChunk chunk;
  for (const Row& key : keys) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> params, key_params(table, key));
    Result<std::vector<Row>> rows = connection_->query(sql, params);
    if (!rows.is_ok()) return failed_read(table, rows.status());
    for (Row& row : *rows) chunk.rows.push_back(std::move(row));
  }
  WALSIM_ASSIGN_OR_RETURN(chunk.consistent_lsn, current_lsn());
  WALSIM_ASSERT(rows_fit(table, chunk.rows));
  chunk.is_last = true;
  return chunk;
}

Result<Lsn> PgTableReader::current_lsn() {
  Result<std::vector<Row>> rows = connection_->query("SELECT pg_current_wal_lsn()");
  if (!rows.is_ok()) return lost_or(rows.status());
  std::optional<Lsn> lsn;
  if (rows->size() == 1 && (*rows)[0].size() == 1) lsn = Lsn::parse((*rows)[0][0].text);
  if (!lsn) return Status(ErrorCode::kCorrupt, "pg_current_wal_lsn() returned no LSN");
  return *lsn;
}

}  // namespace walsim::live
