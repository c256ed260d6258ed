#include "sim/schedule_policy.h"

#include "engine/assert.h"
#include "sim/prng.h"
#include "sim/schedule_live.h"
#include "sim/schedule_pct.h"
#include "sim/schedule_random.h"
#include "sim/schedule_targeted.h"

namespace walsim::sim {

std::unique_ptr<SchedulePolicy> make_schedule_policy(const SchedulerParams& params, uint64_t seed) {
  switch (params.mode) {
    case ScheduleMode::kRandom:
      return std::make_unique<RandomPolicy>(derive(seed, "scheduler"));
    case ScheduleMode::kPct:
      return std::make_unique<PctPolicy>(derive(seed, "scheduler.pct"), params.pct_depth,
                                         params.pct_steps);
    case ScheduleMode::kTargeted:
      return std::make_unique<TargetedPolicy>(derive(seed, "scheduler.targeted"), params);
    case ScheduleMode::kLive:
      return std::make_unique<LivePolicy>(derive(seed, "scheduler.live"));
  }
  WALSIM_ASSERT(false, "every schedule mode has a policy");
  return nullptr;
}

}  // namespace walsim::sim
