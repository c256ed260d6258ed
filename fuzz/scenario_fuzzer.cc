// Scenario fuzzer: input bytes choose a simulated world (tables, rows,
// transactions, op mix, fault sites, engine knobs and the seed that drives
// the scheduler and workload), the simulator runs the real engine in it,
// and any broken invariant aborts. Coverage guidance then steers towards
// worlds that reach new engine code.
//
// Exhausted input yields zeros, and zero is always the benign choice: no
// fault site on, one table, the smallest world. So an empty input is a
// quiet run, and every fault must be asked for by the bytes.
//
// Limitation: the bytes choose the world and the seed; the scheduler's
// step-by-step picks come from that seed's PRNG, not from the bytes.
#include <FuzzedDataProvider.h>

#include "fuzz/fuzz_check.h"
#include "sim/params.h"
#include "sim/simulation.h"

namespace walsim::fuzz {
namespace {

sim::SimParams world_from(FuzzedDataProvider& bytes) {
  sim::Overrides quick;
  quick.preset = sim::Preset::kQuick;
  sim::SimParams p = sim::draw_params(bytes.ConsumeIntegral<uint16_t>(), quick);
  p.workload.tables = 1 + bytes.ConsumeIntegralInRange(0, 2);
  p.workload.rows_per_table = bytes.ConsumeIntegralInRange(0, 40);
  p.workload.transactions = bytes.ConsumeIntegralInRange(0, 80);
  p.workload.changes_per_txn_max = 1 + bytes.ConsumeIntegralInRange(0, 5);
  for (uint32_t& weight : p.workload.op_weights) weight = bytes.ConsumeIntegralInRange(0, 20);
  if (p.workload.op_weights == decltype(p.workload.op_weights){}) p.workload.op_weights[0] = 1;
  p.workload.toast_percent = bytes.ConsumeIntegralInRange(0, 100);
  p.workload.hot_key_percent = bytes.ConsumeIntegralInRange(0, 100);
  p.workload.reinsert_percent = bytes.ConsumeIntegralInRange(0, 100);
  p.workload.full_identity_percent = bytes.ConsumeIntegralInRange(0, 100);
  p.engine.workers = 1 + bytes.ConsumeIntegralInRange(0, 3);
  p.engine.chunk_rows = 1 + bytes.ConsumeIntegralInRange(0, 16);
  p.engine.flush_changes = 1 + bytes.ConsumeIntegralInRange(0, 8);
  p.engine.empty_checkpoints = !bytes.ConsumeBool();
  p.read_mode = bytes.ConsumeBool() ? sim::ReadMode::kReadCommitted : sim::ReadMode::kSnapshot;
  for (uint32_t& ppm : p.faults) ppm = bytes.ConsumeIntegralInRange<uint32_t>(0, 100'000);
  return p;
}

}  // namespace
}  // namespace walsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider bytes(data, size);
  walsim::sim::SimParams params = walsim::fuzz::world_from(bytes);
  walsim::sim::RunResult result = walsim::sim::run_simulation(params, nullptr);
  walsim::fuzz::require(result.passed(), "every invariant holds",
                        result.passed() ? "" : result.violation->invariant + ": " +
                                                   result.violation->detail);
  return 0;
}
