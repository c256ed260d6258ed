// Storage benchmark: the bucket store's ingest and apply rates against the
// physical limit here, plain SQLite inserts of the same rows, in one run.
//
// Method: 1M small rows (one bucket each) go through snapshot batches of
// 10k rows; then 1M stream changes (80% updates, 20% deletes) go through
// stream batches, committed every 1000 changes at increasing LSNs; then the
// same 1M rows are inserted into a plain SQLite table, one transaction per
// 10k rows, on a file with the same journal settings. Durability as the
// streamer gives it (group commit): a durable commit (make_durable, one
// sync of the -wal) after every durable_every_changes stream changes, and
// one at the end of each phase. Only ratios measured in this one run mean
// anything on a shared machine.
//
// Then `walsim inspect`'s reads on the 1M-row store against the op log scan
// it did before, and where the bytes go (dbstat).
//
// WALSIM_BENCH_MODE=memory measures peak RSS instead: a snapshot of
// $WALSIM_BENCH_ROWS rows, then one source transaction of
// $WALSIM_BENCH_TXN_ROWS (1M) inserts (last line: snapshot_max_rss_mib=N
// txn_max_rss_mib=N ...).
//
// Last line: snapshot_rows_per_s=N stream_ops_per_s=N raw_sqlite_rows_per_s=N ratio=R
// snapshot_mib=N store_mib=N raw_mib=N inspect_ms=N scan_inspect_ms=N
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/bucket_storage.h"
#include "engine/replicator_options.h"
#include "engine/row_codec.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"

namespace walsim {
namespace {

const int64_t kRows = std::getenv("WALSIM_BENCH_ROWS") ? std::atoll(std::getenv("WALSIM_BENCH_ROWS")) : 1'000'000;
const int64_t kStreamChanges = kRows;
constexpr int64_t kSnapshotBatchRows = 10'000;
constexpr int64_t kStreamTransactionChanges = 1'000;

constexpr const char* kRules = R"(bucket_definitions:
  by_group:
    data:
      - SELECT id, grp, v FROM items WHERE grp = bucket.grp
)";

void check(const Status& status, const char* what) {
  if (status.is_ok()) return;
  std::fprintf(stderr, "storage bench: %s: %s\n", what, status.to_string().c_str());
  std::exit(1);
}

template <typename T>
T check(Result<T> result, const char* what) {
  check(result.status(), what);
  return std::move(result).value();
}

Relation items() {
  Relation relation;
  relation.relid = 1;
  relation.name = "items";
  relation.columns = {{"id", 23, true}, {"grp", 23, false}, {"v", 25, false}};
  return relation;
}

Row item(int64_t id, int64_t version) {
  return {Value::of(std::to_string(id)), Value::of(std::to_string(id % 1000)),
          Value::of("value-" + std::to_string(version))};
}

// Pages the connection's cache wrote out (to the -wal) since the last call:
// a transaction writes every page it dirtied, once.
int64_t pages_written(SqliteDb& db) {
  int current = 0, highest = 0;
  sqlite3_db_status(db.handle(), SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, /*reset=*/1);
  return current;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double snapshot_rows_per_s(BucketStorage& storage) {
  const Relation relation = items();
  auto start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < kRows; first += kSnapshotBatchRows) {
    auto batch = check(storage.snapshot_batch("items"), "snapshot batch");
    for (int64_t id = first; id < first + kSnapshotBatchRows; id++) {
      batch->copy_row(relation, item(id, 0));
    }
    batch->set_resume_key({Value::of(std::to_string(first + kSnapshotBatchRows - 1))});
    check(batch->commit(Lsn::zero()), "snapshot commit");
  }
  check(storage.make_durable(Lsn::zero()), "durable commit");
  return kRows / seconds_since(start);
}

double stream_ops_per_s(BucketStorage& storage) {
  const Relation relation = items();
  check(storage.mark_table_snapshot_done("items", Lsn(1)), "mark table done");
  check(storage.mark_all_snapshot_done(Lsn(1)), "mark all done");
  auto batch = storage.stream_batch();
  const int64_t durable_every_changes = ReplicatorOptions{}.durable_every_changes;
  auto start = std::chrono::steady_clock::now();
  uint64_t lsn = 16;
  for (int64_t change = 0; change < kStreamChanges; change++) {
    // Spread over the key space; every fifth change deletes.
    int64_t id = (change * 7919) % kRows;
    if (change % 5 == 4) batch->remove(relation, {Value::of(std::to_string(id)), Value::null(),
                                                  Value::null()});
    else batch->update(relation, std::nullopt, item(id, change + 1));
    if ((change + 1) % kStreamTransactionChanges == 0) {
      check(batch->commit(Lsn(lsn += 16)), "stream commit");
    }
    if ((change + 1) % durable_every_changes == 0) {
      check(storage.make_durable(Lsn(lsn)), "durable commit");
    }
  }
  check(storage.make_durable(Lsn(lsn)), "durable commit");
  return kStreamChanges / seconds_since(start);
}

double raw_sqlite_rows_per_s(SqliteDb& db) {
  check(db.exec("CREATE TABLE raw (id TEXT PRIMARY KEY, data TEXT NOT NULL)"), "create raw");
  auto start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < kRows; first += kSnapshotBatchRows) {
    check(in_transaction(db, [&]() -> Status {
            WALSIM_ASSIGN_OR_RETURN(ScopedStatement insert,
                                    db.prepare("INSERT INTO raw (id, data) VALUES (?1, ?2)"));
            for (int64_t id = first; id < first + kSnapshotBatchRows; id++) {
              insert->reset();
              Row row = item(id, 0);
              WALSIM_RETURN_IF_ERROR(
                  insert->bind(1, row_id_of({row[0]})).bind(2, encode_row(row)).run());
            }
            return Status::ok();
          }),
          "raw insert");
  }
  return kRows / seconds_since(start);
}

// What `walsim inspect` reads (cli/inspect_command.cc): the checkpoint, the
// bucket totals and the ops after the checkpoint, in one read transaction.
double inspect_ms(SqliteDb& db, BucketStorage& storage) {
  auto start = std::chrono::steady_clock::now();
  size_t buckets = 0;
  check(in_read_transaction(db, [&]() -> Status {
          WALSIM_ASSIGN_OR_RETURN(auto checkpoint, storage.checkpoint());
          WALSIM_ASSIGN_OR_RETURN(auto totals, storage.bucket_totals());
          WALSIM_ASSIGN_OR_RETURN(auto after, storage.ops_after(checkpoint ? checkpoint->op_id : 0,
                                                                200000));
          buckets = totals.size() + (after ? after->size() : 0);
          return Status::ok();
        }),
        "inspect");
  WALSIM_ASSERT(buckets > 0, "the store has buckets");
  return seconds_since(start) * 1000;
}

// What `walsim inspect` did before the totals: every bucket's ops reduced
// and summed up to the checkpoint.
double scan_inspect_ms(BucketStorage& storage) {
  auto start = std::chrono::steady_clock::now();
  const int64_t up_to = check(storage.checkpoint(), "checkpoint")->op_id;
  int64_t rows = 0;
  for (const std::string& bucket : check(storage.buckets(up_to), "buckets")) {
    auto ops = check(storage.bucket_ops(bucket, 0, up_to), "bucket ops");
    check(storage.bucket_checksum(bucket, up_to), "checksum");
    for (const auto& [row, op] : reduce_ops(ops)) rows += op.kind == OpKind::kPut;
  }
  WALSIM_ASSERT(rows > 0, "the store has rows");
  return seconds_since(start) * 1000;
}

// Bytes per table and index (SQLite's dbstat), biggest first, and the total.
double print_bytes(SqliteDb& db, const char* what) {
  auto stmt = check(db.prepare("SELECT name, count(*), sum(pgsize), sum(payload) FROM dbstat"
                               " GROUP BY name ORDER BY 3 DESC"),
                    "dbstat");
  double total_mib = 0;
  std::printf("%s bytes (dbstat):", what);
  while (check(stmt->step(), "dbstat row")) {
    const double mib = stmt->int64(2) / 1048576.0;
    total_mib += mib;
    if (mib >= 0.1) {
      std::printf(" %s=%.1fMiB(payload %.1f)", stmt->text(0).c_str(), mib,
                  stmt->int64(3) / 1048576.0);
    }
  }
  std::printf(" total=%.1fMiB\n", total_mib);
  return total_mib;
}

// The process's peak resident set so far, in MiB (ru_maxrss is in KiB).
double max_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// One source transaction of `changes` inserts, persisted as the streamer
// persists a long one: flushed every stream_flush_changes with the
// transaction's commit LSN raising no_checkpoint_before, then committed.
void one_long_transaction(BucketStorage& storage, int64_t first_id, int64_t changes) {
  const Relation relation = items();
  const size_t flush_changes = ReplicatorOptions{}.stream_flush_changes;
  const Lsn commit_lsn(1ull << 40);
  auto batch = storage.stream_batch();
  for (int64_t id = first_id; id < first_id + changes; id++) {
    batch->insert(relation, item(id, 0));
    if (batch->buffered() >= flush_changes) check(batch->flush(commit_lsn), "flush");
  }
  check(batch->commit(commit_lsn), "commit the long transaction");
  check(storage.make_durable(commit_lsn), "durable commit");
}

// WALSIM_BENCH_MODE=memory: peak RSS of a snapshot of kRows rows, then of
// one source transaction of WALSIM_BENCH_TXN_ROWS (default 1M) rows.
int run_memory() {
  auto dir = std::filesystem::temp_directory_path() / ("walsim-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto rules = check(BucketRules::parse(kRules), "rules");
  const char* txn_env = std::getenv("WALSIM_BENCH_TXN_ROWS");
  const int64_t txn_rows = txn_env ? std::atoll(txn_env) : 1'000'000;
  double snapshot_rss, txn_rss, snapshot, txn_s;
  {
    auto db = check(SqliteDb::open((dir / "store.db").string()), "open store");
    auto storage = check(BucketStorage::open(*db, rules, {}), "open storage");
    check(storage->register_table(items()), "register");
    const double start_rss = max_rss_mib();
    snapshot = snapshot_rows_per_s(*storage);
    snapshot_rss = max_rss_mib();
    std::printf("snapshot: %lld rows at %.0f rows/s, peak RSS %.0f MiB (%.0f MiB before)\n",
                static_cast<long long>(kRows), snapshot, snapshot_rss, start_rss);
    check(storage->mark_table_snapshot_done("items", Lsn(1)), "mark table done");
    check(storage->mark_all_snapshot_done(Lsn(1)), "mark all done");
    auto start = std::chrono::steady_clock::now();
    one_long_transaction(*storage, kRows, txn_rows);
    txn_s = seconds_since(start);
    txn_rss = max_rss_mib();
    std::printf("one transaction of %lld inserts in %.1f s, peak RSS %.0f MiB\n",
                static_cast<long long>(txn_rows), txn_s, txn_rss);
  }
  // WALSIM_BENCH_KEEP_STORE=1: leave the store for `walsim inspect` to time.
  if (std::getenv("WALSIM_BENCH_KEEP_STORE")) std::printf("store kept: %s\n", dir.c_str());
  else std::filesystem::remove_all(dir);
  std::printf("snapshot_rows=%lld snapshot_rows_per_s=%.0f snapshot_max_rss_mib=%.0f txn_rows=%lld"
              " txn_s=%.1f txn_max_rss_mib=%.0f\n",
              static_cast<long long>(kRows), snapshot, snapshot_rss,
              static_cast<long long>(txn_rows), txn_s, txn_rss);
  return 0;
}

int run() {
  auto dir = std::filesystem::temp_directory_path() / ("walsim-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto rules = check(BucketRules::parse(kRules), "rules");
  double snapshot, stream, raw, inspect, scan_inspect, store_mib, snapshot_mib, raw_mib;
  int64_t snapshot_pages = 0, stream_pages = 0, raw_pages = 0;
  {
    auto db = check(SqliteDb::open((dir / "store.db").string()), "open store");
    auto storage = check(BucketStorage::open(*db, rules, {}), "open storage");
    check(storage->register_table(items()), "register");
    std::printf("store: journal_mode=%s synchronous=%s, durable commits (synchronous=%s) every"
                " %lld stream changes\n",
                StoreSettings::kJournalMode, StoreSettings::kSynchronous,
                StoreSettings::kSynchronousDurable,
                static_cast<long long>(ReplicatorOptions{}.durable_every_changes));
    std::printf("snapshot: %lld rows in batches of %lld...\n", static_cast<long long>(kRows),
                static_cast<long long>(kSnapshotBatchRows));
    std::fflush(stdout);
    pages_written(*db);
    snapshot = snapshot_rows_per_s(*storage);
    snapshot_pages = pages_written(*db);
    snapshot_mib = print_bytes(*db, "store after the snapshot");
    std::printf("snapshot: %.0f rows/s\nstream: %lld changes...\n", snapshot,
                static_cast<long long>(kStreamChanges));
    std::fflush(stdout);
    stream = stream_ops_per_s(*storage);
    stream_pages = pages_written(*db);
    std::printf("stream: %.0f changes/s\n", stream);
    store_mib = print_bytes(*db, "store after the stream");
    inspect = inspect_ms(*db, *storage);
    scan_inspect = scan_inspect_ms(*storage);
    std::printf("inspect: %.1f ms from the bucket totals, %.0f ms scanning the op log\n", inspect,
                scan_inspect);
  }
  {
    auto db = check(SqliteDb::open((dir / "raw.db").string()), "open raw");
    pages_written(*db);
    raw = raw_sqlite_rows_per_s(*db);
    raw_pages = pages_written(*db);
    std::printf("raw sqlite: %.0f rows/s\n", raw);
    raw_mib = print_bytes(*db, "raw sqlite");
  }
  std::filesystem::remove_all(dir);
  std::printf("pages written to the -wal per 1000 rows or changes: snapshot %.0f, stream %.0f,"
              " raw sqlite %.0f\n",
              snapshot_pages * 1000.0 / kRows, stream_pages * 1000.0 / kStreamChanges,
              raw_pages * 1000.0 / kRows);
  std::printf("snapshot_rows_per_s=%.0f stream_ops_per_s=%.0f raw_sqlite_rows_per_s=%.0f"
              " ratio=%.2f snapshot_mib=%.1f store_mib=%.1f raw_mib=%.1f inspect_ms=%.1f"
              " scan_inspect_ms=%.0f snapshot_pages_per_krow=%.0f raw_pages_per_krow=%.0f\n",
              snapshot, stream, raw, snapshot / raw, snapshot_mib, store_mib, raw_mib, inspect,
              scan_inspect, snapshot_pages * 1000.0 / kRows, raw_pages * 1000.0 / kRows);
  return 0;
}

}  // namespace
}  // namespace walsim

int main() {
  const char* mode = std::getenv("WALSIM_BENCH_MODE");
  if (mode && std::string(mode) == "memory") return walsim::run_memory();
  return walsim::run();
}
