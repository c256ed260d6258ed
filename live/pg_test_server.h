// A throwaway Postgres 15 for tests and benchmarks: initdb into a fresh
// /tmp directory, listen only on a unix socket there, stop and delete
// everything on destruction.
//
// Postgres refuses to run as root, so as root the server runs as the
// `postgres` user (runuser) in a directory chowned to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live::testing {

class PgTestServer {
 public:
  struct Options {
    std::string wal_level = "logical";
    // Extra postgresql.conf lines, e.g. "shared_buffers = '256MB'".
    std::vector<std::string> settings;
    // pg_hba.conf lines placed before initdb's (the first match wins), e.g.
    // "local all alice scram-sha-256" to test password logins.
    std::vector<std::string> hba_lines;
  };

  // The binaries' directory: $WALSIM_PG_BIN or /usr/lib/postgresql/15/bin.
  static std::string bin_dir();
  // False when initdb/pg_ctl/postgres are missing: tests skip, nothing else.
  static bool binaries_available();

  // Starts a server; errors carry the tail of initdb's or the server's log.
  static Result<std::unique_ptr<PgTestServer>> start(const Options& options);
  static Result<std::unique_ptr<PgTestServer>> start() { return start(Options()); }

  ~PgTestServer();
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // "host=<socket dir> dbname=postgres user=postgres".
  const std::string& conninfo() const { return conninfo_; }
  std::string conninfo_as(const std::string& user) const;
  // The unix socket directory (libpq's host).
  const std::string& socket_dir() const { return dir_; }

  // Stops the server (-m fast: every connection is cut, as in a real
  // restart) and starts it again on the same data and socket; the admin
  // connection is reopened.
  Status restart();

  // Runs SQL (several statements allowed) as the superuser.
  Status exec(const std::string& sql);
  Result<std::vector<Row>> query(const std::string& sql);
  // The single value of a one-row, one-column query.
  Result<std::string> query_value(const std::string& sql);

 private:
  explicit PgTestServer(std::string dir);
  Status init(const Options& options);
  Status write_config(const Options& options);
  Status run_as_postgres(const std::vector<std::string>& argv, const std::string& log);

  std::string dir_;       // socket directory; owns data/ and the logs
  std::string data_dir_;
  std::string conninfo_;
  bool started_ = false;
  std::unique_ptr<PgConnection> admin_;
};

}  // namespace walsim::live::testing
