// The live runtime's clocks. The engine reads time only through Clock, so
// the simulator can substitute its own; the real clocks live here.
#pragma once

#include <chrono>
#include <cstdint>

#include "engine/task.h"

namespace walsim::live {

// Unix milliseconds: what the replication protocol's timestamps are based
// on (PgChangeStream converts them to Postgres time).
class WallClock : public Clock {
 public:
  int64_t now_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Monotonic milliseconds for intervals and deadlines: immune to the wall
// clock being set back.
class SteadyClock : public Clock {
 public:
  int64_t now_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace walsim::live
