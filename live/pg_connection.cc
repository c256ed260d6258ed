#include "live/pg_connection.h"

#include <libpq-fe.h>

#include <cctype>
#include <cstring>
#include <string_view>
#include <utility>

namespace walsim::live {

void PgResultClear::operator()(pg_result* result) const { PQclear(result); }

void PgMemoryFree::operator()(void* memory) const { PQfreemem(memory); }

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

namespace {

// ---- connection strings and their secrets ----------------------------------

bool looks_like_conninfo(const std::string& conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://") ||
         conninfo.find('=') != std::string::npos;
}

// Whether `fragment`, which libpq quoted after "invalid connection option"
// or "invalid URI query parameter:", is an option's name and nothing else:
// it looks like a keyword and stands, wherever it occurs in `conninfo`,
// where keys stand (after a space, '?' or '&', before an '='), as in
// `name=value` or `?name=value`. A password stands elsewhere, so one that
// equals or contains the name keeps it hidden.
bool is_option_name(const std::string& fragment, const std::string& conninfo) {
  if (fragment.empty() || fragment.size() > 63) return false;
  for (size_t i = 0; i < fragment.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(fragment[i]);
    if (!(std::isalpha(c) || c == '_' || (i > 0 && std::isdigit(c)))) return false;
  }
  size_t occurrences = 0;
  for (size_t at = conninfo.find(fragment); at != std::string::npos;
       at = conninfo.find(fragment, at + 1)) {
    const char before = at == 0 ? ' ' : conninfo[at - 1];
    if (before != ' ' && before != '\t' && before != '?' && before != '&') return false;
    size_t after = at + fragment.size();
    while (after < conninfo.size() && (conninfo[after] == ' ' || conninfo[after] == '\t')) after++;
    if (after >= conninfo.size() || conninfo[after] != '=') return false;
    occurrences++;
  }
  return occurrences > 0;
}

// libpq's parse errors quote the fragment they choke on, and that fragment
// may be (part of) the password: drop everything between double quotes,
// except an option's name in the messages that name one.
std::string redact_quoted(const std::string& message, const std::string& conninfo) {
  std::string out;
  bool quoted = false;
  std::string fragment;
  for (char c : message) {
    if (c != '"') {
      (quoted ? fragment : out) += c;
      continue;
    }
    if (quoted) {
      const bool names_option = out.ends_with("invalid connection option \"") ||
                                out.ends_with("invalid URI query parameter: \"");
      out += names_option && is_option_name(fragment, conninfo) ? fragment : "<redacted>";
      out += '"';
      fragment.clear();
    } else {
      out += '"';
    }
    quoted = !quoted;
  }
  if (quoted) out += "<redacted>";  // an unbalanced quote: hide the rest
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
    std::string detail = error ? redact_quoted(one_line(error), conninfo) : "out of memory";
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
  if (password.empty()) return message;
  const std::string mask = "********";
  for (size_t at = message.find(password); at != std::string::npos;
       at = message.find(password, at + mask.size())) {
    message.replace(at, password.size(), mask);
  }
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
  WALSIM_ASSERT(PQresultStatus(result) == PGRES_TUPLES_OK);
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
    WALSIM_ASSERT(rows[r].size() == static_cast<size_t>(nfields), "every row has every column");
  }
  return rows;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& conninfo,
                                                         Mode mode) {
  WALSIM_ASSIGN_OR_RETURN(std::string password, password_of(conninfo));
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
  WALSIM_ASSERT(keys.size() == values.size(), "libpq pairs keywords with values");
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status(ErrorCode::kIoError, "libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    Status error = connect_error(conn, scrub(one_line(PQerrorMessage(conn)), password));
    PQfinish(conn);
    return error;
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, describe_target(conn)));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::is_connected() const { return PQstatus(conn_) == CONNECTION_OK; }

Result<std::vector<Row>> PgConnection::query(const std::string& sql,
                                             const std::vector<std::string>& params) {
  WALSIM_ASSERT(conn_ != nullptr);
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
  return failure(result.get());
}

Status PgConnection::failure(PGresult* result) {
  const char* message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  if (message == nullptr || *message == '\0') message = PQerrorMessage(conn_);
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return Status(code_for_sqlstate(sqlstate, !is_connected()),
                "query on " + target_ + " failed: " + one_line(message ? message : "no result"));
}

Status PgConnection::exec(const std::string& sql) { return query(sql).status(); }

Status PgConnection::copy_out(const std::string& sql,
                              const std::function<Status(std::string_view)>& on_line) {
  WALSIM_ASSERT(conn_ != nullptr);
  PgResult started(PQexec(conn_, sql.c_str()));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_OUT) return failure(started.get());
  Status first_error;
  for (;;) {
    char* buffer = nullptr;
    int length = PQgetCopyData(conn_, &buffer, /*async=*/0);
    if (length < 0) break;  // -1: done, -2: failed; the result below says which
    PgMemory<char> line(buffer);
    std::string_view text(buffer, static_cast<size_t>(length));
    WALSIM_ASSERT(!text.empty() && text.back() == '\n', "COPY TO sends one line per row");
    text.remove_suffix(1);
    if (first_error.is_ok()) first_error = on_line(text);
  }
  // The COPY's own outcome (a statement timeout, a lost connection), then
  // libpq's end-of-results.
  Status outcome;
  while (PgResult result{PQgetResult(conn_)}) {
    if (outcome.is_ok() && PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      outcome = failure(result.get());
    }
  }
  if (outcome.is_ok() && !is_connected()) outcome = failure(nullptr);
  return outcome.is_ok() ? first_error : outcome;
}

Result<std::string> PgConnection::quote_literal(const std::string& text) {
  PgMemory<char> quoted(PQescapeLiteral(conn_, text.data(), text.size()));
  if (!quoted) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot quote a literal: " + one_line(PQerrorMessage(conn_)));
  }
  return std::string(quoted.get());
}

PgConnection::Canceller::~Canceller() { PQfreeCancel(cancel_); }

bool PgConnection::Canceller::cancel() {
  char error[256];
  return PQcancel(cancel_, error, sizeof error) == 1;
}

std::unique_ptr<PgConnection::Canceller> PgConnection::canceller() {
  PGcancel* cancel = PQgetCancel(conn_);
  if (cancel == nullptr) return nullptr;
  return std::unique_ptr<Canceller>(new Canceller(cancel));
}

Result<std::string> PgConnection::quote_identifier(const std::string& name) {
  PgMemory<char> quoted(PQescapeIdentifier(conn_, name.data(), name.size()));
  if (!quoted) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot quote identifier: " + one_line(PQerrorMessage(conn_)));
  }
  return std::string(quoted.get());
}

}  // namespace walsim::live
