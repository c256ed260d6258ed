// Live benchmark: walsim against its own throwaway Postgres 15, compared in
// the same run with what Postgres and SQLite themselves do with the same
// data.
//
//   snapshot:  walsim copies a table of N rows into a new store (one worker,
//              reads on the reader's thread, the next chunk read ahead)
//              against (a) `COPY table TO STDOUT`, read and discarded by
//              libpq, and (b) a plain SQLite insert of the same rows into a
//              (key, row) table, one transaction per chunk: the goal is the
//              snapshot within 1.5x of the larger of the two. Where the time
//              goes: the same chunked read alone, through COPY (SELECT ...)
//              and through SELECT (walsim's two read methods), and the same
//              rows through the store's snapshot batches alone (reads:
//              best of two, alternated).
//   streaming: N row changes (updates in transactions of 10k) are written
//              while nothing consumes them; then walsim applies them from its
//              slot vs pg_recvlogical reading them (pgoutput, the same
//              publication) from a second slot created at the same point.
//
// N is $WALSIM_BENCH_ROWS (default 1,000,000); the chunk size is
// $WALSIM_BENCH_CHUNK_ROWS (default: the replicator's). Build with -c opt:
// `bazel run -c opt //bench:live`. Only ratios within one run mean much on a
// shared machine.
//
// Last line: snapshot_s copy_s sqlite_insert_s snapshot_ratio read_copy_s
// read_select_s store_ingest_s reader_busy_s stream_changes_per_s
// recvlogical_changes_per_s snapshot_max_rss_mib max_rss_mib
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/live_bench_support.h"
#include "engine/bucket_storage.h"
#include "engine/op_log.h"
#include "engine/row_codec.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"
#include "live/pg_connection.h"
#include "live/pg_source_connector.h"
#include "live/pg_table_reader.h"
#include "live/pg_test_server.h"
#include "live/replication_session.h"
#include "live/wall_clock.h"

namespace walsim::live::bench {
namespace {

using testing::PgTestServer;

constexpr int64_t kChangesPerTransaction = 10'000;

// The process's peak resident set so far, in MiB (ru_maxrss is in KiB).
double max_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// COPY ... TO STDOUT through libpq, every row read and dropped: what the
// server and the wire can deliver, the floor for any copy.
double time_copy(PgTestServer& server, int64_t rows) {
  auto connection = check(PgConnection::open(server.conninfo(), PgConnection::Mode::kNormal),
                          "connect for COPY");
  auto start = std::chrono::steady_clock::now();
  int64_t copied = 0;
  check(connection->copy_out("COPY bench_items TO STDOUT",
                             [&](std::string_view) {
                               copied++;
                               return Status::ok();
                             }),
        "COPY");
  double elapsed = seconds_since(start);
  if (copied != rows) {
    check(Status(ErrorCode::kCorrupt, "COPY returned " + std::to_string(copied) + " rows"), "COPY");
  }
  return elapsed;
}

// The whole table in chunks through one of the reader's methods, on this
// thread: what reading costs walsim, without the store.
double time_chunked_read(PgTestServer& server, const Relation& table, ReadMethod method,
                         size_t chunk_rows, int64_t rows) {
  ReaderOptions options;
  options.method = method;
  auto reader = check(
      PgTableReader::start(check(PgConnection::open(server.conninfo(), PgConnection::Mode::kNormal),
                                 "connect the reader"),
                           options),
      "start the reader");
  auto start = std::chrono::steady_clock::now();
  int64_t read = 0;
  // As a copy reads: the first chunk brings the bound the rest stop at.
  std::optional<Row> until;
  for (std::optional<Row> after;;) {
    TableChunk chunk = check(reader->read_chunk(table, after, until, chunk_rows), "read a chunk");
    if (!until) until = chunk.bound_key;
    read += static_cast<int64_t>(chunk.rows.size());
    if (chunk.is_last) break;
    after = table.key_of(chunk.rows.back());
  }
  double elapsed = seconds_since(start);
  if (read != rows) check(Status(ErrorCode::kCorrupt, "chunks held too few rows"), "read");
  return elapsed;
}

// bench_items' row `id`, as the source holds it.
Row item(int64_t id) {
  return {Value::of(std::to_string(id)), Value::of("owner" + std::to_string(id % 100)),
          Value::of("title of item " + std::to_string(id)), Value::of("0")};
}

// The same rows through the store's snapshot batches, one per chunk, with
// no source: what writing costs walsim.
double time_store_ingest(const std::string& dir, const std::string& rules_yaml,
                         const Relation& table, size_t chunk_rows, int64_t rows) {
  auto rules = check(BucketRules::parse(rules_yaml), "rules");
  auto db = check(SqliteDb::open(dir + "/ingest.db"), "open the ingest store");
  auto storage = check(BucketStorage::open(*db, rules, {}), "open storage");
  check(storage->register_table(table).status(), "register");
  auto start = std::chrono::steady_clock::now();
  for (int64_t first = 1; first <= rows; first += static_cast<int64_t>(chunk_rows)) {
    int64_t last = std::min(rows, first + static_cast<int64_t>(chunk_rows) - 1);
    auto batch = check(storage->snapshot_batch(table.name), "snapshot batch");
    for (int64_t id = first; id <= last; id++) batch->copy_row(table, item(id));
    batch->set_resume_key({Value::of(std::to_string(last))});
    check(batch->commit(Lsn::zero()).status(), "snapshot commit");
  }
  return seconds_since(start);
}

// The same rows into a plain (key, row) SQLite table, one transaction per
// chunk, with the store's journal settings: the write floor.
double time_sqlite_insert(const std::string& dir, size_t chunk_rows, int64_t rows) {
  auto db = check(SqliteDb::open(dir + "/raw.db"), "open the raw database");
  check(db->exec("CREATE TABLE raw (id TEXT PRIMARY KEY, data TEXT NOT NULL)"), "create raw");
  auto start = std::chrono::steady_clock::now();
  for (int64_t first = 1; first <= rows; first += static_cast<int64_t>(chunk_rows)) {
    int64_t last = std::min(rows, first + static_cast<int64_t>(chunk_rows) - 1);
    check(in_transaction(*db, [&]() -> Status {
            WALSIM_ASSIGN_OR_RETURN(ScopedStatement insert,
                                    db->prepare("INSERT INTO raw (id, data) VALUES (?1, ?2)"));
            for (int64_t id = first; id <= last; id++) {
              insert->reset();
              Row row = item(id);
              WALSIM_RETURN_IF_ERROR(
                  insert->bind(1, row_id_of({row[0]})).bind(2, encode_row(row)).run());
            }
            return Status::ok();
          }),
          "raw insert");
  }
  return seconds_since(start);
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

Relation describe(PgTestServer& server, const std::string& name) {
  WallClock clock;
  PgSourceConnector connector(server.conninfo(), "unused", "bench_pub", &clock);
  auto tables = check(connector.describe_tables({name}), "describe the table");
  if (tables.size() != 1) check(Status(ErrorCode::kNotFound, name), "describe the table");
  return tables.front();
}

struct SnapshotFigures {
  double snapshot_s = 0;
  double reader_busy_s = 0;
  int64_t not_ready = 0;
  int64_t read_ahead_hits = 0;
};

SnapshotFigures run_snapshot(const SessionConfig& config) {
  auto session = open_session(config);
  SnapshotFigures figures;
  figures.snapshot_s = run_until(*session, [&] { return session->progress().all_snapshots_done; });
  const ReaderStats& stats = session->source().reader_stats();
  figures.reader_busy_s = static_cast<double>(stats.read_us) / 1e6;
  figures.not_ready = stats.not_ready;
  figures.read_ahead_hits = stats.read_ahead_hits;
  return figures;
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
  check(server->exec(create_items_sql("bench_items", rows) +
                     "CREATE PUBLICATION bench_pub FOR TABLE bench_items"),
        "create the table");
  check(server->exec("VACUUM ANALYZE bench_items"), "vacuum the table");
  const std::string rules = items_rules({"bench_items"});
  SessionConfig config = session_config(*server, dir, "walsim_slot", "bench_pub", rules);
  config.replicator.snapshot_workers = 1;  // one table
  const size_t chunk_rows = config.replicator.snapshot_chunk_rows;
  const Relation table = describe(*server, "bench_items");

  std::printf("store: journal_mode=%s synchronous=%s; acknowledged after a durable commit"
              " (synchronous=%s) when the stream idles or every %lld transactions or %lld changes\n",
              StoreSettings::kJournalMode, StoreSettings::kSynchronous,
              StoreSettings::kSynchronousDurable,
              static_cast<long long>(config.replicator.durable_every_transactions),
              static_cast<long long>(config.replicator.durable_every_changes));
  double copy_s = time_copy(*server, rows);
  std::printf("copy: COPY bench_items TO STDOUT in %.2f s\n", copy_s);
  // Alternated, best of two each: the machine is shared, and the one that
  // runs first should not pay for the other's warm-up.
  double read_select_s = 1e9, read_copy_s = 1e9;
  for (int round = 0; round < 2; round++) {
    read_select_s = std::min(
        read_select_s, time_chunked_read(*server, table, ReadMethod::kSelect, chunk_rows, rows));
    read_copy_s = std::min(
        read_copy_s, time_chunked_read(*server, table, ReadMethod::kCopy, chunk_rows, rows));
  }
  std::printf("read: chunks of %zu rows in %.2f s through COPY (SELECT ...), %.2f s through "
              "SELECT\n",
              chunk_rows, read_copy_s, read_select_s);

  SnapshotFigures snapshot = run_snapshot(config);
  // A high-water mark: it includes the reads timed before the snapshot.
  const double snapshot_rss_mib = max_rss_mib();
  std::printf("snapshot: walsim copied %lld rows in %.2f s (chunks of %zu rows), %.2fx COPY; "
              "reader thread busy %.2f s, %lld chunks read ahead, %lld asks not ready\n",
              static_cast<long long>(rows), snapshot.snapshot_s, chunk_rows,
              snapshot.snapshot_s / copy_s, snapshot.reader_busy_s,
              static_cast<long long>(snapshot.read_ahead_hits),
              static_cast<long long>(snapshot.not_ready));
  double store_ingest_s = time_store_ingest(dir, rules, table, chunk_rows, rows);
  double sqlite_insert_s = time_sqlite_insert(dir, chunk_rows, rows);
  double floor_s = std::max(copy_s, sqlite_insert_s);
  double snapshot_ratio = snapshot.snapshot_s / floor_s;
  std::printf("write: the same rows through the store's snapshot batches alone in %.2f s; "
              "a plain SQLite insert in %.2f s\n",
              store_ingest_s, sqlite_insert_s);
  std::printf("snapshot: %.2fx the larger of COPY and the SQLite insert (goal 1.5)\n",
              snapshot_ratio);

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
  const double stream_rss_mib = max_rss_mib();
  std::printf("memory: peak RSS %.0f MiB after the snapshot, %.0f MiB after the stream\n",
              snapshot_rss_mib, stream_rss_mib);
  std::printf(
      "snapshot_s=%.2f copy_s=%.2f sqlite_insert_s=%.2f snapshot_ratio=%.2f read_copy_s=%.2f "
      "read_select_s=%.2f store_ingest_s=%.2f reader_busy_s=%.2f stream_changes_per_s=%.0f "
      "recvlogical_changes_per_s=%.0f snapshot_max_rss_mib=%.0f max_rss_mib=%.0f\n",
      snapshot.snapshot_s, copy_s, sqlite_insert_s, snapshot_ratio, read_copy_s, read_select_s,
      store_ingest_s, snapshot.reader_busy_s, stream_rate, recv_rate, snapshot_rss_mib,
      stream_rss_mib);
  return 0;
}

}  // namespace
}  // namespace walsim::live::bench

int main() {
  try {
    return walsim::live::bench::run();
  } catch (const walsim::live::bench::BenchFailure& failure) {
    std::fprintf(stderr, "live bench: %s\n", failure.message.c_str());
    return 1;
  }
}
