// PgConnection: one libpq connection to the source, and the SQL it runs.
//
//   WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
//                           PgConnection::open(conninfo, PgConnection::Mode::kNormal));
//   WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows, connection->query("SELECT 1"));
//
// Errors are Status values that never contain the connection password: a
// connection failure names only host, port, dbname and user, and a
// connection string libpq cannot parse is rejected before libpq can echo
// pieces of it (a mistyped option's name is shown: it is no secret).
//
// The few files that speak libpq directly (the change stream, slot
// administration) use raw() and the PgResult/PgMemory holders below; only
// .cc files include libpq-fe.h, so users of this header need no libpq
// include path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"

// libpq's PGconn and PGresult, declared rather than included (see above).
struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace walsim::live {

class PgConnection {
 public:
  enum class Mode {
    kNormal,
    kReplication,  // replication=database: replication commands plus simple SQL
  };

  // `conninfo` is a postgresql:// URI, key=value pairs or a bare dbname.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& conninfo, Mode mode);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs SQL; result rows as text, SQL NULL as Value::null(). Without
  // params it uses the simple query protocol (the only one a replication
  // connection speaks, and the one that allows several statements); with
  // params, PQexecParams with text parameters whose types the server infers.
  Result<std::vector<Row>> query(const std::string& sql,
                                 const std::vector<std::string>& params = {});
  Status exec(const std::string& sql);

  // Runs `COPY ... TO STDOUT` (text format) and hands each data line,
  // without its newline, to `on_line`. The first error `on_line` returns
  // ends the run with it (the rest of the data is read and dropped, which
  // is what keeps the connection usable).
  Status copy_out(const std::string& sql, const std::function<Status(std::string_view)>& on_line);

  // "'it''s'": a string literal quoted by PQescapeLiteral, for statements
  // that take no parameters (COPY).
  Result<std::string> quote_literal(const std::string& text);

  // "\"my table\"": an identifier quoted by PQescapeIdentifier.
  Result<std::string> quote_identifier(const std::string& name);

  // "host=... port=... dbname=... user=...": for error messages.
  const std::string& target() const { return target_; }
  bool is_connected() const;
  pg_conn* raw() { return conn_; }

  // Cancels what this connection runs, from another thread (PQcancel).
  class Canceller {
   public:
    ~Canceller();
    Canceller(const Canceller&) = delete;
    Canceller& operator=(const Canceller&) = delete;
    // Asks the server to cancel the running statement; false if the request
    // could not be sent. A statement that already ended is not affected.
    bool cancel();

   private:
    friend class PgConnection;
    explicit Canceller(pg_cancel* cancel) : cancel_(cancel) {}
    pg_cancel* cancel_;
  };
  // nullptr when libpq cannot make one (no connection).
  std::unique_ptr<Canceller> canceller();

 private:
  // The error of a failed statement, with libpq's message.
  Status failure(pg_result* result);

  PgConnection(pg_conn* conn, std::string target) : conn_(conn), target_(std::move(target)) {}

  pg_conn* conn_;
  std::string target_;
};

// A PGresult, cleared on destruction.
struct PgResultClear {
  void operator()(pg_result* result) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultClear>;

// Memory libpq allocated (PQgetCopyData's buffer, PQescapeIdentifier's
// string), freed with PQfreemem.
struct PgMemoryFree {
  void operator()(void* memory) const;
};
template <typename T>
using PgMemory = std::unique_ptr<T, PgMemoryFree>;

// libpq's messages end in a newline and may span lines ("...failed:
// Connection refused\n\tIs the server running..."): walsim reports every
// error as one line, so breaks and the indentation after them become a space.
std::string one_line(std::string text);

}  // namespace walsim::live
