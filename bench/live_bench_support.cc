#include "bench/live_bench_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace walsim::live::bench {

void check(const Status& status, const char* what) {
  if (!status.is_ok()) throw BenchFailure{std::string(what) + ": " + status.to_string()};
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::atoll(text) : fallback;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TempDir::TempDir()
    : path(std::filesystem::temp_directory_path() /
           ("walsim-live-bench-" + std::to_string(::getpid()))) {
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() { std::filesystem::remove_all(path); }

SessionConfig session_config(testing::PgTestServer& server, const std::string& dir,
                             const std::string& name, const std::string& publication,
                             const std::string& rules_yaml) {
  std::string rules = dir + "/" + name + ".yaml";
  std::ofstream(rules) << rules_yaml;
  SessionConfig config;
  config.conninfo = server.conninfo();
  config.store_path = dir + "/" + name + ".db";
  config.rules_path = rules;
  config.slot = name;
  config.publication = publication;
  int64_t chunk_rows = static_cast<int64_t>(config.replicator.snapshot_chunk_rows);
  config.replicator.snapshot_chunk_rows =
      static_cast<size_t>(env_int("WALSIM_BENCH_CHUNK_ROWS", chunk_rows));
  return config;
}

std::unique_ptr<ReplicationSession> open_session(const SessionConfig& config) {
  return check(ReplicationSession::open(config, [](const std::string& notice) {
                 std::printf("  walsim: %s\n", notice.c_str());
               }),
               "open the session");
}

double run_until(ReplicationSession& session, const std::function<bool()>& done) {
  RunControl control;
  control.until = done;
  auto start = std::chrono::steady_clock::now();
  RunOutcome outcome = check(session.run(control), "replicate");
  if (outcome != RunOutcome::kReached) {
    check(Status(ErrorCode::kIoError, "stopped early"), "replicate");
  }
  return seconds_since(start);
}

std::string create_items_sql(const std::string& table, int64_t rows) {
  return "CREATE TABLE " + table + " (id bigint PRIMARY KEY, owner text, title text, n int);"
         "INSERT INTO " + table + " SELECT g, 'owner' || (g % 100), 'title of item ' || g, 0"
         " FROM generate_series(1, " + std::to_string(rows) + ") g;";
}

std::string items_rules(const std::vector<std::string>& tables) {
  std::string yaml = "bucket_definitions:\n";
  for (const std::string& table : tables) {
    yaml += "  " + table + "_by_owner:\n    data:\n      - SELECT id, title, n FROM " + table +
            " WHERE owner = bucket.owner\n";
  }
  return yaml;
}

int64_t slot_lag_bytes(testing::PgTestServer& server, const std::string& slot) {
  std::string lag = check(server.query_value("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(),"
                                             " confirmed_flush_lsn)::bigint FROM"
                                             " pg_replication_slots WHERE slot_name = '" +
                                             slot + "'"),
                          "read the slot's lag");
  return std::atoll(lag.c_str());
}

}  // namespace walsim::live::bench
