// SimClock: simulated milliseconds. Time moves only when the scheduler
// finds no ready task and jumps to the next timer, so a run never waits
// and never reads the wall clock.
#pragma once

#include <cstdint>

#include "engine/assert.h"
#include "engine/task.h"

namespace walsim::sim {

class SimClock : public Clock {
 public:
  int64_t now_ms() override { return now_ms_; }
  int64_t now() const { return now_ms_; }

  void advance_to(int64_t ms) {
    WALSIM_ASSERT(ms >= now_ms_, "simulated time never goes back");
    now_ms_ = ms;
  }

 private:
  int64_t now_ms_ = 0;
};

}  // namespace walsim::sim
