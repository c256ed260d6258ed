// SimVfs: SQLite's VFS over a SimDisk.
//
// Why: the simulator's store must run on a disk that can crash, lose power
// and fail, with the journal settings live mode uses (WAL, synchronous=
// NORMAL), so that SQLite's own checkpoints, syncs and recovery are part of
// every simulated run. ":memory:" skips all of that.
//
// Use:
//   SimDisk disk;
//   SimVfs vfs(disk, "walsim-sim-1", {.seed = seed});
//   sqlite3_open_v2("/store.db", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
//                   vfs.name().c_str());
//   ... disk.crash_process() or disk.power_loss(prng, tear) between SQLite
//   calls; close the dead connections (they write nothing); open new ones.
//
// The VFS is registered under the given name for the object's lifetime and
// is never the default, so no other code in the process lands on it by
// accident. Every connection on it must be closed before it is destroyed
// (asserted). Paths are absolute names on the SimDisk ("store.db" becomes
// "/store.db"); SQLite derives "-wal" and "-journal" from them.
//
// What each method does: the io methods forward to SimDisk (reads, writes,
// truncates, syncs, file locks, the wal-index and its locks: see
// sim/sim_disk.h for the model and result codes). xDeviceCharacteristics
// claims nothing (0): no atomic writes, no safe append, no powersafe
// overwrite, so SQLite pads WAL frames to a sector boundary on each synced
// commit and assumes a torn write can damage a whole sector, the
// conservative reading of a real disk. xSectorSize is the disk's sector.
// xFileControl answers LOCKSTATE, HAS_MOVED and VFSNAME and returns
// SQLITE_NOTFOUND for everything else. xAccess follows the unix VFS: an
// empty file does not "exist". xRandomness draws from a Prng seeded by
// Options::seed; xSleep returns at once (counted); xCurrentTime is
// Options::time_unix_ms or whatever set_time_unix_ms() set, never the wall
// clock. No extension loading.
//
// SQLite's own PRNG (WAL salts, random rowids, randomblob()) is process-wide
// and seeds itself once from the default VFS. The constructor reseeds it
// from this VFS's seed (making this VFS the default for that instant only),
// so a run that creates its SimVfs first is byte-for-byte reproducible.
// Two runs interleaved in one process share that PRNG; the simulator runs
// one at a time (the campaign forks), so that is fine.
//
// Threading: single-threaded, like SimDisk, which asserts it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "sim/prng.h"
#include "sim/sim_disk.h"

namespace walsim::sim {

struct VfsStats {
  uint64_t open_files = 0;
  uint64_t files_opened = 0;
  uint64_t sleeps = 0;
  uint64_t slept_us = 0;  // what SQLite asked to sleep; no time passed
};

class SimVfs {
 public:
  struct Options {
    uint64_t seed = 0;  // xRandomness and SQLite's PRNG
    // xCurrentTime: 2024-01-01T00:00:00Z unless set.
    int64_t time_unix_ms = 1704067200000;
  };

  SimVfs(SimDisk& disk, std::string name) : SimVfs(disk, std::move(name), Options{}) {}
  SimVfs(SimDisk& disk, std::string name, Options options);
  ~SimVfs();
  SimVfs(const SimVfs&) = delete;
  SimVfs& operator=(const SimVfs&) = delete;

  // The name to pass as sqlite3_open_v2's zVfs.
  const std::string& name() const { return name_; }
  SimDisk& disk() { return disk_; }

  void set_time_unix_ms(int64_t time_unix_ms) { time_unix_ms_ = time_unix_ms; }
  int64_t time_unix_ms() const { return time_unix_ms_; }

  VfsStats stats() const { return stats_; }

 private:
  struct Glue;  // the C callbacks; see sim_vfs.cc

  void reseed_sqlite_prng();

  SimDisk& disk_;
  std::string name_;
  Prng randomness_;
  int64_t time_unix_ms_;
  VfsStats stats_;
  sqlite3_vfs vfs_;
};

}  // namespace walsim::sim
