#include "sim/replay_file.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace walsim::sim {

namespace {

using json = nlohmann::ordered_json;

// The format names every fault kind and workload op. Reading requires the
// ones the first files had (11 fault kinds, 6 ops); kinds added since (the
// disk's, from power_loss on) read as 0 (off) when missing, so older files
// replay as they were written. A new kind joins that optional group, or
// needs a new format.
constexpr size_t kFaultKindsInFirstFiles = static_cast<size_t>(FaultKind::kPowerLoss);
// Issue 10 part B added slot_dropped, fresh_cluster, second_writer and
// rules_edited; part A publication_change, reader_disconnect and
// server_restart; the DDL part table_recreated and table_recreated_while_down;
// issue 11 item 3 compaction; the DDL part's identity_changed (all optional,
// off in older files).
static_assert(kFaultKindsInFirstFiles == 11 && kFaultKinds == 35 && kWorkloadOps == 6,
              "walsim-replay-1: 11 required fault kinds, 24 optional, 6 workload ops; see above");

json workload_json(const WorkloadParams& w) {
  json ops = json::object();
  for (size_t i = 0; i < kWorkloadOps; i++) {
    ops[workload_op_name(static_cast<WorkloadOp>(i))] = w.op_weights[i];
  }
  return {{"tables", w.tables},
          {"rows_per_table", w.rows_per_table},
          {"transactions", w.transactions},
          {"owners", w.owners},
          {"op_weights", ops},
          {"changes_per_txn_max", w.changes_per_txn_max},
          {"empty_txn_percent", w.empty_txn_percent},
          {"long_txn_percent", w.long_txn_percent},
          {"long_txn_changes_max", w.long_txn_changes_max},
          {"hot_key_percent", w.hot_key_percent},
          {"reinsert_percent", w.reinsert_percent},
          {"toast_percent", w.toast_percent},
          {"wal_noise_percent", w.wal_noise_percent},
          {"full_identity_percent", w.full_identity_percent}};
}

json faults_json(const FaultPlan& plan) {
  json faults = json::object();
  for (size_t i = 0; i < kFaultKinds; i++) {
    faults[fault_name(static_cast<FaultKind>(i))] = plan[i];
  }
  return faults;
}

// Reads `key` of `object` into `out`, with the field's path in the error.
template <typename T>
void read(const json& object, const char* key, T& out, const std::string& path) {
  if (!object.contains(key)) throw std::runtime_error("missing field " + path + "." + key);
  try {
    out = object.at(key).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error("field " + path + "." + key + " has the wrong type");
  }
}

void read_workload(const json& j, WorkloadParams& w) {
  read(j, "tables", w.tables, "workload");
  read(j, "rows_per_table", w.rows_per_table, "workload");
  read(j, "transactions", w.transactions, "workload");
  read(j, "owners", w.owners, "workload");
  if (!j.contains("op_weights")) throw std::runtime_error("missing field workload.op_weights");
  for (size_t i = 0; i < kWorkloadOps; i++) {
    read(j.at("op_weights"), workload_op_name(static_cast<WorkloadOp>(i)), w.op_weights[i],
         "workload.op_weights");
  }
  read(j, "changes_per_txn_max", w.changes_per_txn_max, "workload");
  read(j, "empty_txn_percent", w.empty_txn_percent, "workload");
  read(j, "long_txn_percent", w.long_txn_percent, "workload");
  read(j, "long_txn_changes_max", w.long_txn_changes_max, "workload");
  read(j, "hot_key_percent", w.hot_key_percent, "workload");
  read(j, "reinsert_percent", w.reinsert_percent, "workload");
  read(j, "toast_percent", w.toast_percent, "workload");
  read(j, "wal_noise_percent", w.wal_noise_percent, "workload");
  read(j, "full_identity_percent", w.full_identity_percent, "workload");
}

// The schedule mode and its knobs came after walsim-replay-1's first
// files: a file without "mode" ran the weighted random choice, and still
// does; a mode's knobs are read only when the file names a mode.
void read_schedule(const json& scheduler, SchedulerParams& s) {
  if (!scheduler.contains("mode")) {
    s.mode = ScheduleMode::kRandom;
    return;
  }
  std::string mode;
  read(scheduler, "mode", mode, "scheduler");
  auto parsed = parse_schedule_mode(mode);
  if (!parsed) throw std::runtime_error("field scheduler.mode: unknown mode '" + mode + "'");
  s.mode = *parsed;
  read(scheduler, "pct_depth", s.pct_depth, "scheduler");
  read(scheduler, "pct_steps", s.pct_steps, "scheduler");
  read(scheduler, "hold_percent", s.hold_percent, "scheduler");
  read(scheduler, "hold_picks_max", s.hold_picks_max, "scheduler");
  read(scheduler, "hold_commits_max", s.hold_commits_max, "scheduler");
}

void read_params(const json& j, SimParams& p) {
  read(j, "seed", p.seed, "params");
  if (!j.contains("workload")) throw std::runtime_error("missing field params.workload");
  read_workload(j.at("workload"), p.workload);
  const json& engine = j.at("engine");
  read(engine, "workers", p.engine.workers, "engine");
  read(engine, "chunk_rows", p.engine.chunk_rows, "engine");
  read(engine, "flush_changes", p.engine.flush_changes, "engine");
  read(engine, "empty_checkpoints", p.engine.empty_checkpoints, "engine");
  read(engine, "unsafe_hard_deletes", p.engine.unsafe_hard_deletes, "engine");
  // The canaries added with the disk: off when missing.
  for (const Canary& canary : canaries()) {
    if (engine.contains(canary.name)) read(engine, canary.name, p.engine.*canary.engine, "engine");
  }
  // Added with group commit and the op id reservation; older files run
  // with the engine's defaults.
  if (engine.contains("durable_every_transactions")) {
    read(engine, "durable_every_transactions", p.engine.durable_every_transactions, "engine");
  }
  if (engine.contains("op_ids_reserved_ahead")) {
    read(engine, "op_ids_reserved_ahead", p.engine.op_ids_reserved_ahead, "engine");
  }
  const json& scheduler = j.at("scheduler");
  read(scheduler, "writer_weight", p.scheduler.writer_weight, "scheduler");
  read(scheduler, "streamer_weight", p.scheduler.streamer_weight, "scheduler");
  read(scheduler, "snapshot_weight", p.scheduler.snapshot_weight, "scheduler");
  read(scheduler, "client_weight", p.scheduler.client_weight, "scheduler");
  read(scheduler, "clients", p.scheduler.clients, "scheduler");
  read_schedule(scheduler, p.scheduler);
  std::string mode;
  read(j, "read_mode", mode, "params");
  if (mode == read_mode_name(ReadMode::kSnapshot)) p.read_mode = ReadMode::kSnapshot;
  else if (mode == read_mode_name(ReadMode::kReadCommitted)) p.read_mode = ReadMode::kReadCommitted;
  else throw std::runtime_error("field params.read_mode: unknown mode '" + mode + "'");
  std::string lsn;
  read(j, "start_lsn", lsn, "params");
  auto parsed = Lsn::parse(lsn);
  if (!parsed) throw std::runtime_error("field params.start_lsn is not an LSN: '" + lsn + "'");
  p.start_lsn = *parsed;
  if (!j.contains("faults")) throw std::runtime_error("missing field params.faults");
  const json& faults = j.at("faults");
  for (size_t i = 0; i < kFaultKinds; i++) {
    const char* name = fault_name(static_cast<FaultKind>(i));
    if (i >= kFaultKindsInFirstFiles && !faults.contains(name)) {
      p.faults[i] = 0;
      continue;
    }
    read(faults, name, p.faults[i], "faults");
  }
  read(j, "safety_steps_max", p.safety_steps_max, "params");
  read(j, "heal_steps_max", p.heal_steps_max, "params");
}

}  // namespace

std::string to_json(const ReplayFile& file) {
  const SimParams& p = file.params;
  json params = {
      {"seed", p.seed},
      {"workload", workload_json(p.workload)},
      {"engine",
       {{"workers", p.engine.workers},
        {"chunk_rows", p.engine.chunk_rows},
        {"flush_changes", p.engine.flush_changes},
        {"empty_checkpoints", p.engine.empty_checkpoints},
        {"unsafe_hard_deletes", p.engine.unsafe_hard_deletes},
        {"durable_every_transactions", p.engine.durable_every_transactions},
        {"op_ids_reserved_ahead", p.engine.op_ids_reserved_ahead}}},
      {"scheduler",
       {{"writer_weight", p.scheduler.writer_weight},
        {"streamer_weight", p.scheduler.streamer_weight},
        {"snapshot_weight", p.scheduler.snapshot_weight},
        {"client_weight", p.scheduler.client_weight},
        {"clients", p.scheduler.clients},
        {"mode", schedule_mode_name(p.scheduler.mode)},
        {"pct_depth", p.scheduler.pct_depth},
        {"pct_steps", p.scheduler.pct_steps},
        {"hold_percent", p.scheduler.hold_percent},
        {"hold_picks_max", p.scheduler.hold_picks_max},
        {"hold_commits_max", p.scheduler.hold_commits_max}}},
      {"read_mode", read_mode_name(p.read_mode)},
      {"start_lsn", p.start_lsn.to_string()},
      {"faults", faults_json(p.faults)},
      {"safety_steps_max", p.safety_steps_max},
      {"heal_steps_max", p.heal_steps_max}};
  for (const Canary& canary : canaries()) params["engine"][canary.name] = p.engine.*canary.engine;
  json out = {{"format", "walsim-replay-1"}, {"expect", file.expect}, {"note", file.note}};
  if (!file.reverts.empty()) out["reverts"] = file.reverts;  // optional: older files lack it
  out["params"] = params;
  return out.dump(2) + "\n";
}

Result<ReplayFile> replay_from_json(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "not a JSON object");
  }
  ReplayFile file;
  try {
    std::string format;
    read(parsed, "format", format, "file");
    if (format != "walsim-replay-1") {
      throw std::runtime_error("unknown format '" + format + "' (this build reads walsim-replay-1)");
    }
    read(parsed, "expect", file.expect, "file");
    if (parsed.contains("note")) read(parsed, "note", file.note, "file");
    if (parsed.contains("reverts")) read(parsed, "reverts", file.reverts, "file");
    if (!parsed.contains("params")) throw std::runtime_error("missing field file.params");
    read_params(parsed.at("params"), file.params);
  } catch (const std::exception& error) {
    return Status(ErrorCode::kInvalidArgument, error.what());
  }
  return file;
}

Result<ReplayFile> load_replay_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kInvalidArgument, "cannot read replay file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  auto file = replay_from_json(text.str());
  if (!file.is_ok()) {
    return Status(ErrorCode::kInvalidArgument, path + ": " + file.status().message());
  }
  return file;
}

Status save_replay_file(const std::string& path, const ReplayFile& file) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << to_json(file);
    if (!out) return Status(ErrorCode::kIoError, "cannot write '" + temporary + "'");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status(ErrorCode::kIoError, "cannot rename '" + temporary + "' to '" + path + "'");
  }
  return Status::ok();
}

}  // namespace walsim::sim
