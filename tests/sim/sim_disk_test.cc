// SimDisk: the disk model on its own.
#include "sim/sim_disk.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "sim/disk_faults.h"
#include "sim/prng.h"

namespace walsim::sim {
namespace {

// ===== Test helpers.

enum class Io { kRead, kWrite, kSync, kTruncate, kShmMap };

const char* io_name(Io io) {
  switch (io) {
    case Io::kRead: return "read";
    case Io::kWrite: return "write";
    case Io::kSync: return "sync";
    case Io::kTruncate: return "truncate";
    case Io::kShmMap: return "shm_map";
  }
  return "?";
}

// Records every I/O the disk asks about ("sync wal") and lets a test decide
// each one's fate.
class ScriptedFaults : public DiskFaults {
 public:
  using Decide = std::function<FaultAction(Io, const IoSite&)>;
  void decide(Decide decide) { decide_ = std::move(decide); }
  std::vector<std::string> log;

  // The n-th (from 0) I/O of kind `io` on a file of kind `kind` from now on
  // gets `action`, once.
  void fail_nth(Io io, FileKind kind, int n, FaultAction action) {
    auto seen = std::make_shared<int>(0);
    decide([=](Io at, const IoSite& site) {
      if (at != io || site.kind != kind) return FaultAction::proceed();
      return (*seen)++ == n ? action : FaultAction::proceed();
    });
  }

  FaultAction on_read(const IoSite& site) override { return note(Io::kRead, site); }
  FaultAction on_write(const IoSite& site) override { return note(Io::kWrite, site); }
  FaultAction on_sync(const IoSite& site) override { return note(Io::kSync, site); }
  FaultAction on_truncate(const IoSite& site) override { return note(Io::kTruncate, site); }
  FaultAction on_shm_map(const IoSite& site) override { return note(Io::kShmMap, site); }

  int count(const std::string& line) const {
    int n = 0;
    for (const std::string& entry : log) n += entry == line ? 1 : 0;
    return n;
  }

 private:
  FaultAction note(Io io, const IoSite& site) {
    log.push_back(std::string(io_name(io)) + " " + file_kind_name(site.kind));
    return decide_ ? decide_(io, site) : FaultAction::proceed();
  }
  Decide decide_;
};

FileStats stats_of(const SimDisk& disk, const char* path) {
  std::optional<FileStats> stats = disk.file(path);
  EXPECT_TRUE(stats.has_value()) << path;
  return stats.value_or(FileStats{});
}

// ===== The disk model, without SQLite.

class DiskModel : public ::testing::Test {
 protected:
  SimDisk::HandleId open(const char* path, bool create = true) {
    SimDisk::HandleId handle = 0;
    SimDisk::OpenFlags flags;
    flags.create = create;
    EXPECT_EQ(disk.open(path, FileKind::kMainDb, flags, &handle), SQLITE_OK);
    return handle;
  }
  void write(SimDisk::HandleId handle, const std::string& bytes, int64_t offset) {
    ASSERT_EQ(disk.write(handle, bytes.data(), static_cast<int>(bytes.size()), offset), SQLITE_OK);
  }
  SimDisk disk{SimDisk::Options{.sector_size_bytes = 512}};
};

TEST_F(DiskModel, WritesAreReadAtOnceAndDurableOnlyAfterSync) {
  SimDisk::HandleId file = open("/f");
  write(file, "hello", 0);
  ASSERT_EQ(disk.sync(file), SQLITE_OK);
  write(file, "HE", 0);
  write(file, "!", 7);  // past the end: a zero gap
  EXPECT_EQ(disk.contents("/f"), std::string("HEllo\0\0!", 8));
  EXPECT_EQ(disk.durable_contents("/f"), "hello");
  FileStats stats = stats_of(disk, "/f");
  EXPECT_EQ(stats.writes, 3u);
  EXPECT_EQ(stats.bytes_written, 8u);
  EXPECT_EQ(stats.syncs, 1u);
  EXPECT_EQ(stats.unsynced_writes, 2u);
  EXPECT_EQ(stats.unsynced_bytes, 3u);
  EXPECT_EQ(stats.size_bytes, 8);
  EXPECT_EQ(stats.durable_size_bytes, 5);

  char buffer[10];
  EXPECT_EQ(disk.read(file, buffer, 10, 0), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buffer, 10), std::string("HEllo\0\0!\0\0", 10));

  Prng prng(1);
  PowerLossReport report = disk.power_loss(prng, /*tear=*/false);
  EXPECT_EQ(disk.contents("/f"), "hello");
  EXPECT_EQ(report.files_reverted, 1u);
  EXPECT_EQ(report.bytes_lost, 3u);
  EXPECT_EQ(stats_of(disk, "/f").unsynced_bytes, 0u);
  disk.close(file);
}

// A truncate below the durable size followed by growth must sync as zeros,
// not as the old durable bytes the growth did not overwrite.
TEST_F(DiskModel, SyncAfterShrinkAndGrowPersistsZeros) {
  SimDisk::HandleId file = open("/f");
  write(file, "ABCDEFGH", 0);
  ASSERT_EQ(disk.sync(file), SQLITE_OK);
  ASSERT_EQ(disk.truncate(file, 2), SQLITE_OK);
  ASSERT_EQ(disk.truncate(file, 5), SQLITE_OK);
  write(file, "x", 6);
  ASSERT_EQ(disk.sync(file), SQLITE_OK);
  EXPECT_EQ(disk.durable_contents("/f"), std::string("AB\0\0\0\0x", 7));
  EXPECT_EQ(disk.durable_contents("/f"), disk.contents("/f"));
  disk.close(file);
}

TEST_F(DiskModel, PowerLossRevertsTruncatesAndDropsNeverSyncedFiles) {
  SimDisk::HandleId kept = open("/kept");
  write(kept, "0123456789", 0);
  ASSERT_EQ(disk.sync(kept), SQLITE_OK);
  ASSERT_EQ(disk.truncate(kept, 3), SQLITE_OK);
  SimDisk::HandleId fresh = open("/fresh");
  write(fresh, "never synced", 0);
  Prng prng(1);
  PowerLossReport report = disk.power_loss(prng, /*tear=*/true);
  EXPECT_EQ(disk.contents("/kept"), "0123456789");
  EXPECT_FALSE(disk.exists("/fresh"));
  EXPECT_EQ(report.files_vanished, 1u);
  EXPECT_EQ(report.torn_writes, 0u) << "the last unsynced change of /kept is a truncate";
  disk.close(kept);
  disk.close(fresh);
}

// Each sector of the torn write is all new or all old; over a few seeds
// both outcomes occur, and one seed always gives the same bytes.
TEST_F(DiskModel, TearKeepsWholeSectorsNewOrOld) {
  const std::string old_bytes(4 * 512, 'a');
  const std::string new_bytes(3 * 512 + 100, 'b');  // bytes 700..2335: sectors 1 to 4
  bool saw_kept = false, saw_lost = false;
  for (uint64_t seed = 1; seed <= 16; seed++) {
    SimDisk each(SimDisk::Options{.sector_size_bytes = 512});
    SimDisk::HandleId file = 0;
    ASSERT_EQ(each.open("/f", FileKind::kWal, {.create = true}, &file), SQLITE_OK);
    ASSERT_EQ(each.write(file, old_bytes.data(), old_bytes.size(), 0), SQLITE_OK);
    ASSERT_EQ(each.sync(file), SQLITE_OK);
    ASSERT_EQ(each.write(file, new_bytes.data(), new_bytes.size(), 700), SQLITE_OK);
    Prng prng(seed);
    PowerLossReport report = each.power_loss(prng, /*tear=*/true);
    EXPECT_EQ(report.torn_writes, 1u);
    EXPECT_EQ(report.torn_sectors_kept + report.torn_sectors_lost, 4u);
    std::string after = each.contents("/f");
    ASSERT_GE(after.size(), old_bytes.size());
    for (int64_t start = 0; start < static_cast<int64_t>(after.size()); start += 512) {
      int64_t write_start = std::max<int64_t>(start, 700);
      int64_t write_end = std::min<int64_t>(start + 512, 700 + new_bytes.size());
      if (write_end <= write_start) {
        EXPECT_EQ(after.substr(start, 512), old_bytes.substr(start, 512)) << "not written";
        continue;
      }
      std::string written = after.substr(write_start, write_end - write_start);
      bool all_new = written == std::string(written.size(), 'b');
      bool all_old = written == old_bytes.substr(write_start, written.size());
      EXPECT_TRUE(all_new || all_old) << "seed " << seed << " sector at " << start;
    }
    saw_kept |= report.torn_sectors_kept > 0;
    saw_lost |= report.torn_sectors_lost > 0;
    Prng again(seed);
    SimDisk twin(SimDisk::Options{.sector_size_bytes = 512});
    SimDisk::HandleId twin_file = 0;
    ASSERT_EQ(twin.open("/f", FileKind::kWal, {.create = true}, &twin_file), SQLITE_OK);
    ASSERT_EQ(twin.write(twin_file, old_bytes.data(), old_bytes.size(), 0), SQLITE_OK);
    ASSERT_EQ(twin.sync(twin_file), SQLITE_OK);
    ASSERT_EQ(twin.write(twin_file, new_bytes.data(), new_bytes.size(), 700), SQLITE_OK);
    twin.power_loss(again, /*tear=*/true);
    EXPECT_EQ(twin.fingerprint(), each.fingerprint()) << "seed " << seed;
    each.close(file);
    twin.close(twin_file);
  }
  EXPECT_TRUE(saw_kept);
  EXPECT_TRUE(saw_lost);
}

TEST_F(DiskModel, ProcessCrashKeepsThePageCacheAndKillsEveryHandle) {
  SimDisk::HandleId before = open("/f");
  write(before, "unsynced", 0);
  ASSERT_EQ(disk.lock(before, SQLITE_LOCK_SHARED), SQLITE_OK);
  ASSERT_EQ(disk.lock(before, SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  disk.crash_process();
  EXPECT_FALSE(disk.is_live(before));
  EXPECT_EQ(disk.contents("/f"), "unsynced");
  // The dead handle's writes, truncates and syncs go nowhere.
  EXPECT_EQ(disk.write(before, "XX", 2, 0), SQLITE_OK);
  EXPECT_EQ(disk.truncate(before, 0), SQLITE_OK);
  EXPECT_EQ(disk.sync(before), SQLITE_OK);
  EXPECT_EQ(disk.contents("/f"), "unsynced");
  EXPECT_EQ(disk.durable_contents("/f"), "");
  EXPECT_EQ(disk.lock(before, SQLITE_LOCK_SHARED), SQLITE_IOERR_LOCK);
  EXPECT_EQ(disk.lock_level(before), SQLITE_LOCK_NONE);
  // Its EXCLUSIVE lock went with it: a new process gets one at once.
  SimDisk::HandleId after = open("/f");
  EXPECT_TRUE(disk.is_live(after));
  EXPECT_EQ(disk.lock(after, SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_EQ(disk.lock(after, SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  DiskStats stats = disk.stats();
  EXPECT_EQ(stats.dead_ops_ignored, 3u);
  EXPECT_EQ(stats.dead_ops_refused, 1u);
  EXPECT_EQ(stats.live_handles, 1u);
  disk.close(before);
  disk.close(after);
}

// A delete right after a dead handle's call is the dead process's (its
// close path: xClose(journal), then xDelete(journal)); opening a file makes
// the caller live again.
TEST_F(DiskModel, DeletesFollowTheirCaller) {
  SimDisk::HandleId journal = open("/j");
  disk.crash_process();
  disk.close(journal);
  EXPECT_EQ(disk.remove("/j"), SQLITE_OK);
  EXPECT_TRUE(disk.exists("/j"));
  SimDisk::HandleId live = open("/other");
  EXPECT_EQ(disk.remove("/j"), SQLITE_OK);
  EXPECT_FALSE(disk.exists("/j"));
  EXPECT_EQ(disk.remove("/j"), SQLITE_IOERR_DELETE_NOENT);
  disk.close(live);
}

TEST_F(DiskModel, FileLocksFollowSqlitesProtocolAcrossHandles) {
  SimDisk::HandleId writer = open("/f");
  SimDisk::HandleId reader = open("/f");
  SimDisk::HandleId late = open("/f");
  ASSERT_EQ(disk.lock(writer, SQLITE_LOCK_SHARED), SQLITE_OK);
  ASSERT_EQ(disk.lock(reader, SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_FALSE(disk.reserved(reader));
  ASSERT_EQ(disk.lock(writer, SQLITE_LOCK_RESERVED), SQLITE_OK);
  EXPECT_TRUE(disk.reserved(reader));
  EXPECT_EQ(disk.lock(reader, SQLITE_LOCK_RESERVED), SQLITE_BUSY) << "one writer at a time";
  EXPECT_EQ(disk.lock(reader, SQLITE_LOCK_EXCLUSIVE), SQLITE_BUSY);
  EXPECT_EQ(disk.lock_level(reader), SQLITE_LOCK_SHARED);
  // The writer waits for the reader, holding PENDING: no new readers.
  EXPECT_EQ(disk.lock(writer, SQLITE_LOCK_EXCLUSIVE), SQLITE_BUSY);
  EXPECT_EQ(disk.lock_level(writer), SQLITE_LOCK_PENDING);
  EXPECT_EQ(disk.lock(late, SQLITE_LOCK_SHARED), SQLITE_BUSY);
  ASSERT_EQ(disk.unlock(reader, SQLITE_LOCK_NONE), SQLITE_OK);
  EXPECT_EQ(disk.lock(writer, SQLITE_LOCK_EXCLUSIVE), SQLITE_OK);
  EXPECT_EQ(disk.lock(reader, SQLITE_LOCK_SHARED), SQLITE_BUSY);
  ASSERT_EQ(disk.unlock(writer, SQLITE_LOCK_SHARED), SQLITE_OK);
  EXPECT_FALSE(disk.reserved(reader));
  EXPECT_EQ(disk.lock(late, SQLITE_LOCK_SHARED), SQLITE_OK);
  for (SimDisk::HandleId handle : {writer, reader, late}) disk.close(handle);
}

TEST_F(DiskModel, ShmIsSharedLockedAndEmptyForTheFirstLiveUser) {
  SimDisk::HandleId first = open("/db");
  SimDisk::HandleId second = open("/db");
  void* region_first = nullptr;
  void* region_second = nullptr;
  EXPECT_EQ(disk.shm_map(first, 0, 32768, /*extend=*/false, &region_first), SQLITE_OK);
  EXPECT_EQ(region_first, nullptr) << "not created yet";
  ASSERT_EQ(disk.shm_map(first, 0, 32768, /*extend=*/true, &region_first), SQLITE_OK);
  ASSERT_EQ(disk.shm_map(second, 0, 32768, /*extend=*/false, &region_second), SQLITE_OK);
  EXPECT_EQ(region_first, region_second) << "one wal-index per database";
  static_cast<char*>(region_first)[0] = 'x';

  EXPECT_EQ(disk.shm_lock(first, 3, 1, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_OK);
  EXPECT_EQ(disk.shm_lock(second, 0, 4, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE), SQLITE_BUSY);
  EXPECT_EQ(disk.shm_lock(second, 3, 1, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_OK);
  EXPECT_EQ(disk.shm_lock(first, 3, 1, SQLITE_SHM_UNLOCK | SQLITE_SHM_SHARED), SQLITE_OK);
  EXPECT_EQ(disk.shm_lock(first, 0, 1, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE), SQLITE_OK);
  EXPECT_EQ(disk.shm_lock(second, 0, 1, SQLITE_SHM_LOCK | SQLITE_SHM_SHARED), SQLITE_BUSY);

  // After a crash the dead handles' locks are gone and the next process
  // starts from an empty wal-index; the dead one's memory stays readable.
  disk.crash_process();
  SimDisk::HandleId next = open("/db");
  void* region_next = nullptr;
  ASSERT_EQ(disk.shm_map(next, 0, 32768, /*extend=*/false, &region_next), SQLITE_OK);
  EXPECT_EQ(region_next, nullptr);
  ASSERT_EQ(disk.shm_map(next, 0, 32768, /*extend=*/true, &region_next), SQLITE_OK);
  EXPECT_EQ(static_cast<char*>(region_next)[0], 0);
  EXPECT_EQ(static_cast<char*>(region_first)[0], 'x');
  EXPECT_EQ(disk.shm_lock(next, 0, 8, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE), SQLITE_OK);
  EXPECT_EQ(disk.shm_map(first, 1, 32768, true, &region_first), SQLITE_IOERR_SHMMAP);
  for (SimDisk::HandleId handle : {first, second, next}) disk.close(handle);
}

TEST_F(DiskModel, EveryWriteFaultActionDoesWhatItSays) {
  ScriptedFaults faults;
  disk.set_faults(&faults);
  SimDisk::HandleId file = open("/f");
  struct Case {
    FaultAction action;
    int rc;
    std::string landed;
  };
  const std::vector<Case> cases = {
      {FaultAction::io_error(), SQLITE_IOERR_WRITE, ""},
      {FaultAction::disk_full(), SQLITE_FULL, ""},
      {FaultAction::short_write(2), SQLITE_FULL, "ab"},
      {FaultAction::lands_but_fails(), SQLITE_IOERR_WRITE, "abcd"},
  };
  for (const Case& each : cases) {
    ASSERT_EQ(disk.truncate(file, 0), SQLITE_OK);
    faults.decide([&](Io, const IoSite&) { return each.action; });
    EXPECT_EQ(disk.write(file, "abcd", 4, 0), each.rc);
    faults.decide(nullptr);
    EXPECT_EQ(disk.contents("/f"), each.landed);
  }
  faults.decide([](Io io, const IoSite&) {
    return io == Io::kSync ? FaultAction::io_error() : FaultAction::proceed();
  });
  EXPECT_EQ(disk.sync(file), SQLITE_IOERR_FSYNC);
  EXPECT_EQ(stats_of(disk, "/f").syncs, 0u);
  faults.decide([](Io io, const IoSite&) {
    return io == Io::kSync ? FaultAction::lands_but_fails() : FaultAction::proceed();
  });
  EXPECT_EQ(disk.sync(file), SQLITE_IOERR_FSYNC);
  EXPECT_EQ(disk.durable_contents("/f"), "abcd");
  faults.decide([](Io, const IoSite&) { return FaultAction::process_dies(); });
  EXPECT_EQ(disk.write(file, "zz", 2, 0), SQLITE_IOERR_WRITE);
  EXPECT_FALSE(disk.is_live(file));
  EXPECT_EQ(disk.contents("/f"), "abcd");
  EXPECT_EQ(disk.stats().faults, 7u);
  disk.set_faults(nullptr);
  disk.close(file);
}

}  // namespace
}  // namespace walsim::sim
