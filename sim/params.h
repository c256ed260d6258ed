// SimParams: every knob of one run, drawn from the seed (TigerBeetle VOPR
// style) and printed before the run starts, so a failing seed's report says
// what world it ran in. Swarm testing: each seed turns some op kinds and
// fault sites off and gives the rest very different weights, so runs
// explore corners that one fixed mix would visit rarely.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "sim/buggify.h"
#include "sim/sim_postgres.h"

namespace walsim::sim {

// What the workload does to the source (not walsim::OpKind, the store's
// PUT/REMOVE ops).
enum class WorkloadOp : uint8_t {
  kInsert,      // a new row (sometimes reusing a deleted key)
  kUpdate,      // title and/or body change
  kDelete,
  kKeyChange,   // the id changes: old key, new row
  kBucketMove,  // the owner changes: REMOVE from one bucket, PUT in another
  kTruncate,    // one or more tables emptied
  kCount,       // not an op: how many there are
};
// Tied to the enum: a new op joins every array sized by it.
constexpr size_t kWorkloadOps = static_cast<size_t>(WorkloadOp::kCount);
static_assert(kWorkloadOps == static_cast<size_t>(WorkloadOp::kTruncate) + 1,
              "a new workload op needs a name (workload_op_name), a case in "
              "Workload::add_change and a look at replay_file.cc; then name it here");
const char* workload_op_name(WorkloadOp kind);

struct WorkloadParams {
  int tables = 3;
  int rows_per_table = 300;
  int transactions = 1000;
  int owners = 5;
  std::array<uint32_t, kWorkloadOps> op_weights{};  // 0: op kind disabled
  int changes_per_txn_max = 4;
  uint32_t empty_txn_percent = 0;
  uint32_t long_txn_percent = 0;
  int long_txn_changes_max = 0;
  uint32_t hot_key_percent = 0;  // updates/deletes aimed at rows a copy just read
  uint32_t reinsert_percent = 0;  // inserts that reuse a deleted key
  uint32_t toast_percent = 0;     // unchanged body sent as unchanged TOAST
  uint32_t wal_noise_percent = 0;  // writer steps that only move the WAL
  uint32_t full_identity_percent = 0;  // tables with REPLICA IDENTITY FULL
};

struct EngineParams {
  int workers = 2;
  size_t chunk_rows = 16;
  size_t flush_changes = 1000;
  bool empty_checkpoints = true;
  // Group commit: stream commits wait for a durable one (and their
  // acknowledgement) at most this many transactions; 1 syncs every commit.
  int64_t durable_every_transactions = 256;
  // Op ids a process may hand out before a durable commit reserves more.
  int64_t op_ids_reserved_ahead = 100000;
  // The canaries (canaries() below): known-unsafe modes the simulator
  // must catch.
  bool unsafe_hard_deletes = false;
  bool unsafe_no_sync = false;
  bool unsafe_ack_before_commit = false;
  bool unsafe_publish_unsynced = false;
  bool unsafe_leave_reads_open = false;
  bool unsafe_retry_all_errors = false;
};

// How the scheduler chooses among ready tasks (sim/schedule_policy.h).
enum class ScheduleMode : uint8_t {
  kRandom,    // by weight, each pick on its own
  kPct,       // priorities with d-1 change points (Burckhardt et al., ASPLOS'10)
  kTargeted,  // by weight, holding a copy's chunk write until the stream
              // applied a change to a key of that chunk
  kLive,      // the engine's tasks in live mode's order (engine/run_policy.h),
              // the writer and clients by weight around them
};
const char* schedule_mode_name(ScheduleMode mode);
std::optional<ScheduleMode> parse_schedule_mode(const std::string& name);
// Every mode's name, in the enum's order (for a command's --schedule).
std::vector<std::string> schedule_mode_names();

struct SchedulerParams {
  uint32_t writer_weight = 10;
  uint32_t streamer_weight = 10;
  uint32_t snapshot_weight = 10;
  uint32_t client_weight = 1;
  int clients = 2;
  // Files and seeds from before schedule modes existed ran kRandom.
  ScheduleMode mode = ScheduleMode::kRandom;
  // PCT: a bug of depth d needs d-1 priority changes, placed among the
  // first pct_steps picks (about the safety phase's length).
  int pct_depth = 3;
  int64_t pct_steps = 10000;
  // Targeted: the share of chunk reads whose write is held, and how long a
  // hold lasts at most (picks, and source commits that miss the chunk).
  uint32_t hold_percent = 50;
  int64_t hold_picks_max = 200;
  int hold_commits_max = 8;
};

struct SimParams {
  uint64_t seed = 0;
  WorkloadParams workload;
  EngineParams engine;
  SchedulerParams scheduler;
  ReadMode read_mode = ReadMode::kSnapshot;
  Lsn start_lsn;
  FaultPlan faults{};
  // Safety phase: the writer stops after this many steps even if it has
  // transactions left (a starved writer must not make a run endless).
  int64_t safety_steps_max = 0;
  // Liveness: steps the healing phase may take to publish the final state.
  int64_t heal_steps_max = 0;
};

enum class Preset { kQuick, kDefault, kHeavy };
std::optional<Preset> parse_preset(const std::string& name);
const char* preset_name(Preset preset);

// What the command line fixes instead of the seed.
struct Overrides {
  Preset preset = Preset::kDefault;
  std::optional<int> tables;
  std::optional<int> rows;
  std::optional<int> transactions;
  std::optional<int> workers;
  bool no_faults = false;
  bool unsafe_hard_deletes = false;
  bool unsafe_no_sync = false;
  bool unsafe_ack_before_commit = false;
  bool unsafe_publish_unsynced = false;
  bool unsafe_leave_reads_open = false;
  bool unsafe_retry_all_errors = false;
  std::optional<ScheduleMode> schedule;  // nullopt: the seed draws one
  // The planted bug on (engine/mutant.h), in a mutants build; "" for none.
  // It is process-wide, not a parameter of the run, but part of what a
  // seed means: reproduce lines carry it.
  std::string mutant;
};

// A known-unsafe engine mode, kept so the simulator's invariants can be
// shown to catch it: each is a canary for one family of invariants, with a
// test that a fixed seed range catches it (tests/sim/simulation_test.cc).
struct Canary {
  const char* flag;       // "--unsafe-no-sync"
  const char* name;       // "unsafe_no_sync": the replay file's field
  const char* help;       // what it breaks, and what must catch it
  bool EngineParams::*engine;
  bool Overrides::*override;
};
const std::vector<Canary>& canaries();

SimParams draw_params(uint64_t seed, const Overrides& overrides);
// The command-line flags that give `overrides` (" --preset default
// --unsafe-hard-deletes ..."): what a reproduce line must carry besides
// the seed, since each changes what the seed means.
std::string override_flags(const Overrides& overrides);
// A few "name=value ..." lines, one per group.
std::vector<std::string> describe_params(const SimParams& params);

}  // namespace walsim::sim
