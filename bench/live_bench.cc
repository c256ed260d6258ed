// Live benchmark: walsim against its own throwaway Postgres 15, compared in
// the same run with what Postgres itself does with the same data.
//
//   snapshot:  walsim copies a table of N rows into a new store (chunked
//              keyset reads, one bucket op per row) vs `COPY table TO STDOUT`
//              of the same table, read and discarded by libpq.
//   streaming: N row changes (updates in transactions of 10k) are written
//              while nothing consumes them; then walsim applies them from its
//              slot vs pg_recvlogical reading them (pgoutput, the same
//              publication) from a second slot created at the same point.
//
// N is $WALSIM_BENCH_ROWS (default 1,000,000); the snapshot chunk size is
// $WALSIM_BENCH_CHUNK_ROWS (default: the replicator's). Build with -c opt:
// `bazel run -c opt //bench:live`. Only ratios within one run mean much on a
// shared machine.
//
// Last line: snapshot_s=N copy_s=N stream_changes_per_s=N recvlogical_changes_per_s=N
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "live/pg_connection.h"
#include "live/pg_test_server.h"
#include "live/replication_session.h"

namespace walsim::live {
namespace {

using testing::PgTestServer;

constexpr int64_t kChangesPerTransaction = 10'000;

int64_t env_int(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::atoll(text) : fallback;
}

// Thrown by check(): unwinding runs the server's destructor, so a failed
// run does not leave a Postgres behind.
struct BenchFailure {
  std::string message;
};

void check(const Status& status, const char* what) {
  if (!status.is_ok()) throw BenchFailure{std::string(what) + ": " + status.to_string()};
}

template <typename T>
T check(Result<T> result, const char* what) {
  check(result.status(), what);
  return std::move(result).value();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct TempDir {
  std::string path = std::filesystem::temp_directory_path() /
                     ("walsim-live-bench-" + std::to_string(::getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// COPY ... TO STDOUT through libpq, every row read and dropped: what the
// server and the wire can deliver, the floor for any copy.
double time_copy(PgTestServer& server, int64_t rows) {
  auto connection = check(PgConnection::open(server.conninfo(), PgConnection::Mode::kNormal),
                          "connect for COPY");
  PGconn* conn = connection->raw();
  auto start = std::chrono::steady_clock::now();
  PGresult* result = PQexec(conn, "COPY bench_items TO STDOUT");
  bool copying = PQresultStatus(result) == PGRES_COPY_OUT;
  PQclear(result);
  if (!copying) check(Status(ErrorCode::kIoError, PQerrorMessage(conn)), "COPY");
  int64_t copied = 0;
  char* line = nullptr;
  while (PQgetCopyData(conn, &line, /*async=*/0) > 0) {
    copied++;
    PQfreemem(line);
  }
  PQclear(PQgetResult(conn));
  double elapsed = seconds_since(start);
  if (copied != rows) {
    check(Status(ErrorCode::kCorrupt, "COPY returned " + std::to_string(copied) + " rows"), "COPY");
  }
  return elapsed;
}

// Runs pg_recvlogical until `end` and returns the seconds it took.
double time_recvlogical(PgTestServer& server, Lsn end) {
  std::string binary = PgTestServer::bin_dir() + "/pg_recvlogical";
  std::string endpos = end.to_string();
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(binary.c_str(), binary.c_str(), "-d", server.conninfo().c_str(), "--slot",
            "recv_slot", "--start", "--no-loop", "-o", "proto_version=1", "-o",
            "publication_names=bench_pub", "-E", endpos.c_str(), "-f", "/dev/null",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  double elapsed = seconds_since(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    check(Status(ErrorCode::kIoError, binary + " failed"), "pg_recvlogical");
  }
  return elapsed;
}

SessionConfig session_config(PgTestServer& server, const std::string& dir) {
  std::string rules = dir + "/rules.yaml";
  std::ofstream(rules) << "bucket_definitions:\n  by_owner:\n    data:\n      - SELECT id, "
                          "title, n FROM bench_items WHERE owner = bucket.owner\n";
  SessionConfig config;
  config.conninfo = server.conninfo();
  config.store_path = dir + "/bench.db";
  config.rules_path = rules;
  config.slot = "walsim_slot";
  config.publication = "bench_pub";
  config.replicator.snapshot_workers = 1;  // one table
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

// Runs the session until `done`; the seconds that took.
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

int run() {
  const int64_t rows = env_int("WALSIM_BENCH_ROWS", 1'000'000);
  const int64_t transactions = (rows + kChangesPerTransaction - 1) / kChangesPerTransaction;
  TempDir temp;
  const std::string& dir = temp.path;

  PgTestServer::Options options;
  options.settings = {"shared_buffers = '256MB'", "max_wal_size = '8GB'",
                      "checkpoint_timeout = '30min'", "synchronous_commit = off"};
  auto server = check(PgTestServer::start(options), "start Postgres");
  std::printf("setup: %lld rows in bench_items...\n", static_cast<long long>(rows));
  check(server->exec("CREATE TABLE bench_items (id bigint PRIMARY KEY, owner text, title text,"
                     " n int); INSERT INTO bench_items SELECT g, 'owner' || (g % 100),"
                     " 'title of item ' || g, 0 FROM generate_series(1, " +
                     std::to_string(rows) + ") g;"
                     "CREATE PUBLICATION bench_pub FOR TABLE bench_items"),
        "create the table");
  check(server->exec("VACUUM ANALYZE bench_items"), "vacuum the table");

  double copy_s = time_copy(*server, rows);
  std::printf("copy: COPY bench_items TO STDOUT in %.2f s\n", copy_s);

  SessionConfig config = session_config(*server, dir);
  std::printf("store: journal_mode=%s synchronous=%s; acknowledged after a durable commit"
              " (synchronous=%s) when the stream idles or every %lld transactions or %lld changes\n",
              StoreSettings::kJournalMode, StoreSettings::kSynchronous,
              StoreSettings::kSynchronousDurable,
              static_cast<long long>(config.replicator.durable_every_transactions),
              static_cast<long long>(config.replicator.durable_every_changes));
  double snapshot_s = 0;
  {
    auto session = open_session(config);
    snapshot_s = run_until(*session, [&] { return session->progress().all_snapshots_done; });
  }
  std::printf("snapshot: walsim copied %lld rows in %.2f s (chunks of %zu rows), %.2fx COPY\n",
              static_cast<long long>(rows), snapshot_s, config.replicator.snapshot_chunk_rows,
              snapshot_s / copy_s);

  // Both slots start here; the changes pile up while neither reads.
  check(server->exec("SELECT pg_create_logical_replication_slot('recv_slot', 'pgoutput')"),
        "create the pg_recvlogical slot");
  std::printf("stream: writing %lld row changes in %lld transactions...\n",
              static_cast<long long>(rows), static_cast<long long>(transactions));
  for (int64_t first = 1; first <= rows; first += kChangesPerTransaction) {
    check(server->exec("UPDATE bench_items SET n = n + 1 WHERE id BETWEEN " +
                       std::to_string(first) + " AND " +
                       std::to_string(first + kChangesPerTransaction - 1)),
          "write changes");
  }
  Lsn end = *Lsn::parse(check(server->query_value("SELECT pg_current_wal_lsn()"), "read the LSN"));

  double stream_s = 0;
  {
    auto session = open_session(config);
    stream_s = run_until(*session, [&] {
      return session->progress().transactions_applied >= transactions;
    });
    if (session->progress().changes_applied < rows) {
      check(Status(ErrorCode::kCorrupt, "fewer changes applied than written"), "stream");
    }
  }
  double recv_s = time_recvlogical(*server, end);
  double stream_rate = static_cast<double>(rows) / stream_s;
  double recv_rate = static_cast<double>(rows) / recv_s;
  std::printf("stream: walsim applied %lld changes in %.2f s (%.0f/s)\n",
              static_cast<long long>(rows), stream_s, stream_rate);
  std::printf("stream: pg_recvlogical (pgoutput, to /dev/null) read them in %.2f s (%.0f/s), "
              "walsim at %.2fx its rate\n",
              recv_s, recv_rate, stream_rate / recv_rate);
  server.reset();
  std::printf(
      "snapshot_s=%.2f copy_s=%.2f stream_changes_per_s=%.0f recvlogical_changes_per_s=%.0f\n",
      snapshot_s, copy_s, stream_rate, recv_rate);
  return 0;
}

}  // namespace
}  // namespace walsim::live

int main() {
  try {
    return walsim::live::run();
  } catch (const walsim::live::BenchFailure& failure) {
    std::fprintf(stderr, "live bench: %s\n", failure.message.c_str());
    return 1;
  }
}
