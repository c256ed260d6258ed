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

struct SchedulerParams {
  uint32_t writer_weight = 10;
  uint32_t streamer_weight = 10;
  uint32_t snapshot_weight = 10;
  uint32_t client_weight = 1;
  int clients = 2;
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
// A few "name=value ..." lines, one per group.
std::vector<std::string> describe_params(const SimParams& params);

}  // namespace walsim::sim
