#include "sim/sim_vfs.h"

#include <atomic>
#include <cstring>
#include <optional>
#include <string_view>

#include "engine/assert.h"

namespace walsim::sim {

namespace {

// What SQLite allocates for each open file (szOsFile): the base struct
// first, so a sqlite3_file* is a SimFile*.
struct SimFile {
  sqlite3_file base;
  SimVfs* vfs;
  SimDisk::HandleId handle;
};

SimFile& sim_file(sqlite3_file* file) { return *reinterpret_cast<SimFile*>(file); }

FileKind kind_of(int flags) {
  if (flags & SQLITE_OPEN_MAIN_DB) return FileKind::kMainDb;
  if (flags & SQLITE_OPEN_WAL) return FileKind::kWal;
  if (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL)) return FileKind::kJournal;
  return FileKind::kTemp;  // temp db, temp journal, subjournal, transient db
}

constexpr int kMaxPathBytes = 512;
// Julian day number of 1970-01-01T00:00:00Z, in milliseconds.
constexpr int64_t kUnixEpochJulianMs = 210866760000000;

}  // namespace

struct SimVfs::Glue {
  static SimVfs& owner(sqlite3_vfs* vfs) { return *static_cast<SimVfs*>(vfs->pAppData); }
  static SimDisk& disk(sqlite3_file* file) { return sim_file(file).vfs->disk_; }
  static SimDisk::HandleId handle(sqlite3_file* file) { return sim_file(file).handle; }

  // ----- sqlite3_io_methods

  static int close(sqlite3_file* file) {
    SimVfs& vfs = *sim_file(file).vfs;
    WALSIM_ASSERT(vfs.stats_.open_files > 0);
    vfs.disk_.close(handle(file));
    vfs.stats_.open_files--;
    file->pMethods = nullptr;
    return SQLITE_OK;
  }
  static int read(sqlite3_file* file, void* buffer, int size, sqlite3_int64 offset) {
    return disk(file).read(handle(file), buffer, size, offset);
  }
  static int write(sqlite3_file* file, const void* data, int size, sqlite3_int64 offset) {
    return disk(file).write(handle(file), data, size, offset);
  }
  static int truncate(sqlite3_file* file, sqlite3_int64 size) {
    return disk(file).truncate(handle(file), size);
  }
  static int sync(sqlite3_file* file, int flags) { return disk(file).sync(handle(file)); }
  static int file_size(sqlite3_file* file, sqlite3_int64* size) {
    *size = disk(file).size(handle(file));
    return SQLITE_OK;
  }
  static int lock(sqlite3_file* file, int level) { return disk(file).lock(handle(file), level); }
  static int unlock(sqlite3_file* file, int level) {
    return disk(file).unlock(handle(file), level);
  }
  static int check_reserved_lock(sqlite3_file* file, int* reserved) {
    *reserved = disk(file).reserved(handle(file)) ? 1 : 0;
    return SQLITE_OK;
  }
  static int file_control(sqlite3_file* file, int op, void* argument) {
    switch (op) {
      case SQLITE_FCNTL_LOCKSTATE:
        *static_cast<int*>(argument) = disk(file).lock_level(handle(file));
        return SQLITE_OK;
      case SQLITE_FCNTL_HAS_MOVED:
        *static_cast<int*>(argument) = disk(file).has_moved(handle(file)) ? 1 : 0;
        return SQLITE_OK;
      case SQLITE_FCNTL_VFSNAME:
        *static_cast<char**>(argument) =
            sqlite3_mprintf("%s", sim_file(file).vfs->name_.c_str());
        return SQLITE_OK;
      default:
        return SQLITE_NOTFOUND;
    }
  }
  static int sector_size(sqlite3_file* file) { return disk(file).sector_size_bytes(); }
  static int device_characteristics(sqlite3_file*) { return 0; }
  static int shm_map(sqlite3_file* file, int region, int region_size, int extend,
                     void volatile** memory) {
    void* mapped = nullptr;
    int rc = disk(file).shm_map(handle(file), region, region_size, extend != 0, &mapped);
    *memory = mapped;
    return rc;
  }
  static int shm_lock(sqlite3_file* file, int offset, int count, int flags) {
    return disk(file).shm_lock(handle(file), offset, count, flags);
  }
  static void shm_barrier(sqlite3_file*) { std::atomic_thread_fence(std::memory_order_seq_cst); }
  static int shm_unmap(sqlite3_file* file, int delete_flag) {
    disk(file).shm_unmap(handle(file));  // the -shm "file" is memory: nothing to delete
    return SQLITE_OK;
  }

  static constexpr sqlite3_io_methods kIoMethods = {
      2,  // iVersion: with the shm methods, without xFetch (no mmap)
      close,         read,      write,      truncate,    sync,
      file_size,     lock,      unlock,     check_reserved_lock,
      file_control,  sector_size, device_characteristics,
      shm_map,       shm_lock,  shm_barrier, shm_unmap,
      nullptr,       nullptr,
  };

  // ----- sqlite3_vfs

  static int open(sqlite3_vfs* raw, const char* name, sqlite3_file* file, int flags,
                  int* out_flags) {
    SimVfs& vfs = owner(raw);
    file->pMethods = nullptr;  // SQLite calls xClose only if this is set
    SimDisk::OpenFlags open_flags;
    open_flags.create = (flags & SQLITE_OPEN_CREATE) != 0 || name == nullptr;
    open_flags.exclusive = (flags & SQLITE_OPEN_EXCLUSIVE) != 0;
    open_flags.read_only = (flags & SQLITE_OPEN_READONLY) != 0;
    open_flags.delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0 || name == nullptr;
    SimDisk::HandleId handle = 0;
    std::string_view path = name != nullptr ? std::string_view(name) : std::string_view();
    int rc = vfs.disk_.open(path, kind_of(flags), open_flags, &handle);
    if (rc != SQLITE_OK) return rc;
    SimFile& opened = sim_file(file);
    opened.vfs = &vfs;
    opened.handle = handle;
    file->pMethods = &kIoMethods;
    vfs.stats_.open_files++;
    vfs.stats_.files_opened++;
    if (out_flags != nullptr) *out_flags = flags;
    return SQLITE_OK;
  }
  static int remove(sqlite3_vfs* raw, const char* name, int sync_dir) {
    return owner(raw).disk_.remove(name);
  }
  static int access(sqlite3_vfs* raw, const char* name, int flags, int* result) {
    std::optional<FileStats> file = owner(raw).disk_.file(name);
    // The unix VFS: an empty file does not exist (a zero-byte -wal or
    // journal is no journal).
    if (flags == SQLITE_ACCESS_EXISTS) {
      *result = file.has_value() && file->size_bytes > 0 ? 1 : 0;
    } else {
      *result = file.has_value() ? 1 : 0;
    }
    return SQLITE_OK;
  }
  static int full_pathname(sqlite3_vfs*, const char* name, int out_size, char* out) {
    std::string full = name[0] == '/' ? std::string(name) : "/" + std::string(name);
    if (static_cast<int>(full.size()) + 1 > out_size) return SQLITE_CANTOPEN;
    std::memcpy(out, full.c_str(), full.size() + 1);
    return SQLITE_OK;
  }
  static void* dl_open(sqlite3_vfs*, const char*) { return nullptr; }
  static void dl_error(sqlite3_vfs*, int size, char* message) {
    sqlite3_snprintf(size, message, "no extension loading in the simulator");
  }
  static void (*dl_sym(sqlite3_vfs*, void*, const char*))(void) { return nullptr; }
  static void dl_close(sqlite3_vfs*, void*) {}
  static int randomness(sqlite3_vfs* raw, int size, char* out) {
    Prng& prng = owner(raw).randomness_;
    for (int i = 0; i < size; i++) out[i] = static_cast<char>(prng.next() >> 56);
    return size;
  }
  static int sleep(sqlite3_vfs* raw, int microseconds) {
    SimVfs& vfs = owner(raw);
    vfs.stats_.sleeps++;
    vfs.stats_.slept_us += microseconds > 0 ? microseconds : 0;
    return microseconds;
  }
  static int current_time(sqlite3_vfs* raw, double* julian_days) {
    *julian_days = static_cast<double>(kUnixEpochJulianMs + owner(raw).time_unix_ms_) / 86400000.0;
    return SQLITE_OK;
  }
  static int get_last_error(sqlite3_vfs*, int size, char* message) {
    if (size > 0) message[0] = '\0';
    return 0;
  }
  static int current_time_int64(sqlite3_vfs* raw, sqlite3_int64* julian_ms) {
    *julian_ms = kUnixEpochJulianMs + owner(raw).time_unix_ms_;
    return SQLITE_OK;
  }
};

SimVfs::SimVfs(SimDisk& disk, std::string name, Options options)
    : disk_(disk),
      name_(std::move(name)),
      randomness_(derive(options.seed, "sqlite-randomness")),
      time_unix_ms_(options.time_unix_ms) {
  WALSIM_ASSERT(!name_.empty());
  WALSIM_ASSERT(sqlite3_vfs_find(name_.c_str()) == nullptr, "one VFS per name");
  std::memset(&vfs_, 0, sizeof(vfs_));
  vfs_.iVersion = 2;  // up to xCurrentTimeInt64
  vfs_.szOsFile = sizeof(SimFile);
  vfs_.mxPathname = kMaxPathBytes;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = Glue::open;
  vfs_.xDelete = Glue::remove;
  vfs_.xAccess = Glue::access;
  vfs_.xFullPathname = Glue::full_pathname;
  vfs_.xDlOpen = Glue::dl_open;
  vfs_.xDlError = Glue::dl_error;
  vfs_.xDlSym = Glue::dl_sym;
  vfs_.xDlClose = Glue::dl_close;
  vfs_.xRandomness = Glue::randomness;
  vfs_.xSleep = Glue::sleep;
  vfs_.xCurrentTime = Glue::current_time;
  vfs_.xGetLastError = Glue::get_last_error;
  vfs_.xCurrentTimeInt64 = Glue::current_time_int64;
  int rc = sqlite3_vfs_register(&vfs_, 0);
  WALSIM_ASSERT(rc == SQLITE_OK, "sqlite3_vfs_register");
  reseed_sqlite_prng();
}

SimVfs::~SimVfs() {
  WALSIM_ASSERT(stats_.open_files == 0,
                "close every connection on a SimVfs before destroying it");
  sqlite3_vfs_unregister(&vfs_);
}

// SQLite seeds its PRNG from the default VFS the first time it needs a
// random byte after a reset (sqlite3_randomness(0, NULL)). Being the default
// for that one draw puts this VFS's seed into every later WAL salt.
void SimVfs::reseed_sqlite_prng() {
  sqlite3_vfs* previous_default = sqlite3_vfs_find(nullptr);
  WALSIM_ASSERT(previous_default != nullptr && previous_default != &vfs_);
  WALSIM_ASSERT(sqlite3_vfs_register(&vfs_, 1) == SQLITE_OK);
  sqlite3_randomness(0, nullptr);
  unsigned char first = 0;
  sqlite3_randomness(1, &first);
  WALSIM_ASSERT(sqlite3_vfs_register(previous_default, 1) == SQLITE_OK);
  WALSIM_ASSERT(sqlite3_vfs_find(nullptr) == previous_default, "the default VFS is back");
}

}  // namespace walsim::sim
