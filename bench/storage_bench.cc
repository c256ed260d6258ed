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
// Last line: snapshot_rows_per_s=N stream_ops_per_s=N raw_sqlite_rows_per_s=N ratio=R
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

int run() {
  auto dir = std::filesystem::temp_directory_path() / ("walsim-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto rules = check(BucketRules::parse(kRules), "rules");
  double snapshot, stream, raw;
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
    snapshot = snapshot_rows_per_s(*storage);
    std::printf("snapshot: %.0f rows/s\nstream: %lld changes...\n", snapshot,
                static_cast<long long>(kStreamChanges));
    std::fflush(stdout);
    stream = stream_ops_per_s(*storage);
    std::printf("stream: %.0f changes/s\n", stream);
  }
  {
    auto db = check(SqliteDb::open((dir / "raw.db").string()), "open raw");
    raw = raw_sqlite_rows_per_s(*db);
    std::printf("raw sqlite: %.0f rows/s\n", raw);
  }
  std::filesystem::remove_all(dir);
  std::printf("snapshot_rows_per_s=%.0f stream_ops_per_s=%.0f raw_sqlite_rows_per_s=%.0f ratio=%.2f\n",
              snapshot, stream, raw, snapshot / raw);
  return 0;
}

}  // namespace
}  // namespace walsim

int main() { return walsim::run(); }
