// Concurrency benchmark: what live mode's concurrent runtime buys, against
// its own throwaway Postgres 15, in one run.
//
//   workers:  four tables of $WALSIM_BENCH_TABLE_ROWS rows (default 250k)
//             copied into a new store with 1 snapshot worker, then into
//             another with 4, each timed until every table is copied. Reads
//             run on the workers' own threads; the store has one writer.
//   writer:   a steady writer updates random rows of a $WALSIM_BENCH_ROWS
//             (default 1M) table at $WALSIM_BENCH_WRITER_RATE changes/s
//             (default 3300; transactions of 10 updates, on 2 connections)
//             while walsim copies that table. Figures: the changes walsim
//             applied during the copy as a share of those written (goal
//             >= 0.9: no lag builds up), the slot's lag when the copy ends,
//             and how long after it the first checkpoint comes.
//
// Build with -c opt: `bazel run -c opt //bench:concurrency`. Only ratios
// within one run mean much on a shared machine.
//
// Last line: workers1_s workers4_s workers_speedup copy_with_writer_s
// writer_changes_per_s applied_changes_per_s apply_share lag_at_copy_end_bytes
// changes_behind_at_copy_end first_checkpoint_after_copy_s
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/live_bench_support.h"
#include "live/pg_connection.h"
#include "live/pg_test_server.h"
#include "live/replication_session.h"

namespace walsim::live::bench {
namespace {

using testing::PgTestServer;

constexpr int kWriterConnections = 2;
constexpr int kUpdatesPerTransaction = 10;

// Updates random rows of a table at a steady rate, on a few connections of
// its own, from start() to stop(). Paced by the clock: a connection that
// falls behind its schedule catches up as fast as it can.
class SteadyWriter {
 public:
  SteadyWriter(std::string conninfo, std::string table, int64_t rows, int64_t changes_per_s)
      : conninfo_(std::move(conninfo)),
        table_(std::move(table)),
        rows_(rows),
        changes_per_s_(changes_per_s) {}
  ~SteadyWriter() { stop(); }

  void start() {
    started_ = std::chrono::steady_clock::now();
    for (int i = 0; i < kWriterConnections; i++) threads_.emplace_back([this, i] { run(i); });
  }
  void stop() {
    stop_ = true;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  int64_t changes() const { return changes_; }
  const std::string& error() const { return error_; }

 private:
  void run(int index) {
    auto connection = PgConnection::open(conninfo_, PgConnection::Mode::kNormal);
    if (!connection.is_ok()) {
      error_ = connection.status().to_string();
      return;
    }
    const double transactions_per_s =
        static_cast<double>(changes_per_s_) / kUpdatesPerTransaction / kWriterConnections;
    uint64_t random = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1);
    for (int64_t done = 0; !stop_; done++) {
      auto due = started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(done / transactions_per_s));
      std::this_thread::sleep_until(due);
      std::string sql = "BEGIN;";
      for (int i = 0; i < kUpdatesPerTransaction; i++) {
        random = random * 6364136223846793005ull + 1442695040888963407ull;
        int64_t id = 1 + static_cast<int64_t>((random >> 33) % static_cast<uint64_t>(rows_));
        sql += "UPDATE " + table_ + " SET n = n + 1 WHERE id = " + std::to_string(id) + ";";
      }
      Status status = (*connection)->exec(sql + "COMMIT");
      if (!status.is_ok()) {
        error_ = status.to_string();
        return;
      }
      changes_ += kUpdatesPerTransaction;
    }
  }

  std::string conninfo_;
  std::string table_;
  int64_t rows_;
  int64_t changes_per_s_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> changes_{0};
  std::string error_;
  std::vector<std::thread> threads_;
};

double time_workers(PgTestServer& server, const std::string& dir,
                    const std::vector<std::string>& tables, int workers) {
  std::string name = "workers" + std::to_string(workers);
  SessionConfig config = session_config(server, dir, name, "conc_pub", items_rules(tables));
  config.replicator.snapshot_workers = workers;
  auto session = open_session(config);
  double seconds = run_until(*session, [&] { return session->progress().all_snapshots_done; });
  std::printf("workers: %d snapshot worker(s) copied %zu tables in %.2f s (reader threads busy "
              "%.2f s)\n",
              workers, tables.size(), seconds,
              static_cast<double>(session->source().reader_stats().read_us) / 1e6);
  return seconds;
}

struct WriterFigures {
  double copy_s = 0;
  double writer_changes_per_s = 0;
  double applied_changes_per_s = 0;
  double apply_share = 0;
  int64_t lag_bytes = 0;
  int64_t changes_behind = 0;
  double first_checkpoint_s = 0;
};

WriterFigures copy_with_writer(PgTestServer& server, const std::string& dir, int64_t rows,
                               int64_t rate) {
  SessionConfig config =
      session_config(server, dir, "with_writer", "big_pub", items_rules({"big_items"}));
  config.replicator.snapshot_workers = 1;
  auto session = open_session(config);  // the slot exists from here on
  SteadyWriter writer(server.conninfo(), "big_items", rows, rate);
  WriterFigures figures;
  int64_t written = 0;
  writer.start();
  figures.copy_s = run_until(*session, [&] {
    if (!session->progress().all_snapshots_done) return false;
    written = writer.changes();
    figures.lag_bytes = slot_lag_bytes(server, "with_writer");
    return true;
  });
  int64_t applied = session->progress().changes_applied;
  figures.first_checkpoint_s = run_until(*session, [&] {
    Result<std::optional<Checkpoint>> checkpoint = session->storage().checkpoint();
    return checkpoint.is_ok() && checkpoint->has_value();
  });
  writer.stop();
  if (!writer.error().empty()) check(Status(ErrorCode::kIoError, writer.error()), "the writer");
  figures.writer_changes_per_s = static_cast<double>(written) / figures.copy_s;
  figures.applied_changes_per_s = static_cast<double>(applied) / figures.copy_s;
  figures.apply_share = written > 0 ? static_cast<double>(applied) / static_cast<double>(written)
                                    : 0.0;
  figures.changes_behind = written - applied;
  return figures;
}

int run() {
  const int64_t table_rows = env_int("WALSIM_BENCH_TABLE_ROWS", 250'000);
  const int64_t rows = env_int("WALSIM_BENCH_ROWS", 1'000'000);
  const int64_t rate = env_int("WALSIM_BENCH_WRITER_RATE", 3'300);
  TempDir temp;
  PgTestServer::Options options;
  options.settings = {"shared_buffers = '512MB'", "max_wal_size = '8GB'",
                      "checkpoint_timeout = '30min'", "synchronous_commit = off"};
  auto server = check(PgTestServer::start(options), "start Postgres");

  std::vector<std::string> tables = {"conc_a", "conc_b", "conc_c", "conc_d"};
  std::printf("setup: %zu tables of %lld rows, one of %lld...\n", tables.size(),
              static_cast<long long>(table_rows), static_cast<long long>(rows));
  std::string setup;
  for (const std::string& table : tables) setup += create_items_sql(table, table_rows);
  setup += create_items_sql("big_items", rows);
  setup += "CREATE PUBLICATION conc_pub FOR TABLE conc_a, conc_b, conc_c, conc_d;"
           "CREATE PUBLICATION big_pub FOR TABLE big_items;";
  check(server->exec(setup), "create the tables");
  check(server->exec("VACUUM ANALYZE"), "vacuum");

  double workers1_s = time_workers(*server, temp.path, tables, 1);
  double workers4_s = time_workers(*server, temp.path, tables, 4);
  std::printf("workers: 4 workers took %.2fx the time of 1\n", workers4_s / workers1_s);

  std::printf("writer: %lld changes/s into big_items while walsim copies it...\n",
              static_cast<long long>(rate));
  WriterFigures writer = copy_with_writer(*server, temp.path, rows, rate);
  std::printf("writer: the copy took %.2f s; the writer wrote %.0f changes/s, walsim applied "
              "%.0f/s during the copy (%.2f of them, goal 0.9); at the copy's end the slot lagged "
              "%lld bytes, %lld changes behind; first checkpoint %.2f s later\n",
              writer.copy_s, writer.writer_changes_per_s, writer.applied_changes_per_s,
              writer.apply_share, static_cast<long long>(writer.lag_bytes),
              static_cast<long long>(writer.changes_behind), writer.first_checkpoint_s);
  server.reset();
  std::printf(
      "workers1_s=%.2f workers4_s=%.2f workers_speedup=%.2f copy_with_writer_s=%.2f "
      "writer_changes_per_s=%.0f applied_changes_per_s=%.0f apply_share=%.2f "
      "lag_at_copy_end_bytes=%lld changes_behind_at_copy_end=%lld "
      "first_checkpoint_after_copy_s=%.2f\n",
      workers1_s, workers4_s, workers1_s / workers4_s, writer.copy_s,
      writer.writer_changes_per_s, writer.applied_changes_per_s, writer.apply_share,
      static_cast<long long>(writer.lag_bytes), static_cast<long long>(writer.changes_behind),
      writer.first_checkpoint_s);
  return 0;
}

}  // namespace
}  // namespace walsim::live::bench

int main() {
  try {
    return walsim::live::bench::run();
  } catch (const walsim::live::bench::BenchFailure& failure) {
    std::fprintf(stderr, "concurrency bench: %s\n", failure.message.c_str());
    return 1;
  }
}
