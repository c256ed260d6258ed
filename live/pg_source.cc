#include "live/pg_source.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <set>
#include <utility>

#include "live/pgoutput_decoder.h"

namespace walsim::live {

namespace {

struct ClearResult {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ClearResult>;

struct FreeMem {
  void operator()(void* memory) const { PQfreemem(memory); }
};

// libpq's messages end in a newline and may span lines ("...failed:
// Connection refused\n\tIs the server running..."): walsim reports every
// error as one line, so breaks and the indentation after them become a space.
std::string one_line(std::string text) {
  std::string out;
  bool at_break = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      at_break = true;
    } else if (at_break && (c == ' ' || c == '\t')) {
      continue;
    } else {
      if (at_break && !out.empty()) out += ' ';
      at_break = false;
      out += c;
    }
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// ---- connection strings and their secrets ----------------------------------

bool looks_like_conninfo(const std::string& conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://") ||
         conninfo.find('=') != std::string::npos;
}

// libpq's parse errors quote the fragment they choke on, and that fragment
// may be (part of) the password: drop everything between double quotes.
std::string redact_quoted(const std::string& message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      if (!quoted) out += "\"<redacted>\"";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

// The password in `conninfo` (empty when none), so that errors can be
// scrubbed of it. Rejects strings libpq cannot parse, before libpq echoes
// pieces of them in a connection error.
Result<std::string> password_of(const std::string& conninfo) {
  if (!looks_like_conninfo(conninfo)) return std::string();  // a bare dbname
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string detail = error ? redact_quoted(one_line(error)) : "out of memory";
    PQfreemem(error);
    return Status(ErrorCode::kInvalidArgument, "invalid connection string: " + detail);
  }
  std::string password;
  for (PQconninfoOption* option = options; option->keyword != nullptr; option++) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val) password = option->val;
  }
  PQconninfoFree(options);
  return password;
}

std::string scrub(std::string message, const std::string& password) {
  if (!password.empty()) replace_all(message, password, "********");
  return message;
}

// What we connected to, never the password: libpq's own accessors report
// the effective values, defaults included.
std::string describe_target(PGconn* conn) {
  auto field = [](const char* value) {
    return value && *value ? std::string(value) : std::string("(default)");
  };
  return "host=" + field(PQhost(conn)) + " port=" + field(PQport(conn)) +
         " dbname=" + field(PQdb(conn)) + " user=" + field(PQuser(conn));
}

Status connect_error(PGconn* conn, const std::string& message) {
  std::string target = describe_target(conn);
  // PG15 says "must be superuser or replication role to start walsender";
  // PG16 "permission denied to start WAL sender".
  if (message.find("replication role") != std::string::npos ||
      message.find("start WAL sender") != std::string::npos) {
    std::string user = PQuser(conn) ? PQuser(conn) : "?";
    return Status(ErrorCode::kFailedPrecondition,
                  "role \"" + user + "\" lacks the REPLICATION privilege needed for logical "
                  "replication (ALTER ROLE " + user + " WITH REPLICATION) at " + target +
                  ": " + message);
  }
  return Status(ErrorCode::kIoError, "cannot connect to Postgres at " + target + ": " + message);
}

// ---- results ---------------------------------------------------------------

ErrorCode code_for_sqlstate(const char* sqlstate, bool connection_lost) {
  if (connection_lost || sqlstate == nullptr) return ErrorCode::kIoError;
  std::string_view state(sqlstate);
  if (state == "42P01" || state == "42703" || state == "42704") return ErrorCode::kNotFound;
  if (state == "42501") return ErrorCode::kFailedPrecondition;
  if (state.starts_with("22") || state.starts_with("42")) return ErrorCode::kInvalidArgument;
  return ErrorCode::kIoError;  // busy, locked, in use, server trouble: retryable
}

std::vector<Row> rows_of(PGresult* result) {
  int nrows = PQntuples(result);
  int nfields = PQnfields(result);
  std::vector<Row> rows(static_cast<size_t>(nrows));
  for (int r = 0; r < nrows; r++) {
    rows[r].reserve(static_cast<size_t>(nfields));
    for (int f = 0; f < nfields; f++) {
      if (PQgetisnull(result, r, f)) {
        rows[r].push_back(Value::null());
      } else {
        rows[r].push_back(Value::of(std::string(PQgetvalue(result, r, f),
                                                static_cast<size_t>(PQgetlength(result, r, f)))));
      }
    }
  }
  return rows;
}

Result<uint32_t> parse_oid(const Value& value) {
  uint32_t oid = 0;
  const std::string& text = value.text;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), oid);
  if (!value.is_text() || error != std::errc() || end != text.data() + text.size()) {
    return Status(ErrorCode::kCorrupt, "expected an oid from the server, got \"" + text + "\"");
  }
  return oid;
}

// ---- names -----------------------------------------------------------------

struct TableName {
  std::string schema;
  std::string table;
  std::string qualified() const { return schema + "." + table; }
};

TableName split_table_name(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return {"public", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

bool valid_slot_name(const std::string& name) {
  return !name.empty() && name.size() <= 63 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// A string literal for the replication command grammar, which knows only
// standard '' escaping.
std::string quote_literal(const std::string& text) {
  std::string quoted = text;
  replace_all(quoted, "'", "''");
  return "'" + quoted + "'";
}

ReplicaIdentity identity_from_code(const std::string& code) {
  if (code == "f") return ReplicaIdentity::kFull;
  if (code == "i") return ReplicaIdentity::kIndex;
  if (code == "n") return ReplicaIdentity::kNothing;
  return ReplicaIdentity::kDefault;
}

// The key columns follow the replica identity, as pgoutput flags them:
// d -> primary key, i -> the identity index, f -> every column, n -> none.
// Generated columns are left out because pgoutput leaves them out.
constexpr const char* kColumnsSql = R"sql(
SELECT a.attname, a.atttypid,
       CASE c.relreplident
         WHEN 'f' THEN true
         WHEN 'n' THEN false
         ELSE EXISTS (SELECT 1 FROM pg_index i
                      WHERE i.indrelid = c.oid
                        AND CASE c.relreplident WHEN 'd' THEN i.indisprimary
                                                ELSE i.indisreplident END
                        AND a.attnum = ANY (i.indkey))
       END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum)sql";

constexpr const char* kTableSql = R"sql(
SELECT c.oid, c.relreplident
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p'))sql";

// ---- table reads -----------------------------------------------------------

class PgTableReader : public TableReader {
 public:
  explicit PgTableReader(std::unique_ptr<PgConnection> connection)
      : connection_(std::move(connection)) {}

  Result<TableChunk> read_chunk(const Relation& table, const std::optional<Row>& after_key,
                                size_t limit) override;
  Result<TableChunk> read_rows(const Relation& table, const std::vector<Row>& keys) override;
  Result<Lsn> current_lsn() override;

 private:
  // `key_comparison`: ">" for a chunk after a key, "=" for one key's row,
  // nullptr for the first chunk.
  Result<std::string> select_sql(const Relation& table, const char* key_comparison,
                                 std::optional<size_t> limit);

  std::unique_ptr<PgConnection> connection_;
};

Result<std::vector<std::string>> key_params(const Relation& table,
                                            const std::optional<Row>& after_key) {
  std::vector<std::string> params;
  if (!after_key) return params;
  if (after_key->size() != table.key_indexes().size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "after_key for " + table.name + " has " + std::to_string(after_key->size()) +
                      " values; the key has " + std::to_string(table.key_indexes().size()));
  }
  for (const Value& value : *after_key) {
    if (!value.is_text()) {
      return Status(ErrorCode::kInvalidArgument,
                    "after_key for " + table.name + " holds a null or TOAST marker");
    }
    params.push_back(value.text);
  }
  return params;
}

// SELECT cols FROM schema.table [WHERE (keys) > ($1..)] ORDER BY keys LIMIT n.
// Columns come back in the text result format, i.e. through each type's
// output function: the same text pgoutput sends for them. (A `::text` cast
// would differ for char(n), whose cast strips padding, and inet.)
Result<std::string> PgTableReader::select_sql(const Relation& table, const char* key_comparison,
                                              std::optional<size_t> limit) {
  std::string columns, keys, placeholders;
  size_t nkeys = 0;
  for (const Column& column : table.columns) {
    Result<std::string> quoted = connection_->quote_identifier(column.name);
    if (!quoted.is_ok()) return quoted.status();
    columns += (columns.empty() ? "" : ", ") + *quoted;
    if (!column.is_key) continue;
    keys += (keys.empty() ? "" : ", ") + *quoted;
    placeholders += (placeholders.empty() ? "$" : ", $") + std::to_string(++nkeys);
  }
  Result<std::string> schema = connection_->quote_identifier(table.schema);
  if (!schema.is_ok()) return schema.status();
  Result<std::string> name = connection_->quote_identifier(table.name);
  if (!name.is_ok()) return name.status();
  std::string sql = "SELECT " + columns + " FROM " + *schema + "." + *name;
  if (key_comparison) {
    sql += " WHERE (" + keys + ") " + key_comparison + " (" + placeholders + ")";
  }
  sql += " ORDER BY " + keys;
  return limit ? sql + " LIMIT " + std::to_string(*limit) : sql;
}

Result<TableChunk> PgTableReader::read_chunk(const Relation& table,
                                             const std::optional<Row>& after_key,
                                             size_t limit) {
  if (limit == 0) return Status(ErrorCode::kInvalidArgument, "read_chunk needs a limit > 0");
  if (table.key_indexes().empty()) {
    return Status(ErrorCode::kUnsupported, "table " + table.schema + "." + table.name +
                                               " has no replica identity columns to page by");
  }
  Result<std::vector<std::string>> params = key_params(table, after_key);
  if (!params.is_ok()) return params.status();
  Result<std::string> sql = select_sql(table, after_key ? ">" : nullptr, limit);
  if (!sql.is_ok()) return sql.status();
  Result<std::vector<Row>> rows = connection_->query(*sql, *params);
  if (!rows.is_ok()) return rows.status();
  // Read after the rows: every commit they show lies before this position.
  Result<Lsn> lsn = current_lsn();
  if (!lsn.is_ok()) return lsn.status();
  TableChunk chunk;
  chunk.is_last = rows->size() < limit;
  chunk.rows = std::move(rows).value();
  chunk.consistent_lsn = *lsn;
  return chunk;
}

// One query per key: this fills the rare rows whose unchanged-TOAST value
// the engine could not learn from the stream, so simplicity wins.
Result<TableChunk> PgTableReader::read_rows(const Relation& table, const std::vector<Row>& keys) {
  Result<std::string> sql = select_sql(table, "=", std::nullopt);
  if (!sql.is_ok()) return sql.status();
  TableChunk chunk;
  for (const Row& key : keys) {
    Result<std::vector<std::string>> params = key_params(table, key);
    if (!params.is_ok()) return params.status();
    Result<std::vector<Row>> rows = connection_->query(*sql, *params);
    if (!rows.is_ok()) return rows.status();
    for (Row& row : *rows) chunk.rows.push_back(std::move(row));
  }
  Result<Lsn> lsn = current_lsn();
  if (!lsn.is_ok()) return lsn.status();
  chunk.is_last = true;
  chunk.consistent_lsn = *lsn;
  return chunk;
}

Result<Lsn> PgTableReader::current_lsn() {
  Result<std::vector<Row>> rows = connection_->query("SELECT pg_current_wal_lsn()");
  if (!rows.is_ok()) return rows.status();
  std::optional<Lsn> lsn;
  if (rows->size() == 1 && (*rows)[0].size() == 1) lsn = Lsn::parse((*rows)[0][0].text);
  if (!lsn) return Status(ErrorCode::kCorrupt, "pg_current_wal_lsn() returned no LSN");
  return *lsn;
}

}  // namespace

// ---- PgConnection ----------------------------------------------------------

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& conninfo,
                                                         Mode mode) {
  Result<std::string> password = password_of(conninfo);
  if (!password.is_ok()) return password.status();
  // expand_dbname: `dbname` carries the whole conninfo; keywords before it
  // are defaults it may override, keywords after it override it. Without a
  // connect_timeout an unreachable host would hang the runtime's thread.
  std::vector<const char*> keys = {"connect_timeout", "dbname", "fallback_application_name"};
  std::vector<const char*> values = {"10", conninfo.c_str(), "walsim"};
  if (mode == Mode::kReplication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status(ErrorCode::kIoError, "libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    Status error = connect_error(conn, scrub(one_line(PQerrorMessage(conn)), *password));
    PQfinish(conn);
    return error;
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, describe_target(conn)));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::is_connected() const { return PQstatus(conn_) == CONNECTION_OK; }

Result<std::vector<Row>> PgConnection::query(const std::string& sql,
                                             const std::vector<std::string>& params) {
  PgResult result;
  if (params.empty()) {
    result.reset(PQexec(conn_, sql.c_str()));
  } else {
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    result.reset(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                              /*paramTypes=*/nullptr, values.data(), /*paramLengths=*/nullptr,
                              /*paramFormats=*/nullptr, /*resultFormat=text*/ 0));
  }
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK) return rows_of(result.get());
  if (status == PGRES_COMMAND_OK) return std::vector<Row>();
  const char* message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_);
  const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  return Status(code_for_sqlstate(sqlstate, !is_connected()),
                "query on " + target_ + " failed: " + one_line(message ? message : "no result"));
}

Status PgConnection::exec(const std::string& sql) { return query(sql).status(); }

Result<std::string> PgConnection::quote_identifier(const std::string& name) {
  std::unique_ptr<char, FreeMem> quoted(PQescapeIdentifier(conn_, name.data(), name.size()));
  if (!quoted) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot quote identifier: " + one_line(PQerrorMessage(conn_)));
  }
  return std::string(quoted.get());
}

// ---- PgChangeStream --------------------------------------------------------

PgChangeStream::PgChangeStream(std::unique_ptr<PgConnection> connection, Clock* clock)
    : connection_(std::move(connection)), clock_(clock), last_status_ms_(clock->now_ms()) {}

int PgChangeStream::socket() const { return PQsocket(connection_->raw()); }

Result<std::optional<ChangeMessage>> PgChangeStream::next() {
  if (broken_) return *broken_;
  WALSIM_RETURN_IF_ERROR(send_due_status());
  PGconn* conn = connection_->raw();
  // Frames already buffered are handled first: reading the socket only when
  // none is left saves a recv() per message while a backlog streams in.
  // When only non-engine frames (in-transaction keepalives, M/O/Y) were
  // there, report "nothing now".
  bool socket_read = false;
  for (;;) {
    char* buffer = nullptr;
    int length = PQgetCopyData(conn, &buffer, /*async=*/1);
    if (length == 0 && !socket_read) {
      if (!PQconsumeInput(conn)) return disconnected("lost while reading");
      socket_read = true;
      continue;
    }
    if (length == 0) return std::optional<ChangeMessage>();
    if (length == -1) {
      PgResult end(PQgetResult(conn));
      return disconnected("ended by the server", end ? PQresultErrorMessage(end.get()) : "");
    }
    if (length < 0) return disconnected("lost while reading");
    std::unique_ptr<char, FreeMem> frame(buffer);
    Result<std::optional<ChangeMessage>> message =
        on_frame(std::string_view(buffer, static_cast<size_t>(length)));
    if (!message.is_ok()) broken_ = message.status();  // no resyncing past bad data
    if (!message.is_ok() || message->has_value()) return message;
  }
}

Result<std::optional<ChangeMessage>> PgChangeStream::on_frame(std::string_view frame) {
  Result<pgoutput::ServerFrame> decoded = pgoutput::decode_server_frame(frame);
  if (!decoded.is_ok()) return decoded.status();
  if (const auto* data = std::get_if<pgoutput::XLogData>(&*decoded)) {
    received_ = std::max(received_, data->wal_end);
    return on_payload(data->payload);
  }
  const auto& keepalive = std::get<pgoutput::PrimaryKeepalive>(*decoded);
  received_ = std::max(received_, keepalive.wal_end);
  if (keepalive.reply_requested) WALSIM_RETURN_IF_ERROR(send_status(/*reply_now=*/false));
  // Inside a transaction the server's WAL end says nothing about the
  // transaction's own commit, so only idle keepalives reach the engine.
  if (in_transaction_) return std::optional<ChangeMessage>();
  return std::optional<ChangeMessage>(KeepaliveMessage{keepalive.wal_end});
}

Result<std::optional<ChangeMessage>> PgChangeStream::on_payload(std::string_view payload) {
  Result<pgoutput::PgOutputMessage> decoded = pgoutput::decode_pgoutput(payload);
  if (!decoded.is_ok()) return decoded.status();
  auto* change = std::get_if<ChangeMessage>(&*decoded);
  if (change == nullptr) return std::optional<ChangeMessage>();  // M, O, Y
  if (std::holds_alternative<BeginMessage>(*change)) in_transaction_ = true;
  if (std::holds_alternative<CommitMessage>(*change)) in_transaction_ = false;
  return std::optional<ChangeMessage>(std::move(*change));
}

Status PgChangeStream::acknowledge(Lsn flush_lsn) {
  if (broken_) return *broken_;
  if (flush_lsn <= acknowledged_) return Status::ok();
  acknowledged_ = flush_lsn;
  return send_status(/*reply_now=*/false);
}

Status PgChangeStream::send_status(bool reply_now) {
  int64_t now = clock_->now_ms();
  pgoutput::StandbyStatus status;
  status.write = std::max(received_, acknowledged_);
  // Before the first acknowledgement this is 0/0, which the server ignores.
  status.flush = acknowledged_;
  status.apply = acknowledged_;
  status.client_time = pgoutput::pg_time_from_unix_ms(now);
  status.reply_now = reply_now;
  std::string frame = pgoutput::encode_standby_status(status);
  PGconn* conn = connection_->raw();
  int put = PQputCopyData(conn, frame.data(), static_cast<int>(frame.size()));
  if (put < 0) return disconnected("lost while sending a status update");
  // 0: libpq's buffer is full (non-blocking mode); send it on the next call.
  status_pending_ = put == 0;
  if (put == 1) last_status_ms_ = now;
  if (PQflush(conn) < 0) return disconnected("lost while sending a status update");
  return Status::ok();
}

Status PgChangeStream::send_due_status() {
  if (PQflush(connection_->raw()) < 0) return disconnected("lost while sending a status update");
  bool due = status_pending_ || clock_->now_ms() - last_status_ms_ >= kStatusIntervalMs;
  return due ? send_status(/*reply_now=*/false) : Status::ok();
}

Status PgChangeStream::disconnected(const std::string& what, std::string detail) {
  detail = one_line(detail.empty() ? PQerrorMessage(connection_->raw()) : detail);
  broken_ = Status(ErrorCode::kDisconnected, "replication stream from " + connection_->target() +
                                                 " " + what + (detail.empty() ? "" : ": " + detail));
  return *broken_;
}

// ---- PgSourceConnector -----------------------------------------------------

// Only "in use" is worth waiting for: "replication slot ... is active for
// PID n" while a previous stream's server process is still exiting. A slot
// that is gone (42704) or invalidated (55000: "can no longer get changes")
// will not come back by retrying; the caller must start a new replication.
Status start_replication_error(const char* sqlstate, const std::string& message) {
  std::string_view state(sqlstate ? sqlstate : "");
  if (state == "42704") return Status(ErrorCode::kNotFound, message);
  if (state == "55000") return Status(ErrorCode::kFailedPrecondition, message);
  return Status(ErrorCode::kIoError, message);
}

PgSourceConnector::PgSourceConnector(std::string conninfo, std::string slot,
                                     std::string publication, Clock* clock,
                                     SlotPolicy slot_policy)
    : conninfo_(std::move(conninfo)),
      slot_(std::move(slot)),
      publication_(std::move(publication)),
      clock_(clock),
      slot_policy_(slot_policy) {}

Result<std::unique_ptr<PgConnection>> PgSourceConnector::connect(PgConnection::Mode mode) {
  return PgConnection::open(conninfo_, mode);
}

Status PgSourceConnector::check_slot_name() const {
  if (valid_slot_name(slot_)) return Status::ok();
  return Status(ErrorCode::kInvalidArgument,
                "invalid replication slot name \"" + slot_ +
                    "\": use 1-63 characters from a-z, 0-9 and _");
}

Result<std::unique_ptr<ChangeStream>> PgSourceConnector::open_stream() {
  Result<std::unique_ptr<PgChangeStream>> stream = open_pg_stream();
  if (!stream.is_ok()) return stream.status();
  return std::unique_ptr<ChangeStream>(std::move(stream).value());
}

Result<std::unique_ptr<PgChangeStream>> PgSourceConnector::open_pg_stream() {
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kReplication);
  if (!connection.is_ok()) return connection.status();
  PgConnection& replication = **connection;
  if (slot_policy_ == SlotPolicy::kCreateIfMissing) {
    Result<bool> created = ensure_slot(replication);
    if (!created.is_ok()) return created.status();
  } else {
    WALSIM_RETURN_IF_ERROR(check_slot_name());
  }
  // pgoutput splits publication_names like an identifier list: quote the
  // name as an identifier, then the list as a literal.
  Result<std::string> publication = replication.quote_identifier(publication_);
  if (!publication.is_ok()) return publication.status();
  std::string command = "START_REPLICATION SLOT " + slot_ +
                        " LOGICAL 0/0 (proto_version '1', publication_names " +
                        quote_literal(*publication) + ", messages 'true')";
  PgResult result(PQexec(replication.raw(), command.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    const char* message = result ? PQresultErrorMessage(result.get()) : "no result";
    const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    return start_replication_error(sqlstate, "START_REPLICATION on " + replication.target() +
                                                 " failed: " + one_line(message));
  }
  // Status updates must not block the streamer; libpq queues them instead.
  if (PQsetnonblocking(replication.raw(), 1) != 0) {
    return Status(ErrorCode::kIoError, "cannot make the replication connection non-blocking");
  }
  return std::make_unique<PgChangeStream>(std::move(connection).value(), clock_);
}

Result<bool> PgSourceConnector::ensure_slot() {
  WALSIM_RETURN_IF_ERROR(check_slot_name());
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kReplication);
  if (!connection.is_ok()) return connection.status();
  return ensure_slot(**connection);
}

Result<bool> PgSourceConnector::ensure_slot(PgConnection& replication) {
  WALSIM_RETURN_IF_ERROR(check_slot_name());
  // The name is checked above, so it can stand in SQL and commands as is.
  std::string lookup =
      "SELECT plugin, database IS NOT DISTINCT FROM current_database() "
      "FROM pg_replication_slots WHERE slot_name = '" + slot_ + "'";
  Result<std::vector<Row>> existing = replication.query(lookup);
  if (!existing.is_ok()) return existing.status();
  if (existing->empty()) {
    Result<std::vector<Row>> created = replication.query(
        "CREATE_REPLICATION_SLOT " + slot_ + " LOGICAL pgoutput (SNAPSHOT 'nothing')");
    if (created.is_ok()) return true;
    // Lost a race with another creator? Then the slot is there now.
    existing = replication.query(lookup);
    if (!existing.is_ok() || existing->empty()) return created.status();
  }
  const Row& slot = existing->front();
  if (slot[0].text != "pgoutput") {
    return Status(ErrorCode::kFailedPrecondition,
                  "replication slot \"" + slot_ + "\" exists but uses " +
                      (slot[0].is_null() ? std::string("no plugin (physical)")
                                         : "plugin " + slot[0].text) +
                      ", not pgoutput");
  }
  if (slot[1].text != "t") {
    return Status(ErrorCode::kFailedPrecondition,
                  "replication slot \"" + slot_ + "\" belongs to another database");
  }
  return false;
}

Status PgSourceConnector::drop_slot() {
  WALSIM_RETURN_IF_ERROR(check_slot_name());
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kNormal);
  if (!connection.is_ok()) return connection.status();
  return (*connection)->query("SELECT pg_drop_replication_slot(slot_name) "
                              "FROM pg_replication_slots WHERE slot_name = $1",
                              {slot_}).status();
}

Result<std::unique_ptr<TableReader>> PgSourceConnector::open_table_reader() {
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kNormal);
  if (!connection.is_ok()) return connection.status();
  return std::unique_ptr<TableReader>(
      std::make_unique<PgTableReader>(std::move(connection).value()));
}

Result<std::vector<Relation>> PgSourceConnector::describe_tables(
    const std::vector<std::string>& names) {
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kNormal);
  if (!connection.is_ok()) return connection.status();
  std::vector<Relation> relations;
  for (const std::string& name : names) {
    Result<std::optional<Relation>> relation = describe_table(**connection, name);
    if (!relation.is_ok()) return relation.status();
    if (*relation) relations.push_back(std::move(**relation));
  }
  return relations;
}

Result<std::optional<Relation>> PgSourceConnector::describe_table(PgConnection& connection,
                                                                  const std::string& name) {
  TableName table = split_table_name(name);
  Result<std::vector<Row>> found = connection.query(kTableSql, {table.schema, table.table});
  if (!found.is_ok()) return found.status();
  if (found->empty()) return std::optional<Relation>();
  Relation relation;
  relation.schema = table.schema;
  relation.name = table.table;
  Result<uint32_t> relid = parse_oid(found->front()[0]);
  if (!relid.is_ok()) return relid.status();
  relation.relid = *relid;
  relation.identity = identity_from_code(found->front()[1].text);
  Result<std::vector<Row>> columns =
      connection.query(kColumnsSql, {std::to_string(relation.relid)});
  if (!columns.is_ok()) return columns.status();
  for (const Row& row : *columns) {
    Result<uint32_t> type_oid = parse_oid(row[1]);
    if (!type_oid.is_ok()) return type_oid.status();
    relation.columns.push_back(Column{row[0].text, *type_oid, row[2].text == "t"});
  }
  return std::optional<Relation>(std::move(relation));
}

Status PgSourceConnector::check_publication(const std::vector<std::string>& tables) {
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kNormal);
  if (!connection.is_ok()) return connection.status();
  Result<std::vector<Row>> published = (*connection)->query(
      "SELECT p.pubname, t.schemaname || '.' || t.tablename FROM pg_publication p "
      "LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = $1",
      {publication_});
  if (!published.is_ok()) return published.status();
  if (published->empty()) {
    return Status(ErrorCode::kNotFound, "publication \"" + publication_ +
                                            "\" does not exist (CREATE PUBLICATION " +
                                            publication_ + " FOR TABLE ...)");
  }
  std::set<std::string> covered;
  for (const Row& row : *published) covered.insert(row[1].text);
  std::string missing;
  for (const std::string& name : tables) {
    std::string qualified = split_table_name(name).qualified();
    if (!covered.count(qualified)) missing += (missing.empty() ? "" : ", ") + qualified;
  }
  if (missing.empty()) return Status::ok();
  return Status(ErrorCode::kFailedPrecondition, "publication \"" + publication_ +
                                                    "\" does not publish " + missing +
                                                    " (ALTER PUBLICATION ... ADD TABLE)");
}

Status PgSourceConnector::check_server() {
  Result<std::unique_ptr<PgConnection>> connection = connect(PgConnection::Mode::kNormal);
  if (!connection.is_ok()) return connection.status();
  Result<std::vector<Row>> rows = (*connection)->query(
      "SELECT current_setting('wal_level'), rolreplication OR rolsuper, current_user "
      "FROM pg_roles WHERE rolname = current_user");
  if (!rows.is_ok()) return rows.status();
  if (rows->size() != 1) return Status(ErrorCode::kCorrupt, "cannot read the server settings");
  const Row& row = rows->front();
  if (row[0].text != "logical") {
    return Status(ErrorCode::kFailedPrecondition,
                  "wal_level is '" + row[0].text +
                      "'; logical replication needs wal_level=logical");
  }
  if (row[1].text != "t") {
    return Status(ErrorCode::kFailedPrecondition,
                  "role \"" + row[2].text + "\" lacks the REPLICATION privilege (ALTER ROLE " +
                      row[2].text + " WITH REPLICATION)");
  }
  return Status::ok();
}

}  // namespace walsim::live
