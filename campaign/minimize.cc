#include "campaign/minimize.h"

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "campaign/isolated_run.h"
#include "engine/assert.h"
#include "sim/simulation.h"

namespace walsim::campaign {

namespace {

using sim::SimParams;
using Shrink = std::function<bool(SimParams&)>;  // false: nothing to shrink

// Seeds tried after the original one when a smaller world passes with it.
constexpr uint64_t kNearbySeeds = 24;

template <typename T>
Shrink halve(T& (*field)(SimParams&), T floor) {
  return [field, floor](SimParams& p) {
    T& value = field(p);
    if (value <= floor) return false;
    value = std::max<T>(floor, value / 2);
    return true;
  };
}

template <typename T>
Shrink set_to(T& (*field)(SimParams&), T target) {
  return [field, target](SimParams& p) {
    T& value = field(p);
    if (value == target) return false;
    value = target;
    return true;
  };
}

std::vector<Shrink> shrinks() {
  std::vector<Shrink> list = {
      set_to<int>([](SimParams& p) -> int& { return p.workload.tables; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.workload.transactions; }, 1),
      halve<int>([](SimParams& p) -> int& { return p.workload.transactions; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.workload.rows_per_table; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.workload.rows_per_table; }, 2),
      set_to<int>([](SimParams& p) -> int& { return p.workload.rows_per_table; }, 4),
      halve<int>([](SimParams& p) -> int& { return p.workload.rows_per_table; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.scheduler.clients; }, 0),
      set_to<int>([](SimParams& p) -> int& { return p.engine.workers; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.workload.changes_per_txn_max; }, 1),
      set_to<int>([](SimParams& p) -> int& { return p.workload.owners; }, 1),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.long_txn_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.empty_txn_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.wal_noise_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.toast_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.full_identity_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.reinsert_percent; }, 0),
      set_to<uint32_t>([](SimParams& p) -> uint32_t& { return p.workload.hot_key_percent; }, 0),
  };
  for (size_t i = 0; i < sim::kFaultKinds; i++) {
    list.push_back([i](SimParams& p) {
      if (p.faults[i] == 0) return false;
      p.faults[i] = 0;
      return true;
    });
  }
  for (size_t i = 0; i < sim::kWorkloadOps; i++) {
    list.push_back([i](SimParams& p) {
      size_t enabled = 0;
      for (uint32_t weight : p.workload.op_weights) enabled += weight > 0;
      if (p.workload.op_weights[i] == 0 || enabled <= 1) return false;
      p.workload.op_weights[i] = 0;
      return true;
    });
  }
  return list;
}

struct Attempt {
  bool fails_alike = false;
  int64_t events = 0;
};

Attempt attempt(const SimParams& params, const std::string& invariant,
                const MinimizeOptions& options) {
  const IsolatedOutcome run = run_isolated(params, options.hook, options.run_timeout_s);
  return {run.outcome == invariant, run.events};
}

}  // namespace

std::string describe_size(const SimParams& p, int64_t events) {
  int faults = 0;
  for (uint32_t ppm : p.faults) faults += ppm > 0;
  return "tables=" + std::to_string(p.workload.tables) +
         " rows=" + std::to_string(p.workload.rows_per_table) +
         " transactions=" + std::to_string(p.workload.transactions) +
         " fault_sites=" + std::to_string(faults) + " events=" + std::to_string(events);
}

MinimizeResult minimize(const SimParams& failing, const MinimizeOptions& options) {
  const double budget_s = options.budget_s;
  using Clock = std::chrono::steady_clock;  // a tool's budget, never seen by a run
  const auto started = Clock::now();
  auto elapsed_s = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };

  MinimizeResult out;
  out.params = failing;
  const IsolatedOutcome first = run_isolated(failing, options.hook, options.run_timeout_s);
  out.invariant = first.outcome;
  out.events_before = out.events_after = first.events;
  out.runs = 1;
  out.reproduced = first.outcome != "pass";
  if (!out.reproduced) {  // nothing to keep failing: say so, shrink nothing
    out.seconds = elapsed_s();
    return out;
  }

  const std::vector<Shrink> list = shrinks();
  bool shrunk = true;
  while (shrunk && elapsed_s() < budget_s) {
    shrunk = false;
    for (const Shrink& shrink : list) {
      if (elapsed_s() >= budget_s) break;
      SimParams candidate = out.params;
      if (!shrink(candidate)) continue;
      // A "shrink" that grows the world (rows 1 -> 2) is no shrink.
      if (candidate.workload.rows_per_table > out.params.workload.rows_per_table) continue;
      for (uint64_t offset = 0; offset <= kNearbySeeds; offset++) {
        candidate.seed = out.params.seed + offset;
        Attempt tried = attempt(candidate, out.invariant, options);
        out.runs++;
        if (!tried.fails_alike) continue;
        out.params = candidate;
        out.events_after = tried.events;
        shrunk = true;
        break;
      }
    }
  }
  out.seconds = elapsed_s();
  return out;
}

}  // namespace walsim::campaign
