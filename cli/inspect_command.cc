#include "cli/inspect_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_storage.h"
#include "engine/storage_schema.h"
#include "live/store_slot.h"

namespace walsim {

namespace {

// Reads only one row per bucket (bucket_totals) and the ops past the
// checkpoint, never the whole log: an operator may run it every second
// against a store of millions of rows while `walsim replicate` writes.
constexpr int64_t kPendingOpsReadMax = 200000;

struct BucketSummary {
  BucketTotals totals;  // as of the newest op written
  // At the published checkpoint (what a client verifies), when known: the
  // totals less the ops after it; unknown when more than kPendingOpsReadMax
  // ops wait past it.
  std::optional<uint32_t> checkpoint_checksum;
  std::optional<int64_t> pending_ops;  // ops after the checkpoint
};

struct StoreSummary {
  ReplicationState state;
  std::optional<Checkpoint> checkpoint;
  CheckpointVersions checkpoint_versions;  // the rules version of each checkpoint
  std::vector<RulesVersion> versions;
  std::vector<TableState> tables;
  std::vector<int64_t> live_rows;  // per table, same order; only with --count-rows
  int64_t newest_op = 0;
  std::vector<BucketSummary> buckets;
};

Result<StoreSummary> summarize(BucketStorage& storage, bool count_rows) {
  StoreSummary summary;
  WALSIM_ASSIGN_OR_RETURN(summary.state, storage.replication_state());
  WALSIM_ASSIGN_OR_RETURN(summary.checkpoint, storage.checkpoint());
  WALSIM_ASSIGN_OR_RETURN(summary.checkpoint_versions, storage.checkpoint_versions());
  WALSIM_ASSIGN_OR_RETURN(summary.versions, storage.rules_versions());
  WALSIM_ASSIGN_OR_RETURN(summary.tables, storage.tables());
  for (const TableState& table : summary.tables) {
    if (!count_rows) break;
    WALSIM_ASSIGN_OR_RETURN(int64_t live, storage.live_row_count(table.table));
    summary.live_rows.push_back(live);
  }
  WALSIM_ASSIGN_OR_RETURN(std::vector<BucketTotals> totals, storage.bucket_totals());
  std::optional<std::map<std::string, OpsAfter>> after;
  if (summary.checkpoint) {
    WALSIM_ASSIGN_OR_RETURN(after, storage.ops_after(summary.checkpoint->op_id,
                                                     kPendingOpsReadMax));
  }
  for (BucketTotals& bucket : totals) {
    summary.newest_op = std::max(summary.newest_op, bucket.last_op_id);
    BucketSummary row{std::move(bucket), std::nullopt, std::nullopt};
    if (after) {
      auto found = after->find(row.totals.bucket);
      const OpsAfter pending = found == after->end() ? OpsAfter{} : found->second;
      WALSIM_ASSERT(pending.ops <= row.totals.ops, "the ops after a checkpoint are in the totals");
      row.checkpoint_checksum = row.totals.checksum - pending.checksum;
      row.pending_ops = pending.ops;
    }
    summary.buckets.push_back(std::move(row));
  }
  return summary;
}

std::string optional_text(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : "none";
}

std::string optional_text(const std::optional<Lsn>& value) {
  return value ? value->to_string() : "none";
}

std::string lsn_or(const std::optional<Lsn>& value, const char* otherwise) {
  return value ? value->to_string() : otherwise;
}

// Where a version is: what it serves, or what it waits for.
std::string version_progress(const StoreSummary& s, const RulesVersion& version) {
  const bool published = s.checkpoint && s.checkpoint_versions.published == version.id;
  switch (version.state) {
    case VersionState::kActive:
      return published ? "serving checkpoint op " + std::to_string(s.checkpoint->op_id)
                       : "serving, no checkpoint of its own published yet";
    case VersionState::kBuilding:
      return "building since LSN " + lsn_or(version.created_lsn, "0/0");
    case VersionState::kRetired:
      return "retired, never published again";
  }
  return "";
}

void print_versions(const StoreSummary& s) {
  std::printf("rules versions (%zu):\n", s.versions.size());
  for (const RulesVersion& version : s.versions) {
    std::printf("  %lld %-8s definitions=%zu created=%s activated=%s: %s\n",
                static_cast<long long>(version.id), version_state_name(version.state),
                version.definitions.size(), lsn_or(version.created_lsn, "start").c_str(),
                lsn_or(version.activated_lsn, version.state == VersionState::kBuilding
                                                  ? "not yet" : "start").c_str(),
                version_progress(s, version).c_str());
    for (const DefinitionFingerprint& definition : version.definitions) {
      std::printf("    %-30s %s\n", definition.name.c_str(), definition.fingerprint.c_str());
    }
  }
}

void print_text(const std::string& path, const StoreSummary& s) {
  std::printf("store: %s\n", path.c_str());
  if (s.checkpoint) {
    std::printf("checkpoint: op %lld at LSN %s", static_cast<long long>(s.checkpoint->op_id),
                s.checkpoint->lsn.to_string().c_str());
    if (s.checkpoint_versions.published) {
      std::printf(" (rules version %lld)", static_cast<long long>(*s.checkpoint_versions.published));
    }
    std::printf("\n");
  } else {
    std::printf("checkpoint: none published yet\n");
  }
  print_versions(s);
  std::printf("state: snapshot_done=%s no_checkpoint_before=%s keepalive_op=%s\n",
              s.state.snapshot_done ? "true" : "false",
              optional_text(s.state.no_checkpoint_before).c_str(),
              optional_text(s.state.keepalive_op).c_str());
  std::printf("tables (%zu):\n", s.tables.size());
  for (size_t i = 0; i < s.tables.size(); i++) {
    const TableState& t = s.tables[i];
    std::printf("  %-24s snapshot %-8s rows_copied=%lld", t.table.c_str(),
                t.snapshot_done ? "done" : "pending", static_cast<long long>(t.rows_copied));
    if (i < s.live_rows.size()) std::printf(" live_rows=%lld", static_cast<long long>(s.live_rows[i]));
    std::printf("\n");
  }
  std::printf("buckets (%zu), rows and ops as of op %lld; checksum at the checkpoint, ops after"
              " it pending:\n",
              s.buckets.size(), static_cast<long long>(s.newest_op));
  for (const BucketSummary& b : s.buckets) {
    std::printf("  %-40s rows=%lld ops=%lld", b.totals.bucket.c_str(),
                static_cast<long long>(b.totals.rows), static_cast<long long>(b.totals.ops));
    if (b.checkpoint_checksum) {
      std::printf(" checksum=%08x pending_ops=%lld\n", *b.checkpoint_checksum,
                  static_cast<long long>(*b.pending_ops));
    } else {
      std::printf(" checksum=unknown\n");
    }
  }
}

nlohmann::ordered_json versions_json(const StoreSummary& s) {
  using json = nlohmann::ordered_json;
  json out = json::array();
  for (const RulesVersion& v : s.versions) {
    json definitions = json::array();
    for (const DefinitionFingerprint& d : v.definitions) {
      definitions.push_back({{"name", d.name}, {"fingerprint", d.fingerprint}});
    }
    out.push_back(
        {{"id", v.id},
         {"state", version_state_name(v.state)},
         {"created_lsn", v.created_lsn ? json(v.created_lsn->to_string()) : json()},
         {"activated_lsn", v.activated_lsn ? json(v.activated_lsn->to_string()) : json()},
         {"definitions", std::move(definitions)},
         {"progress", version_progress(s, v)}});
  }
  return out;
}

void print_json(const std::string& path, const StoreSummary& s) {
  using json = nlohmann::ordered_json;
  json out;
  out["store"] = path;
  const std::optional<int64_t>& version = s.checkpoint_versions.published;
  out["checkpoint"] = s.checkpoint ? json{{"op_id", s.checkpoint->op_id},
                                          {"lsn", s.checkpoint->lsn.to_string()},
                                          {"rules_version", version ? json(*version) : json()}}
                                   : json(nullptr);
  out["rules_versions"] = versions_json(s);
  out["snapshot_done"] = s.state.snapshot_done;
  out["no_checkpoint_before"] =
      s.state.no_checkpoint_before ? json(s.state.no_checkpoint_before->to_string()) : json();
  out["keepalive_op"] = s.state.keepalive_op ? json(*s.state.keepalive_op) : json();
  out["newest_op"] = s.newest_op;
  out["tables"] = json::array();
  for (size_t i = 0; i < s.tables.size(); i++) {
    json table{{"name", s.tables[i].table},
               {"snapshot_done", s.tables[i].snapshot_done},
               {"rows_copied", s.tables[i].rows_copied}};
    if (i < s.live_rows.size()) table["live_rows"] = s.live_rows[i];
    out["tables"].push_back(std::move(table));
  }
  out["buckets"] = json::array();
  for (const BucketSummary& b : s.buckets) {
    out["buckets"].push_back(
        {{"bucket", b.totals.bucket},
         {"rows", b.totals.rows},
         {"ops", b.totals.ops},
         {"last_op_id", b.totals.last_op_id},
         {"checksum", b.checkpoint_checksum ? json(*b.checkpoint_checksum) : json()},
         {"pending_ops", b.pending_ops ? json(*b.pending_ops) : json()}});
  }
  std::cout << out.dump(2) << "\n";
}

}  // namespace

int inspect_command(int argc, char** argv) {
  CLI::App app("Print a bucket store's checkpoint, buckets and snapshot state.", "walsim inspect");
  std::string path;
  bool as_json = false;
  bool count_rows = false;
  app.add_option("--store", path, "the walsim store (SQLite file)")->required();
  app.add_flag("--json", as_json, "print JSON instead of text");
  app.add_flag("--count-rows", count_rows,
               "also count each table's live rows (reads all of current data: slow on a big store)");
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
  // One read transaction: the totals and the ops after the checkpoint must
  // be of the same state while replicate commits.
  std::optional<StoreSummary> read_summary;
  Status read = storage.status();
  if (storage.is_ok()) {
    read = in_read_transaction(**db, [&]() -> Status {
      WALSIM_ASSIGN_OR_RETURN(read_summary, summarize(**storage, count_rows));
      return Status::ok();
    });
  }
  Result<StoreSummary> summary =
      read.is_ok() ? Result<StoreSummary>(std::move(*read_summary)) : Result<StoreSummary>(read);
  if (!summary.is_ok()) {
    std::fprintf(stderr, "walsim inspect: %s\n", summary.status().to_string().c_str());
    return kExitFailed;
  }
  if (as_json) print_json(path, *summary);
  else print_text(path, *summary);
  return kExitOk;
}

}  // namespace walsim
