// StorageFaults: the storage seam's fault hook.
//
// walsim has three seams, where the simulator swaps the world for its own:
//   source          engine/source.h (and the messages in engine/change.h)
//   storage         engine/sqlite_db.h, with this fault hook
//   runtime, clock  engine/task.h
// The storage seam is SQLite itself (a file live, a file on the simulated
// disk in the simulator, which fails I/O there too); this hook is how a test
// or the simulator makes storage calls fail on purpose (BUGGIFY style) at
// the engine's level: before a write transaction, at any statement inside
// one, and at its COMMIT. The engine only consults it; it never knows who
// set it. Live mode sets none.
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
  // Called by the SQLite wrapper inside a write transaction, before each
  // statement steps and before COMMIT (sql "COMMIT"). Returns an SQLite
  // result code: 0 (SQLITE_OK) lets the statement run; any other code is
  // reported as if SQLite had returned it (classified like a real one), the
  // statement does nothing, and the caller rolls the transaction back.
  virtual int before_statement(const char* sql) { return 0; }
};

}  // namespace walsim
