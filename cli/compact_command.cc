#include "cli/compact_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_storage.h"
#include "engine/storage_schema.h"
#include "engine/store_lock.h"
#include "live/store_slot.h"

namespace walsim {

namespace {

constexpr const char* kName = "walsim compact";
// A progress line at most this often (a store of many buckets takes a while).
constexpr auto kProgressInterval = std::chrono::seconds(2);

// The store's bytes on disk: the database and its -wal.
int64_t store_bytes(const std::string& path) {
  int64_t bytes = 0;
  for (const std::string& file : {path, path + "-wal"}) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (!error) bytes += static_cast<int64_t>(size);
  }
  return bytes;
}

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// A path that is no store is refused before anything is written, with the
// reader's words. An older format is not refused: compaction is a writer,
// and BucketStorage::open upgrades it (format 7 is what holds MOVE and
// CLEAR).
Status check_is_store(SqliteDb& db) {
  Status schema = check_store_schema(db);
  const bool older_format = schema.message().find("upgrades it") != std::string::npos;
  return older_format ? Status::ok() : schema;
}

void print_progress(const CompactionStats& stats) {
  std::fprintf(stderr, "%s: %lld of %lld buckets, %lld ops moved, %lld folded into CLEARs\n",
               kName, static_cast<long long>(stats.buckets_done),
               static_cast<long long>(stats.buckets_total),
               static_cast<long long>(stats.ops_moved),
               static_cast<long long>(stats.ops_deleted));
}

}  // namespace

int compact_command(int argc, char** argv) {
  CLI::App app(
      "Compact a bucket store: at or below the published checkpoint (the oldest checkpoint a\n"
      "client may still sync to), every PUT or REMOVE a later op of the same row supersedes\n"
      "becomes a MOVE (checksum kept, data dropped), and the run of MOVE/REMOVE ops at the\n"
      "start of each bucket becomes one CLEAR (checksum: their sum). Every bucket's checksum\n"
      "at the published checkpoint and after stays what clients expect. Then VACUUM reclaims\n"
      "the space. Needs the store to itself: refused while `walsim replicate` runs on it.",
      kName);
  std::string path;
  std::optional<int64_t> up_to_op;
  bool no_vacuum = false;
  app.add_option("--store", path, "the walsim store (SQLite file)")->required();
  app.add_option("--up-to-op", up_to_op,
                 "compact only ops at or below this op id (at most the published checkpoint's;"
                 " default: the published checkpoint)");
  app.add_flag("--no-vacuum", no_vacuum,
               "skip the VACUUM (it rewrites the whole file and needs as much free space again)");
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;

  Status status = check_not_directory(path);
  if (status.is_ok() && !std::filesystem::exists(path)) {
    status = Status(ErrorCode::kInvalidArgument, "'" + path + "' does not exist");
  }
  if (!status.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", kName, status.message().c_str());
    return kExitUsage;
  }
  // One writer per store, before the store is opened (engine/store_lock.h).
  FileStoreLocks locks;
  Result<std::unique_ptr<StoreLock>> lock = locks.acquire(path);
  if (!lock.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", kName, lock.status().message().c_str());
    return lock.status().code() == ErrorCode::kFailedPrecondition ? kExitFailed : kExitUsage;
  }
  auto db = SqliteDb::open(path, /*create=*/false);
  status = db.is_ok() ? check_is_store(**db) : db.status();
  if (!status.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", kName, status.message().c_str());
    return kExitUsage;
  }
  const int64_t bytes_before = store_bytes(path);
  static const BucketRules kNoRules;  // compaction reads no rules
  auto storage = BucketStorage::open(**db, kNoRules, {});
  auto last_print = std::chrono::steady_clock::now();
  auto progress = [&last_print](const CompactionStats& stats) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_print < kProgressInterval) return;
    last_print = now;
    print_progress(stats);
  };
  Result<CompactionStats> stats =
      storage.is_ok() ? (*storage)->compact(up_to_op, progress) : storage.status();
  if (!stats.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", kName, stats.status().message().c_str());
    const ErrorCode code = stats.status().code();
    const bool usage = code == ErrorCode::kInvalidArgument || code == ErrorCode::kFailedPrecondition;
    return usage ? kExitUsage : kExitFailed;
  }
  status = reclaim_space(**db, !no_vacuum);
  if (!status.is_ok()) {
    std::fprintf(stderr, "%s: compacted, but reclaiming the space failed: %s\n", kName,
                 status.to_string().c_str());
    return kExitFailed;
  }
  const int64_t bytes_after = store_bytes(path);
  std::printf("compacted %s up to op %lld: %lld buckets, %lld ops moved, %lld folded into %lld"
              " CLEARs\n",
              path.c_str(), static_cast<long long>(stats->bound_op),
              static_cast<long long>(stats->buckets_done),
              static_cast<long long>(stats->ops_moved),
              static_cast<long long>(stats->ops_deleted),
              static_cast<long long>(stats->clears));
  std::printf("store bytes: before=%lld (%s) after=%lld (%s)%s\n",
              static_cast<long long>(bytes_before), mib(bytes_before).c_str(),
              static_cast<long long>(bytes_after), mib(bytes_after).c_str(),
              no_vacuum ? " (no VACUUM: freed pages stay in the file for reuse)" : "");
  return kExitOk;
}

}  // namespace walsim
