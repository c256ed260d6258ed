// SimDisk: an in-memory file system that loses what a real one loses.
//
// Method:
//
//   Every file (by path) holds two views of its bytes. The page-cache view
//   is what the OS has accepted: every read sees it, every write and
//   truncate changes it at once. The durable view is what is on the
//   platter: a sync of the file makes it equal to the page-cache view (the
//   ranges written since the last sync are copied, the size follows).
//   Between two syncs the file keeps a log of the ranges written since the
//   last one; that log is all the disk needs to sync, to count unsynced
//   bytes and to tear a write.
//
//   A process crash (crash_process) kills every handle opened so far: the
//   process is gone, and from then on each dead handle's writes, truncates,
//   syncs and shared-memory maps are ignored or refused, its file locks and
//   shm locks are released, and a lock it asks for is refused. Nothing is
//   lost: the page cache belongs to the OS, and the next process reads every
//   write the dead one made, synced or not. So a dead connection closed
//   later can neither checkpoint nor delete its -wal or journal: SQLite
//   needs an EXCLUSIVE lock on the database to checkpoint at close, and the
//   dead handle cannot get one.
//
//   A power loss (power_loss) is a process crash, then every file reverts
//   to its durable view: every write not covered by a later sync of its
//   file is lost, and truncates likewise. With `tear`, each file's last
//   unsynced write (if it is the file's last unsynced operation) is torn at
//   sector granularity instead of lost whole: each sector it touched keeps
//   its new bytes or its old ones, a coin per sector from the caller's Prng,
//   files visited in path order, so one seed gives one outcome. A file never
//   synced since it was created disappears (its directory entry never became
//   durable; SQLite's unix VFS syncs the directory at a new journal's or
//   WAL's first sync). Shared memory (the wal-index) is wiped: SQLite must
//   rebuild it from the -wal file, as after a reboot.
//
//   What is kept without a sync, by choice: deletes are durable at once (a
//   real file system may resurrect an unsynced unlink; only synchronous=EXTRA
//   guards against that, and it is not modelled), and so is file creation
//   for a file that was synced at least once.
//
//   Shared memory follows the unix VFS: one set of heap regions per database
//   file (per node, as unix keeps one per inode), mapped by all of its
//   handles. The first live handle to map it when no other live handle has
//   it mapped finds it empty (unix truncates the -shm file when it takes the
//   dead-man-switch lock alone), so after a process crash the next process
//   also rebuilds the wal-index from the WAL. Region memory stays valid as
//   long as any handle (even a dead one) has it mapped: a dead connection
//   being closed may still hold pointers into it.
//
//   Locks: SQLite's five file-lock levels and the eight shm lock slots, with
//   the rules of os_unix.c across every handle of one file. A lock is held
//   by a handle, not a process, so two connections in one simulated process
//   exclude each other exactly as two processes would.
//
//   Deletes during a dead connection's close: SQLite closes a journal and
//   deletes it by path, and a path-level delete cannot name its caller. The
//   disk attributes it to whoever made the most recent handle call: a
//   delete right after a dead handle's call is the dead process's and is
//   ignored (counted in dead_ops_ignored). Opening a file makes the caller
//   live again. This is exact for SQLite, whose close path calls xClose on
//   the journal and then xDelete with nothing in between.
//
//   Faults: before each I/O on a live handle the disk asks its DiskFaults
//   hook (sim/disk_faults.h) what happens.
//
// Determinism: nothing here reads the clock or a global random source;
// containers are ordered; the only randomness is the Prng passed to
// power_loss(). The same calls give byte-identical files.
//
// Threading: single-threaded by design, like the simulator. The disk asserts
// that every mutating call comes from the thread that created it and that no
// call re-enters it (a DiskFaults hook calling back in, say).
//
// Result codes: the handle operations return SQLite result codes, exactly
// what the VFS method should return (SimVfs is a thin adapter).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sim/disk_faults.h"
#include "sim/prng.h"

namespace walsim::sim {

// What the disk has done to one file since it was created.
struct FileStats {
  std::string path;
  FileKind kind = FileKind::kMainDb;
  int64_t size_bytes = 0;          // page-cache view
  int64_t durable_size_bytes = 0;  // what a power loss leaves
  bool survives_power_loss = false;  // synced at least once since created
  uint64_t reads = 0;
  uint64_t writes = 0;           // writes that landed, wholly or partly
  uint64_t bytes_written = 0;    // bytes that landed
  uint64_t truncates = 0;
  uint64_t syncs = 0;            // syncs that succeeded
  uint64_t faults = 0;           // I/Os the DiskFaults hook failed
  uint64_t unsynced_writes = 0;  // writes and truncates since the last sync
  uint64_t unsynced_bytes = 0;   // bytes written since the last sync (a byte
                                 // written twice counts twice)
};

// The disk as a whole.
struct DiskStats {
  uint64_t process_crashes = 0;
  uint64_t power_losses = 0;
  uint64_t dead_ops_ignored = 0;  // writes, truncates, syncs, deletes of dead handles
  uint64_t dead_ops_refused = 0;  // locks and shm maps a dead handle asked for
  uint64_t faults = 0;            // I/Os the DiskFaults hook failed
  uint64_t open_handles = 0;
  uint64_t live_handles = 0;
};

// What one power loss did.
struct PowerLossReport {
  uint64_t files_reverted = 0;   // files that had unsynced changes
  uint64_t files_vanished = 0;   // never synced, so gone
  uint64_t bytes_lost = 0;       // unsynced bytes written, dropped or torn
  uint64_t torn_writes = 0;      // last writes that were torn
  uint64_t torn_sectors_kept = 0;  // sectors of torn writes that kept new bytes
  uint64_t torn_sectors_lost = 0;  // ... and those that kept old bytes
};

class SimDisk {
 public:
  using HandleId = uint64_t;

  struct Options {
    // The unit of tearing, and what xSectorSize reports. 4096 is the unix
    // VFS's default (SQLITE_DEFAULT_SECTOR_SIZE), so WAL padding matches
    // live mode's.
    int sector_size_bytes = 4096;
  };

  struct OpenFlags {
    bool create = false;           // create the file if it does not exist
    bool exclusive = false;        // with create: fail if it exists
    bool read_only = false;
    bool delete_on_close = false;  // unlinked at once, as unix does: the file
                                   // is the handle's alone and never listed
  };

  SimDisk() : SimDisk(Options{}) {}
  explicit SimDisk(Options options);
  ~SimDisk();
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // The hook asked before every I/O of a live handle; nullptr for none.
  // Not owned; must outlive its use here.
  void set_faults(DiskFaults* faults);

  // ----- Handles: what SimVfs calls. Each returns an SQLite result code.

  // Opens `path` ("" with delete_on_close: an anonymous temp file). The new
  // handle is live. SQLITE_CANTOPEN if the file is missing without create,
  // or exists with exclusive.
  int open(std::string_view path, FileKind kind, OpenFlags flags, HandleId* handle);
  // Releases the handle's locks and shared memory. Always succeeds.
  void close(HandleId handle);
  // Short reads zero-fill the rest of `buffer` and return
  // SQLITE_IOERR_SHORT_READ, as the unix VFS does.
  int read(HandleId handle, void* buffer, int size_bytes, int64_t offset);
  // A write past the end zero-fills the gap.
  int write(HandleId handle, const void* data, int size_bytes, int64_t offset);
  // Shrinks or (zero-filling) grows the file.
  int truncate(HandleId handle, int64_t size_bytes);
  // Makes the file's page-cache view durable.
  int sync(HandleId handle);
  int64_t size(HandleId handle) const;

  // SQLite's file locks, SQLITE_LOCK_NONE .. SQLITE_LOCK_EXCLUSIVE. lock()
  // takes SHARED, RESERVED or EXCLUSIVE (passing through PENDING, which it
  // keeps when other readers still hold SHARED); SQLITE_BUSY when another
  // handle's lock is in the way. unlock() goes down to SHARED or NONE.
  int lock(HandleId handle, int level);
  int unlock(HandleId handle, int level);
  // True when any handle of the file holds RESERVED or more.
  bool reserved(HandleId handle) const;
  int lock_level(HandleId handle) const;

  // The wal-index of the database open in `handle` (a main db handle).
  // shm_map: region `region` of `region_size` bytes; with extend=false a
  // region no handle has created yet gives *memory == nullptr and SQLITE_OK.
  int shm_map(HandleId handle, int region, int region_size, bool extend, void** memory);
  // flags: SQLITE_SHM_LOCK or SQLITE_SHM_UNLOCK, with SQLITE_SHM_SHARED or
  // SQLITE_SHM_EXCLUSIVE; slots [offset, offset + count) of SQLITE_SHM_NLOCK.
  int shm_lock(HandleId handle, int offset, int count, int flags);
  // Detaches the handle; the regions go when no handle has them mapped.
  void shm_unmap(HandleId handle);

  // The path now names another file, or none (SQLITE_FCNTL_HAS_MOVED).
  bool has_moved(HandleId handle) const;
  bool is_live(HandleId handle) const;
  FileKind kind(HandleId handle) const;

  // ----- Paths.

  // Unlinks `path`; handles open on it keep the file, as on unix.
  // SQLITE_IOERR_DELETE_NOENT if there is no such file. Ignored (and
  // SQLITE_OK) when the most recent handle call was a dead handle's, also
  // for a C++ caller: see Method, "Deletes during a dead connection's close".
  int remove(std::string_view path);
  bool exists(std::string_view path) const;

  // ----- What the simulation does to the world.

  // The process dies: see Method. Safe to call repeatedly.
  void crash_process();
  // The power goes out: crash_process(), then what a reboot finds (Method).
  PowerLossReport power_loss(Prng& prng, bool tear);

  // ----- Inspection. Cheap enough for an invariant after every step.

  std::vector<FileStats> files() const;  // by path
  std::optional<FileStats> file(std::string_view path) const;
  // The bytes a read sees now, and the bytes a power loss would leave.
  // Empty for a missing file.
  std::string contents(std::string_view path) const;
  std::string durable_contents(std::string_view path) const;
  // FNV-1a over every path and its page-cache bytes, in path order.
  uint64_t fingerprint() const;
  DiskStats stats() const;
  int sector_size_bytes() const { return options_.sector_size_bytes; }

 private:
  struct FileNode;
  struct Handle;
  class CallGuard;

  Handle& handle(HandleId id);
  const Handle& handle(HandleId id) const;
  // Notes who made the most recent handle call (see Method: deletes).
  void note_caller(const Handle& handle);
  FaultAction ask(FaultAction (DiskFaults::*method)(const IoSite&), const Handle& handle,
                  int64_t offset, int64_t size_bytes, const uint8_t* data = nullptr);
  void count_fault(Handle& handle);
  void die_now();

  void apply_write(FileNode& node, const uint8_t* data, int64_t size_bytes, int64_t offset);
  void apply_truncate(FileNode& node, int64_t size_bytes);
  void apply_sync(FileNode& node);
  void revert_to_durable(FileNode& node, Prng& prng, bool tear, PowerLossReport& report);
  void tear_last_write(FileNode& node, const std::vector<uint8_t>& cache_before, Prng& prng,
                       PowerLossReport& report);

  bool other_holds_at_least(const Handle& self, int level) const;
  int lock_exclusive(Handle& self);
  bool shm_live_users(const FileNode& node, HandleId except) const;
  void shm_detach(Handle& handle);

  Options options_;
  DiskFaults* faults_ = nullptr;
  std::map<std::string, std::shared_ptr<FileNode>, std::less<>> files_;
  std::map<HandleId, std::unique_ptr<Handle>> handles_;
  HandleId next_handle_ = 1;
  bool last_caller_dead_ = false;
  DiskStats stats_;
  std::thread::id owner_thread_;
  bool in_call_ = false;
};

}  // namespace walsim::sim
