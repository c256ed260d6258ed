// Compaction benchmark (issue 11 item 3): the store's size before and after
// `walsim compact`'s work on a store that went through three recopies of
// the same rows.
//
// Method: $WALSIM_BENCH_ROWS rows (default 1M; one bucket per 1000 rows)
// are copied through snapshot batches of 10k rows and published; then the
// table is re-created three times (a new relid: every row gets a REMOVE and
// the table is copied again, as a recopy does live), each copy published
// by a stream commit and a durable commit. So the op log holds 7 ops per
// row (4 PUTs, 3 REMOVEs), 1 of which is live. Then the compactor runs up
// to the published checkpoint, and VACUUM reclaims the space. Sizes are the
// database file after its -wal was folded in and emptied.
//
// Last line: rows=N recopies=3 ops_before=N ops_after=N store_mib_before=N
// store_mib_after=N shrink_ratio=R compact_s=N vacuum_s=N
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "engine/bucket_storage.h"
#include "engine/compactor.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"

namespace walsim {
namespace {

const int64_t kRows =
    std::getenv("WALSIM_BENCH_ROWS") ? std::atoll(std::getenv("WALSIM_BENCH_ROWS")) : 1'000'000;
constexpr int kRecopies = 3;
constexpr int64_t kSnapshotBatchRows = 10'000;

constexpr const char* kRules = R"(bucket_definitions:
  by_group:
    data:
      - SELECT id, grp, v FROM items WHERE grp = bucket.grp
)";

void check(const Status& status, const char* what) {
  if (status.is_ok()) return;
  std::fprintf(stderr, "compaction bench: %s: %s\n", what, status.to_string().c_str());
  std::exit(1);
}

template <typename T>
T check(Result<T> result, const char* what) {
  check(result.status(), what);
  return std::move(result).value();
}

Relation items(int64_t relid) {
  Relation relation;
  relation.relid = static_cast<uint32_t>(relid);
  relation.name = "items";
  relation.columns = {{"id", 23, true}, {"grp", 23, false}, {"v", 25, false}};
  return relation;
}

Row item(int64_t id, int copy) {
  return {Value::of(std::to_string(id)), Value::of(std::to_string(id % 1000)),
          Value::of("value-" + std::to_string(id) + "-copy-" + std::to_string(copy))};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One full copy of the table, then published at `lsn` (one stream commit of
// one update creates the checkpoint; a durable commit publishes it).
void copy_and_publish(BucketStorage& storage, const Relation& relation, int copy, uint64_t lsn) {
  for (int64_t first = 0; first < kRows; first += kSnapshotBatchRows) {
    auto batch = check(storage.snapshot_batch("items"), "snapshot batch");
    const int64_t end = std::min(kRows, first + kSnapshotBatchRows);
    for (int64_t id = first; id < end; id++) batch->copy_row(relation, item(id, copy));
    batch->set_resume_key({Value::of(std::to_string(end - 1))});
    check(batch->commit(Lsn::zero()), "snapshot commit");
  }
  check(storage.mark_table_snapshot_done("items", Lsn(lsn)), "mark table done");
  check(storage.mark_all_snapshot_done(Lsn(lsn)), "mark all done");
  auto stream = storage.stream_batch();
  stream->update(relation, std::nullopt, item(0, copy));
  check(stream->commit(Lsn(lsn + 16)), "stream commit");
  check(storage.make_durable(Lsn(lsn + 16)), "durable commit");
}

double mib_of(const std::string& path) {
  return static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
}

int64_t op_count(BucketStorage& storage) {
  int64_t ops = 0;
  for (const BucketTotals& bucket : check(storage.bucket_totals(), "totals")) ops += bucket.ops;
  return ops;
}

int run() {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("walsim-compaction-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/store.db";
  auto rules = check(BucketRules::parse(kRules), "rules");
  auto db = check(SqliteDb::open(path), "open");
  auto storage = check(BucketStorage::open(*db, rules, {}), "storage");
  uint64_t lsn = 16;
  for (int copy = 0; copy <= kRecopies; copy++) {
    // A new relid: the table was re-created, so every row is removed and copied again.
    check(storage->register_table(items(copy + 1)), "register");
    copy_and_publish(*storage, items(copy + 1), copy, lsn += 64);
    std::fprintf(stderr, "compaction bench: copy %d of %d done\n", copy + 1, kRecopies + 1);
  }
  check(reclaim_space(*db, /*vacuum=*/false), "fold the -wal");
  const double mib_before = mib_of(path);
  const int64_t ops_before = op_count(*storage);

  auto start = std::chrono::steady_clock::now();
  const CompactionStats stats = check(storage->compact(std::nullopt), "compact");
  const double compact_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  check(reclaim_space(*db, /*vacuum=*/true), "vacuum");
  const double vacuum_s = seconds_since(start);
  const double mib_after = mib_of(path);
  const int64_t ops_after = op_count(*storage);
  std::fprintf(stderr, "compaction bench: %lld buckets, %lld ops moved, %lld folded into %lld CLEARs\n",
               static_cast<long long>(stats.buckets_done), static_cast<long long>(stats.ops_moved),
               static_cast<long long>(stats.ops_deleted), static_cast<long long>(stats.clears));
  storage.reset();
  db.reset();
  std::filesystem::remove_all(dir);
  std::printf("rows=%lld recopies=%d ops_before=%lld ops_after=%lld store_mib_before=%.1f"
              " store_mib_after=%.1f shrink_ratio=%.2f compact_s=%.2f vacuum_s=%.2f\n",
              static_cast<long long>(kRows), kRecopies, static_cast<long long>(ops_before),
              static_cast<long long>(ops_after), mib_before, mib_after, mib_before / mib_after,
              compact_s, vacuum_s);
  return 0;
}

}  // namespace
}  // namespace walsim

int main() { return walsim::run(); }
