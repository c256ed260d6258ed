// StorageFaults: the storage seam's fault hook.
//
// walsim has three seams, where the simulator swaps the world for its own:
//   source          engine/source.h (and the messages in engine/change.h)
//   storage         engine/sqlite_db.h, with this fault hook
//   runtime, clock  engine/task.h
// The storage seam is SQLite itself (a file live, an in-memory database the
// simulator keeps across crashes); this hook is how a test or the simulator
// makes storage calls fail on purpose (BUGGIFY style). The engine only
// consults it; it never knows who set it. Live mode sets none.
#pragma once

#include "engine/status.h"

namespace walsim {

class StorageFaults {
 public:
  virtual ~StorageFaults() = default;
  // Called before each write transaction on the store, with the name of the
  // operation ("commit", "register_table", ...). A non-OK status is returned
  // to the caller as if SQLite had failed, and nothing is written.
  virtual Status before_write(const char* operation) = 0;
};

}  // namespace walsim
