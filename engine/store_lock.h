// The one-writer rule: a store has at most one writing process.
//
// Two `walsim replicate` on one store used to run side by side: both
// created slots, one dropped the other's, the loser died on a raw
// "database is locked". So a writer takes the store's lock before
// anything else (before it opens the store or touches the source) and
// holds it for its life; a second writer is refused with one line that
// says so.
//
// The seam: StoreLocks hands out the lock. Live mode uses FileStoreLocks
// (flock on a lock file beside the store, which the kernel releases when
// the process dies, kill -9 included); the simulator keeps its own, so it
// can start a second engine against the same simulated store and see it
// refused.
#pragma once

#include <memory>
#include <string>

#include "engine/status.h"

namespace walsim {

// Held while it lives; destroying it releases the lock.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

class StoreLocks {
 public:
  virtual ~StoreLocks() = default;
  // The writer lock of the store at `store_path`. kFailedPrecondition
  // (store_in_use) when another writer holds it; kInvalidArgument when the
  // lock file cannot be created (a directory that does not exist).
  virtual Result<std::unique_ptr<StoreLock>> acquire(const std::string& store_path) = 0;
};

// The refusal every StoreLocks gives: "store 'PATH' is in use by another
// walsim (process N); one writer per store: stop it first, or use another
// --store". `holder` names who holds it ("process 4242"), may be empty.
Status store_in_use(const std::string& store_path, const std::string& holder);

// The lock file beside a store: PATH + ".lock".
std::string store_lock_path(const std::string& store_path);

// flock(LOCK_EX | LOCK_NB) on the lock file, which records the holder's
// pid for the refusal's message. The file stays after release (removing
// it would race a writer that just opened it); its contents are advice,
// the flock is the lock.
class FileStoreLocks : public StoreLocks {
 public:
  Result<std::unique_ptr<StoreLock>> acquire(const std::string& store_path) override;
};

}  // namespace walsim
