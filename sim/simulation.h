// Simulation: one seeded run of the real engine against the simulated
// world, checked by the oracle. See simulation.cc for the safety contract
// and docs/simulation.md for the fault model and the invariants.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "sim/buggify.h"
#include "sim/params.h"
#include "sim/trace.h"
#include "sim/violation.h"

namespace walsim::sim {

struct RunStats {
  int64_t steps = 0;
  int64_t heal_steps = 0;
  int64_t transactions = 0;        // committed by the workload after the slot
  int64_t checkpoints = 0;         // distinct checkpoints the oracle checked
  int64_t engine_restarts = 0;     // crashes, crash-at-ack and failure restarts
  int64_t client_syncs = 0;
  int64_t stream_sessions = 0;
  int64_t sim_time_ms = 0;
  std::optional<int64_t> final_op;
  std::optional<Lsn> final_lsn;
  int64_t wal_bytes_max = 0;       // the largest the store's -wal file got
  int64_t trace_events = 0;
  uint64_t trace_hash = 0;
};

struct RunResult {
  std::optional<Violation> violation;
  RunStats stats;
  std::array<int64_t, kFaultKinds> faults_fired{};
  std::string faults_summary;         // "crash=2 disconnect=7" or "none"
  std::vector<std::string> world;     // tables and rules, for the report
  std::vector<std::string> recent_events;  // the last events, oldest first
  // Hits per rare path of engine/probe.h's catalog, in its order.
  std::vector<int64_t> probe_hits;
  bool passed() const { return !violation.has_value(); }
};

// A test seam: called inside the run after every step, while the run's
// assertion context is registered. Tests and the campaign's hidden
// --plant-assertion-failure-at-seed flag plant failures through it.
using StepHook = std::function<void(int64_t step)>;

// Runs one seed to the end: PASS, or the first invariant it broke.
// `trace_file` (may be null) receives every event, one per line, and
// `observer` (may be null; the timeline) every event as it happens.
// While it runs, a failed WALSIM_ASSERT anywhere in the process (engine
// or simulator) also prints the seed, the step and the last events. One
// run at a time per process.
RunResult run_simulation(const SimParams& params, std::FILE* trace_file,
                         const StepHook& after_step = nullptr,
                         TraceObserver* observer = nullptr);

}  // namespace walsim::sim
