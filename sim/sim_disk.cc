#include "sim/sim_disk.h"

#include <algorithm>
#include <cstring>

#include "engine/assert.h"
#include "engine/probe.h"

namespace walsim::sim {

// One file: an inode. Paths name nodes; handles hold them, so an unlinked
// file lives on for the handles open on it, as on unix.
struct SimDisk::FileNode {
  std::string path;  // as created; "" for an anonymous temp file
  FileKind kind = FileKind::kMainDb;
  bool linked = false;  // files_[path] is this node

  std::vector<uint8_t> bytes;    // page-cache view
  std::vector<uint8_t> durable;  // durable view
  bool ever_synced = false;

  // Since the last sync: the ranges written, in order, and the smallest
  // size the file had (a truncate below the durable size must reach it).
  struct WrittenRange {
    int64_t offset;
    int64_t size_bytes;
  };
  std::vector<WrittenRange> unsynced_ranges;
  int64_t unsynced_min_size = 0;
  bool last_unsynced_is_write = false;

  FileStats counters;  // path and sizes filled in when reported
  std::vector<HandleId> handles;  // open on this node, in opening order

  // The wal-index, when this is a database file. Retired regions were
  // wiped while some (dead) handle still had them mapped.
  int shm_region_size = 0;
  std::vector<std::unique_ptr<uint8_t[]>> shm_regions;
  std::vector<std::unique_ptr<uint8_t[]>> shm_retired;
};

struct SimDisk::Handle {
  HandleId id = 0;
  std::shared_ptr<FileNode> node;
  bool live = true;
  bool read_only = false;
  int lock_level = SQLITE_LOCK_NONE;
  bool shm_mapped = false;
  uint8_t shm_shared = 0;     // bit i: shared lock on shm slot i
  uint8_t shm_exclusive = 0;  // bit i: exclusive lock on shm slot i
};

// Single thread, no re-entry: see the header.
class SimDisk::CallGuard {
 public:
  explicit CallGuard(SimDisk& disk) : disk_(disk) {
    WALSIM_ASSERT(std::this_thread::get_id() == disk.owner_thread_,
                  "SimDisk is single-threaded: used from a thread that did not create it");
    WALSIM_ASSERT(!disk.in_call_, "SimDisk re-entered (a DiskFaults hook calling back in?)");
    disk_.in_call_ = true;
  }
  ~CallGuard() { disk_.in_call_ = false; }
  CallGuard(const CallGuard&) = delete;
  CallGuard& operator=(const CallGuard&) = delete;

 private:
  SimDisk& disk_;
};

SimDisk::SimDisk(Options options)
    : options_(options), owner_thread_(std::this_thread::get_id()) {
  WALSIM_ASSERT(options_.sector_size_bytes >= 512, "SQLite needs sectors of 512 bytes or more");
  WALSIM_ASSERT((options_.sector_size_bytes & (options_.sector_size_bytes - 1)) == 0,
                "the sector size is a power of two");
}

SimDisk::~SimDisk() = default;

void SimDisk::set_faults(DiskFaults* faults) {
  CallGuard guard(*this);
  faults_ = faults;
}

SimDisk::Handle& SimDisk::handle(HandleId id) {
  auto found = handles_.find(id);
  WALSIM_ASSERT(found != handles_.end(), "no such handle (closed already?)");
  return *found->second;
}

const SimDisk::Handle& SimDisk::handle(HandleId id) const {
  auto found = handles_.find(id);
  WALSIM_ASSERT(found != handles_.end(), "no such handle (closed already?)");
  return *found->second;
}

void SimDisk::note_caller(const Handle& handle) { last_caller_dead_ = !handle.live; }

FaultAction SimDisk::ask(FaultAction (DiskFaults::*method)(const IoSite&), const Handle& handle,
                         int64_t offset, int64_t size_bytes, const uint8_t* data) {
  WALSIM_ASSERT(handle.live, "a dead process does no I/O to fail");
  if (faults_ == nullptr) return FaultAction::proceed();
  const FileNode& node = *handle.node;
  FileKind kind = method == &DiskFaults::on_shm_map ? FileKind::kShm : node.kind;
  return (faults_->*method)(IoSite{kind, node.path, offset, size_bytes, data});
}

void SimDisk::count_fault(Handle& handle) {
  handle.node->counters.faults++;
  stats_.faults++;
}

// ----- Opening and closing.

int SimDisk::open(std::string_view path, FileKind kind, OpenFlags flags, HandleId* out) {
  CallGuard guard(*this);
  WALSIM_ASSERT(out != nullptr);
  WALSIM_ASSERT(!path.empty() || flags.delete_on_close, "only a temp file may have no name");
  WALSIM_ASSERT(kind != FileKind::kShm, "shared memory is mapped, not opened");
  std::shared_ptr<FileNode> node;
  auto found = files_.find(path);
  if (!path.empty() && found != files_.end()) {
    if (flags.create && flags.exclusive) return SQLITE_CANTOPEN;
    node = found->second;
  } else {
    if (!flags.create) return SQLITE_CANTOPEN;
    node = std::make_shared<FileNode>();
    node->path = std::string(path);
    node->kind = kind;
    if (!path.empty()) {
      files_.emplace(node->path, node);
      node->linked = true;
    }
  }
  if (flags.delete_on_close && node->linked) {  // unix unlinks right after open
    files_.erase(node->path);
    node->linked = false;
  }
  auto handle = std::make_unique<Handle>();
  handle->id = next_handle_++;
  handle->node = node;
  handle->read_only = flags.read_only;
  node->handles.push_back(handle->id);
  *out = handle->id;
  handles_.emplace(handle->id, std::move(handle));
  last_caller_dead_ = false;  // only a live process opens files
  return SQLITE_OK;
}

void SimDisk::close(HandleId id) {
  CallGuard guard(*this);
  Handle& closing = handle(id);
  note_caller(closing);
  shm_detach(closing);
  std::vector<HandleId>& open = closing.node->handles;
  auto position = std::find(open.begin(), open.end(), id);
  WALSIM_ASSERT(position != open.end(), "a handle is listed on its node");
  open.erase(position);
  handles_.erase(id);  // an unlinked node goes with its last handle
}

// ----- Reading and writing.

int SimDisk::read(HandleId id, void* buffer, int size_bytes, int64_t offset) {
  CallGuard guard(*this);
  WALSIM_ASSERT(size_bytes >= 0 && offset >= 0);
  Handle& reader = handle(id);
  note_caller(reader);
  if (reader.live) {  // a dead handle's reads do no harm: the OS still has the pages
    FaultAction action = ask(&DiskFaults::on_read, reader, offset, size_bytes);
    if (!action.proceeds()) {
      WALSIM_ASSERT(action.kind == FaultAction::Kind::kIoError ||
                        action.kind == FaultAction::Kind::kProcessDies,
                    "a read can fail with EIO or die, nothing else");
      count_fault(reader);
      if (action.kind == FaultAction::Kind::kProcessDies) die_now();
      return SQLITE_IOERR_READ;
    }
  }
  const std::vector<uint8_t>& bytes = reader.node->bytes;
  reader.node->counters.reads++;
  int64_t size = static_cast<int64_t>(bytes.size());
  int64_t available = std::clamp<int64_t>(size - offset, 0, size_bytes);
  if (available > 0) std::memcpy(buffer, bytes.data() + offset, available);
  if (available == size_bytes) return SQLITE_OK;
  std::memset(static_cast<uint8_t*>(buffer) + available, 0, size_bytes - available);
  return SQLITE_IOERR_SHORT_READ;
}

int SimDisk::write(HandleId id, const void* data, int size_bytes, int64_t offset) {
  CallGuard guard(*this);
  WALSIM_ASSERT(size_bytes >= 0 && offset >= 0);
  Handle& writer = handle(id);
  note_caller(writer);
  if (!writer.live) {
    stats_.dead_ops_ignored++;
    return SQLITE_OK;  // the process is gone; nothing it does reaches the disk
  }
  if (writer.read_only) return SQLITE_IOERR_WRITE;  // EBADF in the unix VFS
  const auto* bytes = static_cast<const uint8_t*>(data);
  FaultAction action = ask(&DiskFaults::on_write, writer, offset, size_bytes, bytes);
  if (!action.proceeds()) count_fault(writer);
  switch (action.kind) {
    case FaultAction::Kind::kProceed:
      apply_write(*writer.node, bytes, size_bytes, offset);
      return SQLITE_OK;
    case FaultAction::Kind::kIoError:
      return SQLITE_IOERR_WRITE;
    case FaultAction::Kind::kDiskFull:
      return SQLITE_FULL;
    case FaultAction::Kind::kShortWrite:
      WALSIM_ASSERT(action.landed_bytes >= 0 && action.landed_bytes < size_bytes,
                    "a short write lands fewer bytes than asked");
      if (action.landed_bytes > 0) apply_write(*writer.node, bytes, action.landed_bytes, offset);
      return SQLITE_FULL;
    case FaultAction::Kind::kLandsButFails:
      apply_write(*writer.node, bytes, size_bytes, offset);
      return SQLITE_IOERR_WRITE;
    case FaultAction::Kind::kProcessDies:
      die_now();
      return SQLITE_IOERR_WRITE;
  }
  WALSIM_ASSERT(false, "unreachable: every action handled");
  return SQLITE_IOERR_WRITE;
}

int SimDisk::truncate(HandleId id, int64_t size_bytes) {
  CallGuard guard(*this);
  WALSIM_ASSERT(size_bytes >= 0);
  Handle& writer = handle(id);
  note_caller(writer);
  if (!writer.live) {
    stats_.dead_ops_ignored++;
    return SQLITE_OK;
  }
  if (writer.read_only) return SQLITE_IOERR_TRUNCATE;
  FaultAction action = ask(&DiskFaults::on_truncate, writer, size_bytes, 0);
  if (action.proceeds()) {
    apply_truncate(*writer.node, size_bytes);
    return SQLITE_OK;
  }
  count_fault(writer);
  switch (action.kind) {
    case FaultAction::Kind::kIoError:
    case FaultAction::Kind::kDiskFull:
      return SQLITE_IOERR_TRUNCATE;
    case FaultAction::Kind::kLandsButFails:
      apply_truncate(*writer.node, size_bytes);
      return SQLITE_IOERR_TRUNCATE;
    case FaultAction::Kind::kProcessDies:
      die_now();
      return SQLITE_IOERR_TRUNCATE;
    default:
      WALSIM_ASSERT(false, "a truncate cannot be short");
      return SQLITE_IOERR_TRUNCATE;
  }
}

int SimDisk::sync(HandleId id) {
  CallGuard guard(*this);
  Handle& syncer = handle(id);
  note_caller(syncer);
  if (!syncer.live) {
    stats_.dead_ops_ignored++;
    return SQLITE_OK;
  }
  FaultAction action = ask(&DiskFaults::on_sync, syncer, 0, 0);
  if (action.proceeds()) {
    apply_sync(*syncer.node);
    return SQLITE_OK;
  }
  count_fault(syncer);
  switch (action.kind) {
    case FaultAction::Kind::kIoError:
    case FaultAction::Kind::kDiskFull:
      return SQLITE_IOERR_FSYNC;  // and nothing became durable
    case FaultAction::Kind::kLandsButFails:
      apply_sync(*syncer.node);
      return SQLITE_IOERR_FSYNC;
    case FaultAction::Kind::kProcessDies:
      die_now();
      return SQLITE_IOERR_FSYNC;
    default:
      WALSIM_ASSERT(false, "a sync cannot be short");
      return SQLITE_IOERR_FSYNC;
  }
}

int64_t SimDisk::size(HandleId id) const {
  return static_cast<int64_t>(handle(id).node->bytes.size());
}

void SimDisk::apply_write(FileNode& node, const uint8_t* data, int64_t size_bytes,
                          int64_t offset) {
  WALSIM_ASSERT(size_bytes >= 0 && offset >= 0);
  // Most writes append (WAL frames): the part past the end is appended, not
  // zero-filled first and then overwritten.
  if (offset > static_cast<int64_t>(node.bytes.size())) node.bytes.resize(offset);  // the gap: zeros
  const int64_t overwritten =
      std::clamp<int64_t>(static_cast<int64_t>(node.bytes.size()) - offset, 0, size_bytes);
  if (overwritten > 0) std::memcpy(node.bytes.data() + offset, data, overwritten);
  node.bytes.insert(node.bytes.end(), data + overwritten, data + size_bytes);
  WALSIM_ASSERT(static_cast<int64_t>(node.bytes.size()) >= offset + size_bytes);
  node.unsynced_ranges.push_back({offset, size_bytes});
  node.last_unsynced_is_write = size_bytes > 0;
  node.counters.writes++;
  node.counters.bytes_written += size_bytes;
  node.counters.unsynced_writes++;
  node.counters.unsynced_bytes += size_bytes;
}

void SimDisk::apply_truncate(FileNode& node, int64_t size_bytes) {
  node.bytes.resize(size_bytes);
  node.unsynced_min_size = std::min(node.unsynced_min_size, size_bytes);
  node.last_unsynced_is_write = false;
  node.counters.truncates++;
  node.counters.unsynced_writes++;
}

// Makes the durable view equal the page cache by touching only what changed
// since the last sync: bytes below the smallest size the file had (`kept`)
// are the old durable bytes unless a logged write covered them; bytes above
// it were zero-filled or written since, so they are the page cache's, and
// are appended in one copy.
void SimDisk::apply_sync(FileNode& node) {
  const int64_t size = static_cast<int64_t>(node.bytes.size());
  const int64_t kept = std::min<int64_t>(node.durable.size(), node.unsynced_min_size);
  WALSIM_ASSERT(kept <= size, "the file never shrank below its smallest size since the sync");
  node.durable.resize(kept);
  node.durable.insert(node.durable.end(), node.bytes.begin() + kept, node.bytes.end());
  for (const FileNode::WrittenRange& range : node.unsynced_ranges) {
    const int64_t end = std::min(range.offset + range.size_bytes, kept);
    if (end <= range.offset) continue;  // above `kept`: appended already
    std::memcpy(node.durable.data() + range.offset, node.bytes.data() + range.offset,
                end - range.offset);
  }
  WALSIM_ASSERT(node.durable.size() == node.bytes.size());
  node.unsynced_ranges.clear();
  node.unsynced_min_size = size;
  node.last_unsynced_is_write = false;
  node.ever_synced = true;
  node.counters.syncs++;
  node.counters.unsynced_writes = 0;
  node.counters.unsynced_bytes = 0;
}

// ----- File locks (os_unix.c's rules, across handles rather than processes).

bool SimDisk::other_holds_at_least(const Handle& self, int level) const {
  for (HandleId id : self.node->handles) {
    if (id != self.id && handle(id).lock_level >= level) return true;
  }
  return false;
}

int SimDisk::lock(HandleId id, int level) {
  CallGuard guard(*this);
  WALSIM_ASSERT(level == SQLITE_LOCK_SHARED || level == SQLITE_LOCK_RESERVED ||
                    level == SQLITE_LOCK_EXCLUSIVE,
                "SQLite asks for SHARED, RESERVED or EXCLUSIVE, never PENDING");
  Handle& locker = handle(id);
  note_caller(locker);
  if (!locker.live) {
    stats_.dead_ops_refused++;
    return SQLITE_IOERR_LOCK;  // a dead process can take no lock
  }
  if (locker.lock_level >= level) return SQLITE_OK;
  if (level == SQLITE_LOCK_SHARED) {
    WALSIM_ASSERT(locker.lock_level == SQLITE_LOCK_NONE);
    if (other_holds_at_least(locker, SQLITE_LOCK_PENDING)) return SQLITE_BUSY;
    locker.lock_level = SQLITE_LOCK_SHARED;
    return SQLITE_OK;
  }
  WALSIM_ASSERT(locker.lock_level >= SQLITE_LOCK_SHARED, "a write lock is taken from SHARED");
  if (level == SQLITE_LOCK_RESERVED) {
    if (other_holds_at_least(locker, SQLITE_LOCK_RESERVED)) return SQLITE_BUSY;
    locker.lock_level = SQLITE_LOCK_RESERVED;
    return SQLITE_OK;
  }
  return lock_exclusive(locker);
}

// Through PENDING: once this handle holds it no new reader gets SHARED, and
// it keeps PENDING while the readers it waits for finish (SQLITE_BUSY).
int SimDisk::lock_exclusive(Handle& self) {
  if (self.lock_level < SQLITE_LOCK_PENDING) {
    if (other_holds_at_least(self, SQLITE_LOCK_RESERVED)) return SQLITE_BUSY;
    self.lock_level = SQLITE_LOCK_PENDING;
  }
  if (other_holds_at_least(self, SQLITE_LOCK_SHARED)) return SQLITE_BUSY;
  self.lock_level = SQLITE_LOCK_EXCLUSIVE;
  WALSIM_ASSERT(!other_holds_at_least(self, SQLITE_LOCK_SHARED), "EXCLUSIVE is alone");
  return SQLITE_OK;
}

int SimDisk::unlock(HandleId id, int level) {
  CallGuard guard(*this);
  WALSIM_ASSERT(level == SQLITE_LOCK_NONE || level == SQLITE_LOCK_SHARED,
                "SQLite unlocks to SHARED or NONE");
  Handle& unlocker = handle(id);
  note_caller(unlocker);
  unlocker.lock_level = std::min(unlocker.lock_level, level);
  return SQLITE_OK;
}

bool SimDisk::reserved(HandleId id) const {
  const Handle& asker = handle(id);
  for (HandleId other : asker.node->handles) {
    if (handle(other).lock_level >= SQLITE_LOCK_RESERVED) return true;
  }
  return false;
}

int SimDisk::lock_level(HandleId id) const { return handle(id).lock_level; }

// ----- Shared memory.

bool SimDisk::shm_live_users(const FileNode& node, HandleId except) const {
  for (HandleId id : node.handles) {
    const Handle& user = handle(id);
    if (id != except && user.live && user.shm_mapped) return true;
  }
  return false;
}

int SimDisk::shm_map(HandleId id, int region, int region_size, bool extend, void** memory) {
  CallGuard guard(*this);
  WALSIM_ASSERT(memory != nullptr && region >= 0 && region_size > 0);
  *memory = nullptr;
  Handle& mapper = handle(id);
  note_caller(mapper);
  WALSIM_ASSERT(mapper.node->kind == FileKind::kMainDb, "only a database has a wal-index");
  if (!mapper.live) {
    stats_.dead_ops_refused++;
    return SQLITE_IOERR_SHMMAP;
  }
  FileNode& node = *mapper.node;
  if (!mapper.shm_mapped) {
    // The first live user finds it empty, as unix truncates the -shm file
    // when it takes the dead-man-switch lock alone.
    if (!shm_live_users(node, id)) {
      for (auto& old : node.shm_regions) node.shm_retired.push_back(std::move(old));
      node.shm_regions.clear();
    }
    mapper.shm_mapped = true;
  }
  WALSIM_ASSERT(node.shm_regions.empty() || node.shm_region_size == region_size,
                "one region size per wal-index");
  size_t count = node.shm_regions.size();
  if (static_cast<size_t>(region) >= count) {
    if (!extend) return SQLITE_OK;  // not created yet: *memory stays nullptr
    int64_t offset = static_cast<int64_t>(count) * region_size;
    FaultAction action = ask(&DiskFaults::on_shm_map, mapper, offset, region_size);
    if (!action.proceeds()) {
      count_fault(mapper);
      if (action.kind == FaultAction::Kind::kDiskFull) return SQLITE_IOERR_SHMSIZE;
      WALSIM_ASSERT(action.kind == FaultAction::Kind::kIoError ||
                        action.kind == FaultAction::Kind::kProcessDies,
                    "a shm map can fail with EIO or ENOSPC, or die");
      if (action.kind == FaultAction::Kind::kProcessDies) die_now();
      return SQLITE_IOERR_SHMMAP;
    }
    node.shm_region_size = region_size;
    while (node.shm_regions.size() <= static_cast<size_t>(region)) {
      node.shm_regions.push_back(std::make_unique<uint8_t[]>(region_size));  // zeroed
    }
  }
  *memory = node.shm_regions[region].get();
  return SQLITE_OK;
}

int SimDisk::shm_lock(HandleId id, int offset, int count, int flags) {
  CallGuard guard(*this);
  WALSIM_ASSERT(offset >= 0 && count >= 1 && offset + count <= SQLITE_SHM_NLOCK);
  const bool unlock = (flags & SQLITE_SHM_UNLOCK) != 0;
  const bool exclusive = (flags & SQLITE_SHM_EXCLUSIVE) != 0;
  WALSIM_ASSERT(unlock != ((flags & SQLITE_SHM_LOCK) != 0), "lock or unlock");
  WALSIM_ASSERT(exclusive != ((flags & SQLITE_SHM_SHARED) != 0), "shared or exclusive");
  WALSIM_ASSERT(count == 1 || exclusive, "shared shm locks are taken one slot at a time");
  Handle& locker = handle(id);
  note_caller(locker);
  const auto mask = static_cast<uint8_t>((1u << (offset + count)) - (1u << offset));
  if (unlock) {
    locker.shm_shared &= static_cast<uint8_t>(~mask);
    locker.shm_exclusive &= static_cast<uint8_t>(~mask);
    return SQLITE_OK;
  }
  if (!locker.live) {
    stats_.dead_ops_refused++;
    return SQLITE_IOERR_SHMLOCK;
  }
  if (!locker.shm_mapped) return SQLITE_IOERR_SHMLOCK;  // as unix: no wal-index, no lock
  uint8_t held_by_others = 0;
  uint8_t exclusive_by_anyone = locker.shm_exclusive;
  for (HandleId other_id : locker.node->handles) {
    if (other_id == id) continue;
    const Handle& other = handle(other_id);
    held_by_others |= other.shm_shared | other.shm_exclusive;
    exclusive_by_anyone |= other.shm_exclusive;
  }
  if (!exclusive) {
    if ((locker.shm_shared & mask) == mask) return SQLITE_OK;
    if ((exclusive_by_anyone & mask) != 0) return SQLITE_BUSY;
    locker.shm_shared |= mask;
    return SQLITE_OK;
  }
  WALSIM_ASSERT(((locker.shm_shared | locker.shm_exclusive) & mask) == 0,
                "SQLite never asks for an exclusive shm lock on a slot it holds");
  if ((held_by_others & mask) != 0) return SQLITE_BUSY;
  locker.shm_exclusive |= mask;
  return SQLITE_OK;
}

void SimDisk::shm_unmap(HandleId id) {
  CallGuard guard(*this);
  Handle& unmapper = handle(id);
  note_caller(unmapper);
  shm_detach(unmapper);
}

void SimDisk::shm_detach(Handle& detaching) {
  if (!detaching.shm_mapped) return;
  detaching.shm_mapped = false;
  detaching.shm_shared = 0;
  detaching.shm_exclusive = 0;
  FileNode& node = *detaching.node;
  for (HandleId id : node.handles) {
    if (handle(id).shm_mapped) return;  // someone still has the regions mapped
  }
  node.shm_regions.clear();
  node.shm_retired.clear();
  node.shm_region_size = 0;
}

bool SimDisk::has_moved(HandleId id) const {
  const FileNode& node = *handle(id).node;
  if (node.path.empty()) return false;  // anonymous: never had a name to lose
  auto found = files_.find(node.path);
  return found == files_.end() || found->second.get() != &node;
}

bool SimDisk::is_live(HandleId id) const { return handle(id).live; }

FileKind SimDisk::kind(HandleId id) const { return handle(id).node->kind; }

// ----- Paths.

int SimDisk::remove(std::string_view path) {
  CallGuard guard(*this);
  if (last_caller_dead_) {  // a dead connection's close deleting its journal
    stats_.dead_ops_ignored++;
    return SQLITE_OK;
  }
  auto found = files_.find(path);
  if (found == files_.end()) return SQLITE_IOERR_DELETE_NOENT;
  WALSIM_ASSERT(found->second->linked);
  found->second->linked = false;
  files_.erase(found);
  return SQLITE_OK;
}

bool SimDisk::exists(std::string_view path) const { return files_.find(path) != files_.end(); }

// ----- Crashes.

void SimDisk::crash_process() {
  CallGuard guard(*this);
  die_now();
}

void SimDisk::die_now() {
  for (auto& [id, each] : handles_) {
    each->live = false;
    each->lock_level = SQLITE_LOCK_NONE;
    each->shm_shared = 0;
    each->shm_exclusive = 0;
    // shm_mapped stays: the dead connection still holds pointers until it
    // is closed, so the regions must stay allocated.
  }
  stats_.process_crashes++;
}

PowerLossReport SimDisk::power_loss(Prng& prng, bool tear) {
  CallGuard guard(*this);
  die_now();
  stats_.power_losses++;
  PowerLossReport report;
  for (auto it = files_.begin(); it != files_.end();) {
    FileNode& node = *it->second;
    // The wal-index is memory: gone, for whoever maps it next.
    for (auto& old : node.shm_regions) node.shm_retired.push_back(std::move(old));
    node.shm_regions.clear();
    if (!node.ever_synced) {
      report.files_vanished++;
      report.bytes_lost += node.counters.unsynced_bytes;
      node.linked = false;
      it = files_.erase(it);
      continue;
    }
    revert_to_durable(node, prng, tear, report);
    ++it;
  }
  return report;
}

void SimDisk::revert_to_durable(FileNode& node, Prng& prng, bool tear, PowerLossReport& report) {
  bool changed = !node.unsynced_ranges.empty() ||
                 node.unsynced_min_size < static_cast<int64_t>(node.durable.size()) ||
                 node.bytes.size() != node.durable.size();
  if (!changed) return;
  WALSIM_PROBE("sim_power_loss_with_unsynced_writes");
  report.files_reverted++;
  report.bytes_lost += node.counters.unsynced_bytes;
  std::vector<uint8_t> cache_before;
  bool tear_this = tear && node.last_unsynced_is_write;
  if (tear_this) cache_before.swap(node.bytes);
  node.bytes = node.durable;
  // What is on the platter now is what survives: the torn write's kept
  // sectors too. Untorn, the two views are equal already.
  if (tear_this) {
    tear_last_write(node, cache_before, prng, report);
    node.durable = node.bytes;
  }
  node.unsynced_ranges.clear();
  node.unsynced_min_size = static_cast<int64_t>(node.bytes.size());
  node.last_unsynced_is_write = false;
  node.counters.unsynced_writes = 0;
  node.counters.unsynced_bytes = 0;
}

// The last write, sector by sector: a coin keeps each sector's new bytes or
// its old ones. `cache_before` is the page cache before the revert, where
// the last write's bytes still are (nothing came after it).
void SimDisk::tear_last_write(FileNode& node, const std::vector<uint8_t>& cache_before,
                              Prng& prng, PowerLossReport& report) {
  WALSIM_ASSERT(!node.unsynced_ranges.empty() && node.last_unsynced_is_write);
  const FileNode::WrittenRange last = node.unsynced_ranges.back();
  WALSIM_ASSERT(last.offset + last.size_bytes <= static_cast<int64_t>(cache_before.size()),
                "the last write is still in the page cache");
  const int64_t sector = options_.sector_size_bytes;
  report.torn_writes++;
  int64_t end = last.offset + last.size_bytes;
  for (int64_t start = last.offset; start < end;) {
    int64_t piece_end = std::min(end, (start / sector + 1) * sector);
    if (prng.coin()) {
      if (static_cast<int64_t>(node.bytes.size()) < piece_end) node.bytes.resize(piece_end);
      std::memcpy(node.bytes.data() + start, cache_before.data() + start, piece_end - start);
      report.torn_sectors_kept++;
    } else {
      report.torn_sectors_lost++;
    }
    start = piece_end;
  }
}

// ----- Inspection.

namespace {

FileStats report_of(const std::string& path, const FileStats& counters, int64_t size,
                    int64_t durable_size, bool synced) {
  FileStats stats = counters;
  stats.path = path;
  stats.size_bytes = size;
  stats.durable_size_bytes = durable_size;
  stats.survives_power_loss = synced;
  return stats;
}

}  // namespace

std::vector<FileStats> SimDisk::files() const {
  std::vector<FileStats> result;
  for (const auto& [path, node] : files_) result.push_back(*file(path));
  return result;
}

std::optional<FileStats> SimDisk::file(std::string_view path) const {
  auto found = files_.find(path);
  if (found == files_.end()) return std::nullopt;
  const FileNode& node = *found->second;
  FileStats stats = report_of(found->first, node.counters, static_cast<int64_t>(node.bytes.size()),
                              static_cast<int64_t>(node.durable.size()), node.ever_synced);
  stats.kind = node.kind;
  return stats;
}

std::string SimDisk::contents(std::string_view path) const {
  auto found = files_.find(path);
  if (found == files_.end()) return {};
  const std::vector<uint8_t>& bytes = found->second->bytes;
  return std::string(bytes.begin(), bytes.end());
}

std::string SimDisk::durable_contents(std::string_view path) const {
  auto found = files_.find(path);
  if (found == files_.end() || !found->second->ever_synced) return {};
  const std::vector<uint8_t>& durable = found->second->durable;
  return std::string(durable.begin(), durable.end());
}

uint64_t SimDisk::fingerprint() const {
  uint64_t hash = 0xCBF29CE484222325ull;
  auto mix = [&hash](const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; i++) {
      hash ^= data[i];
      hash *= 0x100000001B3ull;
    }
  };
  for (const auto& [path, node] : files_) {
    mix(reinterpret_cast<const uint8_t*>(path.data()), path.size() + 1);  // with its NUL
    uint64_t size = node->bytes.size();
    mix(reinterpret_cast<const uint8_t*>(&size), sizeof(size));
    mix(node->bytes.data(), node->bytes.size());
  }
  return hash;
}

DiskStats SimDisk::stats() const {
  DiskStats result = stats_;
  result.open_handles = handles_.size();
  result.live_handles = 0;
  for (const auto& [id, each] : handles_) result.live_handles += each->live ? 1 : 0;
  return result;
}

}  // namespace walsim::sim
