#include "sim/params.h"

#include <algorithm>

#include "sim/prng.h"

namespace walsim::sim {

namespace {

struct PresetRanges {
  int tables_min, tables_max;
  int rows_min, rows_max;
  int transactions_min, transactions_max;
};

PresetRanges ranges_of(Preset preset) {
  switch (preset) {
    case Preset::kQuick: return {1, 2, 0, 60, 20, 150};
    case Preset::kDefault: return {1, 4, 50, 500, 200, 1500};
    case Preset::kHeavy: return {2, 4, 500, 3000, 2000, 8000};
  }
  return {1, 1, 0, 0, 0, 0};
}

// Weights spread over two orders of magnitude: swarm testing wants mixes
// that are lopsided in different ways, not all near the average.
uint32_t swarm_weight(Prng& prng) {
  static const std::vector<uint32_t> kWeights = {1, 2, 5, 10, 20, 50, 100};
  return prng.pick(kWeights);
}

std::array<uint32_t, kWorkloadOps> draw_op_weights(Prng& prng) {
  std::array<uint32_t, kWorkloadOps> weights{};
  for (size_t i = 0; i < kWorkloadOps; i++) {
    // Truncate empties tables; keep it rare even when enabled.
    const bool truncate = static_cast<WorkloadOp>(i) == WorkloadOp::kTruncate;
    const bool enabled = prng.percent(truncate ? 30 : 75);
    if (enabled) weights[i] = truncate ? 1 : swarm_weight(prng);
  }
  // Something must write rows, or every run is empty after the copy.
  if (weights[static_cast<size_t>(WorkloadOp::kInsert)] == 0 &&
      weights[static_cast<size_t>(WorkloadOp::kUpdate)] == 0) {
    weights[static_cast<size_t>(WorkloadOp::kInsert)] = swarm_weight(prng);
  }
  return weights;
}

// Per-site firing rates, in ppm, per call of the site. A site is enabled
// with probability 2/5; its rate is one of a few orders of magnitude.
FaultPlan draw_faults(Prng& prng) {
  auto rate = [&prng](std::vector<uint32_t> choices) -> uint32_t {
    return prng.percent(40) ? prng.pick(choices) : 0;
  };
  FaultPlan plan{};
  auto set = [&plan](FaultKind kind, uint32_t ppm) { plan[static_cast<size_t>(kind)] = ppm; };
  set(FaultKind::kEngineCrash, rate({200, 1000, 3000}));         // per step
  set(FaultKind::kCrashAtAck, rate({5000, 20000, 60000}));       // per acknowledge
  set(FaultKind::kStreamDisconnect, rate({1000, 5000, 20000}));  // per next()
  set(FaultKind::kStreamStall, rate({10000, 50000, 200000}));    // per next() mid-txn
  set(FaultKind::kAckLost, rate({5000, 20000, 100000}));         // per acknowledge
  set(FaultKind::kRedeliverAcked, rate({100000, 300000, 700000}));  // per open_stream
  set(FaultKind::kConnectError, rate({50000, 200000}));          // per connect
  set(FaultKind::kReadError, rate({20000, 100000, 300000}));     // per read
  set(FaultKind::kTaskStall, rate({1000, 10000}));               // per scheduled step
  set(FaultKind::kStorageBusy, rate({5000, 30000, 100000}));     // per write transaction
  set(FaultKind::kStorageIoError, rate({5000, 30000}));          // per write transaction
  // The disk and the statement hook (a default run does some 30 000 disk
  // writes, a few hundred syncs and reads, 100 000 statements).
  set(FaultKind::kPowerLoss, rate({100, 500, 2000}));            // per step
  set(FaultKind::kPowerLossAtAck, rate({5000, 20000, 60000}));   // per acknowledge
  set(FaultKind::kCrashAtIo, rate({20, 100, 500}));              // per disk I/O
  set(FaultKind::kPowerLossAtIo, rate({20, 100, 300}));          // per disk I/O
  set(FaultKind::kSyncError, rate({5000, 20000, 100000}));       // per sync
  set(FaultKind::kWriteError, rate({20, 100, 500}));             // per write
  set(FaultKind::kDiskFull, rate({10, 50, 200}));                // per write
  set(FaultKind::kShortWrite, rate({20, 100, 500}));             // per write
  // Per step, failing the next read: a checkpoint reads every frame it
  // copies, and a rate per read that fires often enough would fail them all.
  set(FaultKind::kDiskReadError, rate({1000, 5000, 20000}));     // per engine step
  set(FaultKind::kAmbiguousCommit, rate({1000, 10000, 50000}));  // per WAL commit frame
  set(FaultKind::kStatementError, rate({10, 50, 200}));          // per statement
  set(FaultKind::kCommitError, rate({5000, 20000, 50000}));      // per COMMIT
  set(FaultKind::kStorageRefused, rate({10, 50, 200}));          // per statement
  // --- issue 10 part A: the world changes (drawn after the others, so
  // their rates stay what they were). ---------------------------------------
  set(FaultKind::kPublicationChange, rate({2000, 10000, 30000}));  // per writer step
  set(FaultKind::kReaderDisconnect, rate({5000, 20000, 60000}));   // per table read
  set(FaultKind::kServerRestart, rate({50, 200, 1000}));           // per step
  // --- end of issue 10 part A. -----------------------------------------------
  return plan;
}

// --- issue 10 part B: events from outside the engine process ---------------
// Drawn from a stream of their own, so the other kinds' rates stay what
// they were for every seed. The slot, cluster and rules events fire per
// engine restart (a run has a few when crashes are on, none when they are off),
// a second writer per step.
void draw_outside_faults(Prng& prng, FaultPlan& plan) {
  auto rate = [&prng](std::vector<uint32_t> choices) -> uint32_t {
    return prng.percent(40) ? prng.pick(choices) : 0;
  };
  plan[static_cast<size_t>(FaultKind::kSlotDropped)] = rate({50000, 200000, 500000});
  plan[static_cast<size_t>(FaultKind::kFreshCluster)] = rate({50000, 200000, 500000});
  plan[static_cast<size_t>(FaultKind::kSecondWriter)] = rate({100, 1000});
  plan[static_cast<size_t>(FaultKind::kRulesEdited)] = rate({100000, 300000});
}
// --- end of part B's block

// --- issue 10, DDL: tables dropped and re-created under the engine ----------
// A stream of its own, like part B's. Enabled more often than the others
// (1/2) so that each fires within seeds 1-30: the while-down kind needs a
// restart, which only seeds with crashes have.
void draw_ddl_faults(Prng& prng, FaultPlan& plan) {
  auto rate = [&prng](std::vector<uint32_t> choices) -> uint32_t {
    return prng.percent(50) ? prng.pick(choices) : 0;
  };
  plan[static_cast<size_t>(FaultKind::kTableRecreated)] = rate({1000, 5000, 15000});
  plan[static_cast<size_t>(FaultKind::kTableRecreatedWhileDown)] = rate({100000, 300000});
}
// --- end of issue 10, DDL

// --- issue 11 item 3: compaction at random points of a run, drawn from a
// stream of its own so every other draw of a seed stays what it was. Per
// step; a run has some 5 000-100 000 steps, so a few to a few hundred
// compactions when enabled (each does something only once a checkpoint
// is published; Simulation::final_check compacts once more at the end).
void draw_compaction(Prng& prng, FaultPlan& plan) {
  plan[static_cast<size_t>(FaultKind::kCompaction)] =
      prng.percent(50) ? prng.pick(std::vector<uint32_t>{200, 1000, 5000}) : 0;
}
// --- end of issue 11 item 3's block

// --- issue 10, DDL: ALTER TABLE ... REPLICA IDENTITY at random writer steps,
// from a stream of its own like the kinds above. Per writer step; a run has
// some 100-1300 of them, so none to a few dozen changes when enabled.
void draw_identity_changes(Prng& prng, FaultPlan& plan) {
  plan[static_cast<size_t>(FaultKind::kIdentityChanged)] =
      prng.percent(50) ? prng.pick(std::vector<uint32_t>{1000, 5000, 15000}) : 0;
}
// --- end of the identity change's block

WorkloadParams draw_workload(Prng& prng, const PresetRanges& ranges) {
  WorkloadParams w;
  w.tables = static_cast<int>(prng.range(ranges.tables_min, ranges.tables_max));
  w.rows_per_table = static_cast<int>(prng.range(ranges.rows_min, ranges.rows_max));
  w.transactions = static_cast<int>(prng.range(ranges.transactions_min, ranges.transactions_max));
  w.owners = static_cast<int>(prng.range(1, 8));
  w.op_weights = draw_op_weights(prng);
  w.changes_per_txn_max = static_cast<int>(prng.range(1, 6));
  w.empty_txn_percent = prng.percent(50) ? static_cast<uint32_t>(prng.range(1, 15)) : 0;
  w.long_txn_percent = prng.percent(40) ? static_cast<uint32_t>(prng.range(1, 5)) : 0;
  w.long_txn_changes_max = static_cast<int>(prng.range(10, 120));
  w.hot_key_percent = prng.percent(60) ? static_cast<uint32_t>(prng.range(10, 90)) : 0;
  w.reinsert_percent = prng.percent(50) ? static_cast<uint32_t>(prng.range(5, 50)) : 0;
  w.toast_percent = prng.percent(70) ? static_cast<uint32_t>(prng.range(20, 100)) : 0;
  w.wal_noise_percent = prng.percent(40) ? static_cast<uint32_t>(prng.range(1, 20)) : 0;
  w.full_identity_percent = prng.percent(50) ? 35 : 0;
  return w;
}

EngineParams draw_engine(Prng& prng) {
  static const std::vector<size_t> kChunkRows = {1, 2, 5, 16, 50, 1000};
  static const std::vector<size_t> kFlushChanges = {1, 3, 10, 100, 1000};
  static const std::vector<int> kWorkers = {1, 2, 2, 2, 3, 4};
  EngineParams e;
  e.workers = prng.pick(kWorkers);
  e.chunk_rows = prng.pick(kChunkRows);
  e.flush_changes = prng.pick(kFlushChanges);
  e.empty_checkpoints = prng.coin();
  static const std::vector<int64_t> kDurableEvery = {1, 2, 8, 64, 256};
  e.durable_every_transactions = prng.pick(kDurableEvery);
  static const std::vector<int64_t> kReservedAhead = {4, 64, 1000, 100000};
  e.op_ids_reserved_ahead = prng.pick(kReservedAhead);
  return e;
}

SchedulerParams draw_scheduler(Prng& prng) {
  // The writer commits a whole transaction per step; the streamer needs a
  // few steps per message. Drawn from the same range, the stream would lag
  // most runs by most of the WAL, so the writer's range is lower.
  static const std::vector<uint32_t> kWriterWeights = {1, 2, 3, 5, 10, 20};
  SchedulerParams s;
  s.writer_weight = prng.pick(kWriterWeights);
  s.streamer_weight = swarm_weight(prng);
  s.snapshot_weight = swarm_weight(prng);
  s.client_weight = static_cast<uint32_t>(prng.range(1, 3));
  s.clients = static_cast<int>(prng.range(0, 3));
  // Drawn after the weights, so the weights of a seed stay what they were
  // before modes existed. Every mode's knobs are drawn whatever the mode,
  // so forcing a mode (--schedule) changes nothing else.
  // The mix follows what each mode finds (docs/testing.md, "Schedule
  // modes"): targeted reaches the copy/stream window most often, PCT the
  // extreme orders a depth-bounded bug needs, random everything between.
  static const std::vector<ScheduleMode> kModes = {ScheduleMode::kRandom, ScheduleMode::kPct,
                                                   ScheduleMode::kTargeted};
  static const std::vector<uint32_t> kModeWeights = {3, 2, 5};
  s.mode = kModes[prng.weighted(kModeWeights)];
  s.pct_depth = static_cast<int>(prng.range(1, 6));
  static const std::vector<uint32_t> kHoldPercents = {25, 50, 100};
  static const std::vector<int64_t> kHoldPicks = {20, 100, 400, 1500};
  s.hold_percent = prng.pick(kHoldPercents);
  s.hold_picks_max = prng.pick(kHoldPicks);
  s.hold_commits_max = static_cast<int>(prng.range(1, 16));
  return s;
}

}  // namespace

const char* workload_op_name(WorkloadOp kind) {
  switch (kind) {
    case WorkloadOp::kInsert: return "insert";
    case WorkloadOp::kUpdate: return "update";
    case WorkloadOp::kDelete: return "delete";
    case WorkloadOp::kKeyChange: return "key_change";
    case WorkloadOp::kBucketMove: return "bucket_move";
    case WorkloadOp::kTruncate: return "truncate";
    case WorkloadOp::kCount: break;
  }
  return "unknown";
}

const char* schedule_mode_name(ScheduleMode mode) {
  switch (mode) {
    case ScheduleMode::kRandom: return "random";
    case ScheduleMode::kPct: return "pct";
    case ScheduleMode::kTargeted: return "targeted";
    case ScheduleMode::kLive: return "live";
  }
  return "unknown";
}

namespace {
constexpr ScheduleMode kScheduleModes[] = {ScheduleMode::kRandom, ScheduleMode::kPct,
                                           ScheduleMode::kTargeted, ScheduleMode::kLive};
}  // namespace

std::optional<ScheduleMode> parse_schedule_mode(const std::string& name) {
  for (ScheduleMode mode : kScheduleModes) {
    if (name == schedule_mode_name(mode)) return mode;
  }
  return std::nullopt;
}

std::vector<std::string> schedule_mode_names() {
  std::vector<std::string> names;
  for (ScheduleMode mode : kScheduleModes) names.push_back(schedule_mode_name(mode));
  return names;
}

std::optional<Preset> parse_preset(const std::string& name) {
  if (name == "quick") return Preset::kQuick;
  if (name == "default") return Preset::kDefault;
  if (name == "heavy") return Preset::kHeavy;
  return std::nullopt;
}

const char* preset_name(Preset preset) {
  switch (preset) {
    case Preset::kQuick: return "quick";
    case Preset::kDefault: return "default";
    case Preset::kHeavy: return "heavy";
  }
  return "unknown";
}

SimParams draw_params(uint64_t seed, const Overrides& overrides) {
  // One stream per group: an override (which skips no draws) or a new knob
  // in one group leaves the other groups' draws as they were.
  Prng workload_prng(derive(seed, "params.workload"));
  Prng engine_prng(derive(seed, "params.engine"));
  Prng scheduler_prng(derive(seed, "params.scheduler"));
  Prng fault_prng(derive(seed, "params.faults"));
  Prng source_prng(derive(seed, "params.source"));

  SimParams params;
  params.seed = seed;
  params.workload = draw_workload(workload_prng, ranges_of(overrides.preset));
  params.engine = draw_engine(engine_prng);
  params.scheduler = draw_scheduler(scheduler_prng);
  params.faults = draw_faults(fault_prng);
  Prng outside_fault_prng(derive(seed, "params.outside_faults"));  // issue 10 part B
  draw_outside_faults(outside_fault_prng, params.faults);
  Prng ddl_fault_prng(derive(seed, "params.ddl_faults"));  // issue 10, DDL
  draw_ddl_faults(ddl_fault_prng, params.faults);
  Prng compaction_prng(derive(seed, "params.compaction"));  // issue 11 item 3
  draw_compaction(compaction_prng, params.faults);
  Prng identity_prng(derive(seed, "params.identity_changes"));  // issue 10, DDL
  draw_identity_changes(identity_prng, params.faults);
  // Issue 12: a fifth of the seeds run the engine's tasks in live mode's
  // order. A stream of its own, so the other seeds draw as before.
  Prng live_schedule_prng(derive(seed, "params.live_schedule"));
  if (live_schedule_prng.below(5) == 0) params.scheduler.mode = ScheduleMode::kLive;
  params.read_mode = source_prng.coin() ? ReadMode::kSnapshot : ReadMode::kReadCommitted;
  // Some runs start just below 1/0 so LSNs cross the 32-bit boundary.
  params.start_lsn = source_prng.coin() ? Lsn(0x1000000 + 0x28 * source_prng.below(4096))
                                        : Lsn(0xFFFF0000ull + 0x28 * source_prng.below(256));

  if (overrides.tables) params.workload.tables = *overrides.tables;
  if (overrides.rows) params.workload.rows_per_table = *overrides.rows;
  if (overrides.transactions) params.workload.transactions = *overrides.transactions;
  if (overrides.workers) params.engine.workers = *overrides.workers;
  if (overrides.no_faults) params.faults = FaultPlan{};
  for (const Canary& canary : canaries()) params.engine.*canary.engine = overrides.*canary.override;
  if (overrides.schedule) params.scheduler.mode = *overrides.schedule;

  const int64_t rows = int64_t{params.workload.tables} * params.workload.rows_per_table;
  const int64_t long_changes =
      params.workload.long_txn_percent > 0 ? params.workload.long_txn_changes_max : 0;
  const int64_t messages = int64_t{params.workload.transactions} *
                           (3 + params.workload.changes_per_txn_max + long_changes);
  params.safety_steps_max = 100000 + 200 * int64_t{params.workload.transactions} + 20 * rows;
  // Healing must apply what the stream has not yet received and copy what
  // the snapshots have not: a few steps per message and per row, plus room
  // for reconnects and keepalive timers.
  params.heal_steps_max = 20000 + 6 * messages + 8 * rows;
  // PCT's change points fall among the first pct_steps picks. A safety
  // phase takes about a few picks per message (the streamer reads,
  // flushes, commits, acknowledges) and per copied row; the windows that
  // matter most (a copy in flight) are near its start, so the range is
  // that estimate divided by 1, 2, 4, ... 64, drawn per seed.
  const int64_t picks_estimate = 500 + 3 * messages / 2 + 2 * rows;
  params.scheduler.pct_steps =
      std::max<int64_t>(100, picks_estimate >> scheduler_prng.below(7));
  return params;
}

std::string override_flags(const Overrides& o) {
  std::string flags = std::string(" --preset ") + preset_name(o.preset);
  if (o.tables) flags += " --tables " + std::to_string(*o.tables);
  if (o.rows) flags += " --rows " + std::to_string(*o.rows);
  if (o.transactions) flags += " --transactions " + std::to_string(*o.transactions);
  if (o.workers) flags += " --workers " + std::to_string(*o.workers);
  if (o.no_faults) flags += " --no-faults";
  for (const Canary& canary : canaries()) {
    if (o.*canary.override) flags += std::string(" ") + canary.flag;
  }
  if (o.schedule) flags += std::string(" --schedule ") + schedule_mode_name(*o.schedule);
  if (!o.mutant.empty()) flags += " --mutant " + o.mutant;
  return flags;
}

namespace {

// "random", "pct(depth=3 steps=5210)", "targeted(hold%=50 picks=200 commits=8)".
std::string describe_schedule(const SchedulerParams& s) {
  switch (s.mode) {
    case ScheduleMode::kRandom: return "random";
    case ScheduleMode::kPct:
      return "pct(depth=" + std::to_string(s.pct_depth) + " steps=" + std::to_string(s.pct_steps) +
             ")";
    case ScheduleMode::kTargeted:
      return "targeted(hold%=" + std::to_string(s.hold_percent) +
             " picks=" + std::to_string(s.hold_picks_max) +
             " commits=" + std::to_string(s.hold_commits_max) + ")";
    case ScheduleMode::kLive: return "live";
  }
  return "unknown";
}

// " unsafe=no_sync,..." for the canaries on besides hard deletes (which
// has a field of its own); "" for none.
std::string unsafe_modes(const EngineParams& e) {
  std::string on;
  for (const Canary& canary : canaries()) {
    if (canary.engine == &EngineParams::unsafe_hard_deletes || !(e.*canary.engine)) continue;
    on += (on.empty() ? " unsafe=" : ",") + std::string(canary.name + 7);  // without "unsafe_"
  }
  return on;
}

}  // namespace

const std::vector<Canary>& canaries() {
  static const std::vector<Canary> kCanaries = {
      {"--unsafe-hard-deletes", "unsafe_hard_deletes",
       "the legacy delete mode: a late table copy brings deleted rows back; checkpoint_content"
       " must catch it",
       &EngineParams::unsafe_hard_deletes, &Overrides::unsafe_hard_deletes},
      {"--unsafe-no-sync", "unsafe_no_sync",
       "the store never syncs (synchronous=OFF): a power loss takes what was acknowledged;"
       " acknowledged_lost must catch it",
       &EngineParams::unsafe_no_sync, &Overrides::unsafe_no_sync},
      {"--unsafe-ack-before-commit", "unsafe_ack_before_commit",
       "a transaction's end is acknowledged before its COMMIT: a crash between the two loses it;"
       " acknowledged_lost must catch it",
       &EngineParams::unsafe_ack_before_commit, &Overrides::unsafe_ack_before_commit},
      {"--unsafe-publish-unsynced", "unsafe_publish_unsynced",
       "checkpoints are published by the commit that creates them, not by a durable one: a power"
       " loss takes back what clients saw; checkpoint_regressed (or a client's) must catch it",
       &EngineParams::unsafe_publish_unsynced, &Overrides::unsafe_publish_unsynced},
      {"--unsafe-leave-reads-open", "unsafe_leave_reads_open",
       "statements stepped to a row keep their read open until next used: SQLite checkpoints"
       " stall; read_left_open must catch it",
       &EngineParams::unsafe_leave_reads_open, &Overrides::unsafe_leave_reads_open},
      {"--unsafe-retry-all-errors", "unsafe_retry_all_errors",
       "every storage error is retried, also one no retry mends: the engine loops on it;"
       " retry_unbounded must catch it",
       &EngineParams::unsafe_retry_all_errors, &Overrides::unsafe_retry_all_errors},
  };
  return kCanaries;
}

std::vector<std::string> describe_params(const SimParams& p) {
  std::vector<std::string> lines;
  const WorkloadParams& w = p.workload;
  lines.push_back("seed=" + std::to_string(p.seed) + " tables=" + std::to_string(w.tables) +
                  " rows=" + std::to_string(w.rows_per_table) +
                  " transactions=" + std::to_string(w.transactions) +
                  " owners=" + std::to_string(w.owners) +
                  " read_mode=" + read_mode_name(p.read_mode) + " start_lsn=" +
                  p.start_lsn.to_string());
  std::string ops = "ops:";
  for (size_t i = 0; i < kWorkloadOps; i++) {
    ops += std::string(" ") + workload_op_name(static_cast<WorkloadOp>(i)) + "=" +
           (w.op_weights[i] ? std::to_string(w.op_weights[i]) : "off");
  }
  ops += " changes_max=" + std::to_string(w.changes_per_txn_max) +
         " empty_txn%=" + std::to_string(w.empty_txn_percent) +
         " long_txn%=" + std::to_string(w.long_txn_percent) +
         " long_changes=" + std::to_string(w.long_txn_changes_max) +
         " hot%=" + std::to_string(w.hot_key_percent) +
         " reinsert%=" + std::to_string(w.reinsert_percent) +
         " toast%=" + std::to_string(w.toast_percent) +
         " noise%=" + std::to_string(w.wal_noise_percent) +
         " full_identity%=" + std::to_string(w.full_identity_percent);
  lines.push_back(ops);
  const EngineParams& e = p.engine;
  lines.push_back("engine: workers=" + std::to_string(e.workers) +
                  " chunk_rows=" + std::to_string(e.chunk_rows) +
                  " flush_changes=" + std::to_string(e.flush_changes) +
                  " empty_checkpoints=" + (e.empty_checkpoints ? "on" : "off") +
                  " durable_every=" + std::to_string(e.durable_every_transactions) +
                  " op_ids_reserved=" + std::to_string(e.op_ids_reserved_ahead) +
                  " unsafe_hard_deletes=" + (e.unsafe_hard_deletes ? "on" : "off") +
                  unsafe_modes(e));
  const SchedulerParams& s = p.scheduler;
  lines.push_back("scheduler: writer=" + std::to_string(s.writer_weight) +
                  " streamer=" + std::to_string(s.streamer_weight) +
                  " snapshot=" + std::to_string(s.snapshot_weight) +
                  " clients=" + std::to_string(s.clients) + "x" +
                  std::to_string(s.client_weight) + " schedule=" + describe_schedule(s) +
                  " safety_steps_max=" + std::to_string(p.safety_steps_max) +
                  " heal_steps_max=" + std::to_string(p.heal_steps_max));
  std::string faults = "faults(ppm):";
  for (size_t i = 0; i < kFaultKinds; i++) {
    faults += std::string(" ") + fault_name(static_cast<FaultKind>(i)) + "=" +
              (p.faults[i] ? std::to_string(p.faults[i]) : "off");
  }
  lines.push_back(faults);
  return lines;
}

}  // namespace walsim::sim
