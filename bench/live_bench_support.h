// What the live benchmarks share: failing loudly (so the test server's
// destructor still runs), a temporary directory, environment knobs, a
// session on the bench server, and running it until a condition holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/status.h"
#include "live/pg_test_server.h"
#include "live/replication_session.h"

namespace walsim::live::bench {

// Thrown by check(): unwinding runs the server's destructor, so a failed
// run does not leave a Postgres behind.
struct BenchFailure {
  std::string message;
};

void check(const Status& status, const char* what);

template <typename T>
T check(Result<T> result, const char* what) {
  check(result.status(), what);
  return std::move(result).value();
}

int64_t env_int(const char* name, int64_t fallback);
double seconds_since(std::chrono::steady_clock::time_point start);

struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

// A session config on `server` for a store in `dir`: slot and store named
// `name`, publication `publication`, rules from `rules_yaml`.
SessionConfig session_config(testing::PgTestServer& server, const std::string& dir,
                             const std::string& name, const std::string& publication,
                             const std::string& rules_yaml);
std::unique_ptr<ReplicationSession> open_session(const SessionConfig& config);

// Runs the session until `done` (checked after every round); the seconds
// that took.
double run_until(ReplicationSession& session, const std::function<bool()>& done);

// The rows of the bench tables: id bigint key, owner, title, n.
std::string create_items_sql(const std::string& table, int64_t rows);
// One bucket per owner, the rows' id, title and n.
std::string items_rules(const std::vector<std::string>& tables);

// pg_current_wal_lsn() minus the slot's confirmed_flush_lsn, in bytes.
int64_t slot_lag_bytes(testing::PgTestServer& server, const std::string& slot);

}  // namespace walsim::live::bench
