// Task and Clock: the runtime seam. One of three seams where the simulator
// swaps the world: source (source.h, change.h), storage (sqlite_db.h with
// its fault hook storage_faults.h), runtime and clock (this file).
//
// The engine is a set of cooperative tasks (the streamer, each snapshot
// worker). A task does one unit of work per step(): at most one source read
// or write, or one storage transaction. Between steps the runtime may run any
// other task. Live mode runs the steps in a loop; the simulator picks which
// ready task steps next from a seeded PRNG, which is how it interleaves
// snapshot chunks with streamed changes deterministically.
//
// A task never blocks inside step(), never reads the wall clock (it asks the
// Clock), never starts threads and never draws random numbers.
#pragma once

#include <cstdint>
#include <string>

namespace walsim {

enum class StepResult {
  kProgress,  // did some work; wants to step again
  kIdle,      // nothing to do until input arrives (e.g. the stream is empty)
  kDone,      // finished for good (a snapshot worker with an empty queue)
  kFailed,    // stopped on an error that retrying cannot fix; see error()
};

class Task {
 public:
  virtual ~Task() = default;
  virtual const std::string& name() const = 0;
  virtual StepResult step() = 0;
};

// Milliseconds on the runtime's clock: wall time live, simulated time in sim.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() = 0;
};

}  // namespace walsim
