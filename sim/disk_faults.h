// DiskFaults: the simulated disk's fault site, asked before every I/O.
//
// SimDisk calls one virtual per kind of I/O just before it performs it,
// naming the file's kind, path, offset and size. The answer is an action:
// go ahead, or fail in one of the ways a real disk under SQLite's unix VFS
// fails. The simulation implements this with its BUGGIFY sites (draws from
// its seeded Prng, a trace line per firing); tests script it. Only I/O on
// live handles is asked: a dead process does no I/O.
//
// What each action does, and the SQLite result code the VFS method returns
// (the codes are os_unix.c's for the same errno):
//
//   action           read            write                 sync            truncate        shm map (new region)
//   proceed          ok              ok                    ok              ok              ok
//   io_error (EIO)   IOERR_READ      IOERR_WRITE,          IOERR_FSYNC,    IOERR_TRUNCATE, IOERR_SHMMAP
//                                    nothing lands         nothing synced  size unchanged
//   disk_full        -               FULL, nothing lands   IOERR_FSYNC     IOERR_TRUNCATE  IOERR_SHMSIZE
//   short_write(n)   -               FULL, the first n     -               -               -
//                                    bytes land (unix reads a short write as ENOSPC)
//   lands_but_fails  -               IOERR_WRITE, every    IOERR_FSYNC,    IOERR_TRUNCATE,
//                                    byte landed           all synced      truncated
//   process_dies     IOERR_READ      IOERR_WRITE           IOERR_FSYNC     IOERR_TRUNCATE  IOERR_SHMMAP
//                    and the process dies before the I/O: SimDisk::crash_process() takes effect
//                    at once, so nothing SQLite does afterwards reaches the disk.
//
// "-" marks an action that makes no sense for that I/O; returning it is a
// bug in the hook and trips an assertion.
//
// lands_but_fails on the last write of a WAL commit is the seed of an
// ambiguous commit: COMMIT reports an error, yet the commit frame is in
// the -wal file and the next process to open the database recovers it.
//
// A hook must not call back into SimDisk's mutating methods (the disk is
// in the middle of an operation; SimDisk asserts it). To crash the process
// at an I/O, return process_dies; to lose power there, return process_dies
// and call SimDisk::power_loss() once SQLite's call has returned: a dead
// process writes nothing, so that is a power loss at exactly this I/O.
#pragma once

#include <cstdint>
#include <string_view>

namespace walsim::sim {

// What a file is to SQLite, from the flags it was opened with.
enum class FileKind : uint8_t {
  kMainDb,   // the database file
  kWal,      // its -wal file
  kJournal,  // a rollback or super-journal
  kTemp,     // temp databases, statement journals, sorter spill files
  kShm,      // the wal-index shared memory (not a file on this disk)
};

inline const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kMainDb: return "db";
    case FileKind::kWal: return "wal";
    case FileKind::kJournal: return "journal";
    case FileKind::kTemp: return "temp";
    case FileKind::kShm: return "shm";
  }
  return "?";
}

// One I/O the disk is about to perform.
struct IoSite {
  FileKind kind;
  std::string_view path;  // "" for an anonymous temp file; the db path for shm
  int64_t offset;         // read/write: first byte; truncate: the new size;
                          // shm: region index * region size; sync: 0
  int64_t size_bytes;     // read/write: bytes; shm: region size; else 0
  const uint8_t* data = nullptr;  // write: the bytes about to be written
};

// True for the 24-byte header of a WAL frame that commits a transaction
// (bytes 4..7, the database size after the commit, are non-zero). SQLite
// writes a frame as its header, then its page at offset + 24; under
// synchronous=NORMAL the commit frame's page is the last write of a
// commit, so failing it with lands_but_fails gives an ambiguous commit.
inline bool is_wal_commit_frame_header(const IoSite& site) {
  if (site.kind != FileKind::kWal || site.size_bytes != 24 || site.data == nullptr) return false;
  return (site.data[4] | site.data[5] | site.data[6] | site.data[7]) != 0;
}

struct FaultAction {
  enum class Kind : uint8_t {
    kProceed,
    kIoError,
    kDiskFull,
    kShortWrite,
    kLandsButFails,
    kProcessDies,
  };
  Kind kind = Kind::kProceed;
  int64_t landed_bytes = 0;  // kShortWrite only: 0 <= landed_bytes < size

  static FaultAction proceed() { return {}; }
  static FaultAction io_error() { return {Kind::kIoError, 0}; }
  static FaultAction disk_full() { return {Kind::kDiskFull, 0}; }
  static FaultAction short_write(int64_t landed_bytes) {
    return {Kind::kShortWrite, landed_bytes};
  }
  static FaultAction lands_but_fails() { return {Kind::kLandsButFails, 0}; }
  static FaultAction process_dies() { return {Kind::kProcessDies, 0}; }

  bool proceeds() const { return kind == Kind::kProceed; }
};

class DiskFaults {
 public:
  virtual ~DiskFaults() = default;
  virtual FaultAction on_read(const IoSite& site) { return FaultAction::proceed(); }
  virtual FaultAction on_write(const IoSite& site) { return FaultAction::proceed(); }
  virtual FaultAction on_sync(const IoSite& site) { return FaultAction::proceed(); }
  virtual FaultAction on_truncate(const IoSite& site) { return FaultAction::proceed(); }
  // Asked only when a new shared-memory region is allocated: mapping one
  // that exists needs no system call in the unix VFS and cannot fail.
  virtual FaultAction on_shm_map(const IoSite& site) { return FaultAction::proceed(); }
};

}  // namespace walsim::sim
