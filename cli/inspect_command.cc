#include "cli/inspect_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_storage.h"
#include "engine/storage_schema.h"
#include "live/store_slot.h"

namespace walsim {

namespace {

struct BucketSummary {
  std::string bucket;
  int64_t rows = 0;
  uint32_t checksum = 0;
};

struct StoreSummary {
  ReplicationState state;
  std::optional<Checkpoint> checkpoint;
  std::vector<TableState> tables;
  std::vector<int64_t> live_rows;  // per table, same order
  std::vector<BucketSummary> buckets;
};

Result<StoreSummary> summarize(BucketStorage& storage) {
  StoreSummary summary;
  WALSIM_ASSIGN_OR_RETURN(summary.state, storage.replication_state());
  WALSIM_ASSIGN_OR_RETURN(summary.checkpoint, storage.checkpoint());
  WALSIM_ASSIGN_OR_RETURN(summary.tables, storage.tables());
  for (const TableState& table : summary.tables) {
    WALSIM_ASSIGN_OR_RETURN(int64_t live, storage.live_row_count(table.table));
    summary.live_rows.push_back(live);
  }
  if (!summary.checkpoint) return summary;
  const int64_t up_to = summary.checkpoint->op_id;
  WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> buckets, storage.buckets(up_to));
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<StoredOp> ops, storage.bucket_ops(bucket, 0, up_to));
    WALSIM_ASSIGN_OR_RETURN(uint32_t checksum, storage.bucket_checksum(bucket, up_to));
    int64_t rows = 0;
    for (const auto& [row, op] : reduce_ops(ops)) rows += op.kind == OpKind::kPut;
    summary.buckets.push_back({bucket, rows, checksum});
  }
  return summary;
}

std::string optional_text(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : "none";
}

std::string optional_text(const std::optional<Lsn>& value) {
  return value ? value->to_string() : "none";
}

void print_text(const std::string& path, const StoreSummary& s) {
  std::printf("store: %s\n", path.c_str());
  if (s.checkpoint) {
    std::printf("checkpoint: op %lld at LSN %s\n", static_cast<long long>(s.checkpoint->op_id),
                s.checkpoint->lsn.to_string().c_str());
  } else {
    std::printf("checkpoint: none published yet\n");
  }
  std::printf("state: snapshot_done=%s no_checkpoint_before=%s keepalive_op=%s\n",
              s.state.snapshot_done ? "true" : "false",
              optional_text(s.state.no_checkpoint_before).c_str(),
              optional_text(s.state.keepalive_op).c_str());
  std::printf("tables (%zu):\n", s.tables.size());
  for (size_t i = 0; i < s.tables.size(); i++) {
    const TableState& t = s.tables[i];
    std::printf("  %-24s snapshot %-8s rows_copied=%lld live_rows=%lld\n", t.table.c_str(),
                t.snapshot_done ? "done" : "pending", static_cast<long long>(t.rows_copied),
                static_cast<long long>(s.live_rows[i]));
  }
  std::printf("buckets at the checkpoint (%zu):\n", s.buckets.size());
  for (const BucketSummary& b : s.buckets) {
    std::printf("  %-40s rows=%lld checksum=%08x\n", b.bucket.c_str(),
                static_cast<long long>(b.rows), b.checksum);
  }
}

void print_json(const std::string& path, const StoreSummary& s) {
  using json = nlohmann::ordered_json;
  json out;
  out["store"] = path;
  out["checkpoint"] = s.checkpoint ? json{{"op_id", s.checkpoint->op_id},
                                          {"lsn", s.checkpoint->lsn.to_string()}}
                                   : json(nullptr);
  out["snapshot_done"] = s.state.snapshot_done;
  out["no_checkpoint_before"] =
      s.state.no_checkpoint_before ? json(s.state.no_checkpoint_before->to_string()) : json();
  out["keepalive_op"] = s.state.keepalive_op ? json(*s.state.keepalive_op) : json();
  out["tables"] = json::array();
  for (size_t i = 0; i < s.tables.size(); i++) {
    out["tables"].push_back({{"name", s.tables[i].table},
                             {"snapshot_done", s.tables[i].snapshot_done},
                             {"rows_copied", s.tables[i].rows_copied},
                             {"live_rows", s.live_rows[i]}});
  }
  out["buckets"] = json::array();
  for (const BucketSummary& b : s.buckets) {
    out["buckets"].push_back({{"bucket", b.bucket}, {"rows", b.rows}, {"checksum", b.checksum}});
  }
  std::cout << out.dump(2) << "\n";
}

}  // namespace

int inspect_command(int argc, char** argv) {
  CLI::App app("Print a bucket store's checkpoint, buckets and snapshot state.", "walsim inspect");
  std::string path;
  bool as_json = false;
  app.add_option("--store", path, "the walsim store (SQLite file)")->required();
  app.add_flag("--json", as_json, "print JSON instead of text");
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  Status status = check_not_directory(path);
  auto db = status.is_ok() ? SqliteDb::open(path, /*create=*/false)
                           : Result<std::unique_ptr<SqliteDb>>(status);
  status = db.is_ok() ? check_store_schema(**db) : db.status();
  if (!status.is_ok()) {
    std::fprintf(stderr, "walsim inspect: %s\n", status.message().c_str());
    return kExitUsage;
  }
  static const BucketRules kNoRules;
  auto storage = BucketStorage::open(**db, kNoRules, {});
  auto summary = storage.is_ok() ? summarize(**storage) : Result<StoreSummary>(storage.status());
  if (!summary.is_ok()) {
    std::fprintf(stderr, "walsim inspect: %s\n", summary.status().to_string().c_str());
    return kExitFailed;
  }
  if (as_json) print_json(path, *summary);
  else print_text(path, *summary);
  return kExitOk;
}

}  // namespace walsim
