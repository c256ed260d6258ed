// SimDisk and SimVfs: the disk model on its own, then real SQLite databases
// on it proving what survives a process crash and a power loss, that locks
// and the wal-index work across connections, that every fault surfaces as
// the SQLite error the engine would see, and that a run is reproducible.
#include "sim/sim_disk.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "sim/disk_faults.h"
#include "sim/prng.h"
#include "sim/sim_vfs.h"

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

// One SQLite connection on a SimVfs; closed when it goes out of scope.
class Connection {
 public:
  Connection(const SimVfs& vfs, const std::string& path,
             int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    open_rc_ = sqlite3_open_v2(path.c_str(), &db_, flags, vfs.name().c_str());
    if (db_ != nullptr) sqlite3_busy_timeout(db_, 0);
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int open_rc() const { return open_rc_; }
  void close() {
    if (db_ == nullptr) return;
    EXPECT_EQ(sqlite3_close(db_), SQLITE_OK);
    db_ = nullptr;
  }
  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  int extended_error() const { return sqlite3_extended_errcode(db_); }
  // The first column of the first row as text; "" when there is no row.
  std::string one(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return "<error>";
    }
    std::string result;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      result = text ? reinterpret_cast<const char*>(text) : "";
    } else if (rc != SQLITE_DONE) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      result = "<error>";
    }
    sqlite3_finalize(stmt);
    return result;
  }
  int64_t count() { return std::stoll(one("SELECT count(*) FROM t")); }
  sqlite3* db() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  int open_rc_ = SQLITE_ERROR;
};

// The engine's store settings (engine/sqlite_db.cc): WAL, synchronous=NORMAL.
void make_store(Connection& store, const char* synchronous = "NORMAL") {
  ASSERT_EQ(store.open_rc(), SQLITE_OK);
  ASSERT_EQ(store.one("PRAGMA journal_mode=WAL"), "wal");
  ASSERT_EQ(store.exec(std::string("PRAGMA synchronous=") + synchronous), SQLITE_OK);
  ASSERT_EQ(store.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)"),
            SQLITE_OK);
}

// Rows first .. first+count-1, one commit each.
void insert_rows(Connection& store, int first, int count) {
  for (int id = first; id < first + count; id++) {
    ASSERT_EQ(store.exec("INSERT INTO t VALUES (" + std::to_string(id) +
                         ", printf('%0300d', " + std::to_string(id) + "))"),
              SQLITE_OK)
        << sqlite3_errmsg(store.db());
  }
}

std::string next_vfs_name() {
  static int counter = 0;
  return "walsim-sim-test-" + std::to_string(++counter);
}

constexpr const char* kStore = "/store.db";
constexpr const char* kWal = "/store.db-wal";

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

// ===== SQLite on the disk.

class SqliteOnSimDisk : public ::testing::Test {
 protected:
  SimDisk disk;
  SimVfs vfs{disk, next_vfs_name(), SimVfs::Options{.seed = 7}};
};

TEST_F(SqliteOnSimDisk, OpensItsFilesOnTheSimDisk) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 3);
  char* vfs_name = nullptr;
  ASSERT_EQ(sqlite3_file_control(store.db(), "main", SQLITE_FCNTL_VFSNAME, &vfs_name), SQLITE_OK);
  EXPECT_EQ(std::string(vfs_name), vfs.name());
  sqlite3_free(vfs_name);
  EXPECT_EQ(stats_of(disk, kStore).kind, FileKind::kMainDb);
  EXPECT_EQ(stats_of(disk, kWal).kind, FileKind::kWal);
  EXPECT_GT(stats_of(disk, kWal).size_bytes, 0);
  EXPECT_EQ(store.count(), 3);
  // The last connection to close checkpoints and deletes the -wal.
  store.close();
  EXPECT_FALSE(disk.exists(kWal));
  EXPECT_EQ(vfs.stats().open_files, 0u);
}

// synchronous=NORMAL in WAL mode syncs only at checkpoints: commits after
// the last one live in the page cache and a power loss takes them.
TEST_F(SqliteOnSimDisk, NormalPowerLossLosesCommitsAfterTheLastSync) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 5);
  ASSERT_EQ(store.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
  const uint64_t wal_syncs = stats_of(disk, kWal).syncs;
  insert_rows(store, 6, 10);
  EXPECT_EQ(store.count(), 15);
  FileStats wal = stats_of(disk, kWal);
  EXPECT_EQ(wal.syncs, wal_syncs + 1) << "one sync: the header of the restarted WAL";
  EXPECT_GT(wal.unsynced_bytes, 10u * 300) << "ten commits of 300-byte rows, unsynced";
  EXPECT_EQ(stats_of(disk, kStore).unsynced_writes, 0u);

  Prng prng(1);
  PowerLossReport report = disk.power_loss(prng, /*tear=*/false);
  EXPECT_GE(report.bytes_lost, wal.unsynced_bytes);
  store.close();  // the dead connection: must write nothing

  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 5);
  EXPECT_EQ(reopened.one("SELECT max(id) FROM t"), "5");
}

// A process crash loses nothing the OS accepted; the dead connection,
// closed later, neither checkpoints nor deletes the -wal.
TEST_F(SqliteOnSimDisk, NormalProcessCrashKeepsEveryCommit) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 10);
  ASSERT_GT(stats_of(disk, kWal).unsynced_bytes, 0u);
  disk.crash_process();
  const uint64_t before_close = disk.fingerprint();
  const FileStats wal_before = stats_of(disk, kWal);
  const FileStats db_before = stats_of(disk, kStore);
  store.close();
  EXPECT_EQ(disk.fingerprint(), before_close) << "a dead connection wrote at close";
  ASSERT_TRUE(disk.exists(kWal)) << "a dead connection deleted its -wal";
  EXPECT_EQ(stats_of(disk, kWal).size_bytes, wal_before.size_bytes);
  EXPECT_EQ(stats_of(disk, kStore).writes, db_before.writes) << "no checkpoint at close";
  EXPECT_EQ(stats_of(disk, kStore).syncs, db_before.syncs);
  EXPECT_GT(disk.stats().dead_ops_refused, 0u) << "the close asked for the EXCLUSIVE lock";

  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 10);
}

TEST_F(SqliteOnSimDisk, FullPowerLossLosesNoCommit) {
  Connection store(vfs, kStore);
  make_store(store, "FULL");
  insert_rows(store, 1, 5);
  const uint64_t wal_syncs = stats_of(disk, kWal).syncs;
  insert_rows(store, 6, 10);
  FileStats wal = stats_of(disk, kWal);
  EXPECT_GE(wal.syncs, wal_syncs + 10) << "a sync per commit";
  // SQLite pads a synced commit to the sector boundary with copies of the
  // commit frame, syncs at the boundary (mid-frame) and writes the rest of
  // that copy after the sync: at most one write, under a frame, unsynced.
  EXPECT_LE(wal.unsynced_writes, 1u);
  EXPECT_LT(wal.unsynced_bytes, 4096u + 24u);
  Prng prng(3);
  disk.power_loss(prng, /*tear=*/true);
  store.close();
  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 15);
}

TEST_F(SqliteOnSimDisk, CheckpointMakesEarlierCommitsDurableUnderNormal) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 8);
  const uint64_t db_syncs = stats_of(disk, kStore).syncs;
  ASSERT_EQ(store.one("PRAGMA wal_checkpoint(TRUNCATE)"), "0");  // 0: not busy
  FileStats db = stats_of(disk, kStore);
  EXPECT_GT(db.syncs, db_syncs);
  EXPECT_EQ(db.unsynced_writes, 0u);
  EXPECT_GT(db.durable_size_bytes, 0);
  EXPECT_EQ(stats_of(disk, kWal).size_bytes, 0) << "TRUNCATE empties the -wal";
  insert_rows(store, 9, 4);
  Prng prng(5);
  disk.power_loss(prng, /*tear=*/true);
  store.close();
  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 8);
}

// Many seeds, auto-checkpoints on, with and without tearing: the database
// is intact after every power loss and holds exactly the commits up to the
// last checkpoint under NORMAL (the last one to sync the database file),
// and every commit under FULL.
TEST_F(SqliteOnSimDisk, PowerLossAlwaysLeavesAnIntactDatabase) {
  PowerLossReport torn;
  for (uint64_t seed = 1; seed <= 12; seed++) {
    for (const char* synchronous : {"NORMAL", "FULL"}) {
      SimDisk each(SimDisk::Options{.sector_size_bytes = 512});
      SimVfs each_vfs(each, next_vfs_name(), SimVfs::Options{.seed = seed});
      Prng prng(seed);
      int committed = 0, durable_floor = 0;
      {
        Connection store(each_vfs, kStore);
        make_store(store, synchronous);
        ASSERT_EQ(store.exec("PRAGMA wal_autocheckpoint=8"), SQLITE_OK);
        // At least `commits`, and end with commits no checkpoint covered.
        int commits = static_cast<int>(prng.range(20, 60));
        while (committed < commits || (durable_floor == committed && committed < 200)) {
          uint64_t db_syncs = each.file(kStore) ? each.file(kStore)->syncs : 0;
          insert_rows(store, committed + 1, 1);
          committed++;
          if (each.file(kStore) && each.file(kStore)->syncs > db_syncs) durable_floor = committed;
        }
        PowerLossReport report = each.power_loss(prng, /*tear=*/seed % 2 == 0);
        torn.torn_writes += report.torn_writes;
        torn.torn_sectors_kept += report.torn_sectors_kept;
        torn.torn_sectors_lost += report.torn_sectors_lost;
      }
      Connection reopened(each_vfs, kStore);
      std::string where = std::string(synchronous) + " seed " + std::to_string(seed);
      ASSERT_EQ(reopened.one("PRAGMA integrity_check"), "ok") << where;
      int64_t count = reopened.count();
      EXPECT_EQ(reopened.one("SELECT coalesce(max(id), 0)"
                             " FROM t"), std::to_string(count)) << "a prefix of the commits";
      if (std::string(synchronous) == "FULL") {
        EXPECT_EQ(count, committed) << where;
      } else {
        EXPECT_EQ(count, durable_floor) << where;
        EXPECT_LT(durable_floor, committed) << where << ": the test needs unsynced commits";
      }
    }
  }
  EXPECT_GT(torn.torn_writes, 0u);
  EXPECT_GT(torn.torn_sectors_kept, 0u);
  EXPECT_GT(torn.torn_sectors_lost, 0u);
}

// WAL mode, two connections: the reader's snapshot, the writer lock.
TEST_F(SqliteOnSimDisk, ReaderSeesCommitsAndSecondWriterIsBusy) {
  Connection writer(vfs, kStore);
  make_store(writer);
  insert_rows(writer, 1, 2);
  Connection reader(vfs, kStore);
  Connection other_writer(vfs, kStore);
  EXPECT_EQ(reader.count(), 2);

  ASSERT_EQ(reader.exec("BEGIN"), SQLITE_OK);
  EXPECT_EQ(reader.count(), 2);  // the read transaction's snapshot starts here
  ASSERT_EQ(writer.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  insert_rows(writer, 3, 1);
  EXPECT_EQ(other_writer.exec("BEGIN IMMEDIATE"), SQLITE_BUSY);
  ASSERT_EQ(writer.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(reader.count(), 2) << "snapshot isolation across connections";
  ASSERT_EQ(reader.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(reader.count(), 3);
  ASSERT_EQ(other_writer.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  insert_rows(other_writer, 4, 1);
  ASSERT_EQ(other_writer.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(writer.count(), 4);
  // A checkpoint cannot pass a reader's snapshot: it reports busy.
  ASSERT_EQ(reader.exec("BEGIN"), SQLITE_OK);
  EXPECT_EQ(reader.count(), 4);
  insert_rows(writer, 5, 1);
  EXPECT_EQ(writer.one("PRAGMA wal_checkpoint(TRUNCATE)"), "1");
  ASSERT_EQ(reader.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(writer.one("PRAGMA wal_checkpoint(TRUNCATE)"), "0");
}

// Rollback-journal mode leans on the file locks alone, PENDING included.
TEST_F(SqliteOnSimDisk, RollbackJournalLocksExcludeAsSqliteExpects) {
  Connection writer(vfs, kStore);
  ASSERT_EQ(writer.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
  Connection reader(vfs, kStore);
  Connection late_reader(vfs, kStore);
  ASSERT_EQ(reader.exec("BEGIN"), SQLITE_OK);
  EXPECT_EQ(reader.count(), 0);  // holds SHARED
  ASSERT_EQ(writer.exec("BEGIN IMMEDIATE"), SQLITE_OK);  // RESERVED
  ASSERT_EQ(writer.exec("INSERT INTO t VALUES (1, 'x')"), SQLITE_OK);
  EXPECT_EQ(late_reader.count(), 0) << "RESERVED lets readers in";
  EXPECT_EQ(writer.exec("COMMIT"), SQLITE_BUSY) << "EXCLUSIVE waits for the reader";
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(late_reader.db(), "SELECT count(*) FROM t", -1, &stmt, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_BUSY) << "PENDING keeps new readers out";
  sqlite3_finalize(stmt);
  ASSERT_EQ(reader.exec("COMMIT"), SQLITE_OK);
  ASSERT_EQ(writer.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(late_reader.count(), 1);
  EXPECT_EQ(reader.count(), 1);
}

// A dead connection in the middle of a rollback-mode transaction that
// spilled pages into the database file: its close would roll back and
// delete the hot journal; dead, it may do neither, and the next process
// rolls the journal back itself.
TEST_F(SqliteOnSimDisk, DeadConnectionLeavesItsHotJournal) {
  Connection store(vfs, kStore);
  ASSERT_EQ(store.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
  insert_rows(store, 1, 200);
  const std::string committed_db = disk.contents(kStore);
  ASSERT_EQ(store.exec("PRAGMA cache_size=2"), SQLITE_OK);
  ASSERT_EQ(store.exec("BEGIN"), SQLITE_OK);
  ASSERT_EQ(store.exec("UPDATE t SET v = printf('%0900d', id)"), SQLITE_OK);
  ASSERT_NE(disk.contents(kStore), committed_db) << "the cache spilled into the database";
  disk.crash_process();
  store.close();
  EXPECT_TRUE(disk.exists("/store.db-journal")) << "a dead connection deleted its hot journal";
  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 200);
  EXPECT_EQ(reopened.one("SELECT max(length(v)) FROM t"), "300") << "rolled back";
}

TEST_F(SqliteOnSimDisk, TempFilesAreAnonymousAndClosed) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 30);
  ASSERT_EQ(store.exec("PRAGMA temp_store=FILE; PRAGMA temp.cache_size=2"), SQLITE_OK);
  const uint64_t opened = vfs.stats().files_opened;
  ASSERT_EQ(store.exec("CREATE TEMP TABLE scratch AS"
                       " SELECT a.id * 1000 + b.id AS k, a.v FROM t a, t b"),
            SQLITE_OK);
  EXPECT_EQ(store.one("SELECT count(*) FROM scratch"), "900");
  EXPECT_GT(vfs.stats().files_opened, opened) << "SQLite opened a temp file";
  for (const FileStats& file : disk.files()) EXPECT_NE(file.kind, FileKind::kTemp) << file.path;
  store.close();
  EXPECT_EQ(vfs.stats().open_files, 0u);
  EXPECT_EQ(disk.stats().open_handles, 0u);
}

// ===== Faults, as the engine would see them.

class SqliteFaults : public SqliteOnSimDisk {
 protected:
  void SetUp() override { disk.set_faults(&faults); }
  void TearDown() override { disk.set_faults(nullptr); }
  // Still a working store: a commit, a read, an intact file.
  void expect_usable(Connection& store, int64_t rows) {
    insert_rows(store, 1000 + static_cast<int>(rows), 1);
    EXPECT_EQ(store.count(), rows + 1);
    EXPECT_EQ(store.one("PRAGMA integrity_check"), "ok");
  }
  ScriptedFaults faults;
};

TEST_F(SqliteFaults, WalWriteErrorsFailTheCommit) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 3);
  struct Case {
    FaultAction action;
    int rc;
  };
  for (const Case& each : {Case{FaultAction::io_error(), SQLITE_IOERR_WRITE},
                           Case{FaultAction::disk_full(), SQLITE_FULL},
                           Case{FaultAction::short_write(10), SQLITE_FULL}}) {
    faults.fail_nth(Io::kWrite, FileKind::kWal, 0, each.action);
    EXPECT_EQ(store.exec("INSERT INTO t VALUES (100, 'lost')"), each.rc & 0xFF);
    EXPECT_EQ(store.extended_error(), each.rc);
    faults.decide(nullptr);
    EXPECT_EQ(store.count(), 3);
  }
  expect_usable(store, 3);
}

TEST_F(SqliteFaults, ReadErrorFailsTheStatement) {
  {
    Connection writer(vfs, kStore);
    make_store(writer);
    insert_rows(writer, 1, 3);
    ASSERT_EQ(writer.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
  }
  Connection store(vfs, kStore);  // a cold page cache
  faults.fail_nth(Io::kRead, FileKind::kMainDb, 0, FaultAction::io_error());
  EXPECT_EQ(store.exec("SELECT count(*) FROM t"), SQLITE_IOERR);
  EXPECT_EQ(store.extended_error(), SQLITE_IOERR_READ);
  faults.decide(nullptr);
  EXPECT_EQ(store.count(), 3);
  expect_usable(store, 3);
}

TEST_F(SqliteFaults, SyncErrorFailsAFullCommitAndACheckpoint) {
  Connection store(vfs, kStore);
  make_store(store, "FULL");
  insert_rows(store, 1, 3);
  faults.fail_nth(Io::kSync, FileKind::kWal, 0, FaultAction::io_error());
  EXPECT_EQ(store.exec("INSERT INTO t VALUES (100, 'lost')"), SQLITE_IOERR);
  EXPECT_EQ(store.extended_error(), SQLITE_IOERR_FSYNC);
  faults.decide(nullptr);
  EXPECT_EQ(store.count(), 3) << "the wal-index was not updated: not committed";
  ASSERT_EQ(store.exec("PRAGMA synchronous=NORMAL"), SQLITE_OK);
  faults.fail_nth(Io::kSync, FileKind::kMainDb, 0, FaultAction::io_error());
  EXPECT_EQ(store.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_IOERR);
  EXPECT_EQ(store.extended_error(), SQLITE_IOERR_FSYNC);
  faults.decide(nullptr);
  expect_usable(store, 3);
}

TEST_F(SqliteFaults, TruncateErrorFailsATruncatingCheckpoint) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 3);
  faults.fail_nth(Io::kTruncate, FileKind::kWal, 0, FaultAction::io_error());
  EXPECT_EQ(store.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_IOERR);
  EXPECT_EQ(store.extended_error(), SQLITE_IOERR_TRUNCATE);
  faults.decide(nullptr);
  EXPECT_EQ(faults.count("truncate wal"), 1);
  expect_usable(store, 3);
}

TEST_F(SqliteFaults, ShmMapErrorFailsTheFirstRead) {
  {
    Connection writer(vfs, kStore);
    make_store(writer);
    insert_rows(writer, 1, 3);
  }  // the last close: checkpoint, -wal deleted, wal-index unmapped
  Connection store(vfs, kStore);
  faults.fail_nth(Io::kShmMap, FileKind::kShm, 0, FaultAction::io_error());
  EXPECT_EQ(store.exec("SELECT count(*) FROM t"), SQLITE_IOERR);
  EXPECT_EQ(store.extended_error(), SQLITE_IOERR_SHMMAP);
  faults.decide(nullptr);
  EXPECT_EQ(store.count(), 3);
  expect_usable(store, 3);
}

// The process dies halfway through a commit (between the frame header and
// its page): nothing later reaches the disk, and the next process sees
// the transaction as never committed.
TEST_F(SqliteFaults, ProcessDiesInTheMiddleOfACommit) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 3);
  faults.decide([](Io io, const IoSite& site) {
    return io == Io::kWrite && is_wal_commit_frame_header(site) ? FaultAction::process_dies()
                                                                 : FaultAction::proceed();
  });
  EXPECT_EQ(store.exec("INSERT INTO t VALUES (100, 'half')"), SQLITE_IOERR);
  faults.decide(nullptr);
  EXPECT_EQ(disk.stats().live_handles, 0u);
  store.close();
  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.count(), 3);
}

// The ambiguous commit: the commit frame's page lands in the -wal, the
// write reports EIO, COMMIT fails. In the live process the transaction is
// not there (SQLite updates the wal-index only after every write
// succeeded); after a process crash the next process rebuilds the
// wal-index from the -wal, finds a valid commit frame, and the transaction
// is there. After a power loss instead it is gone (never synced).
TEST_F(SqliteFaults, LandsButFailsOnTheCommitFrameIsAnAmbiguousCommit) {
  for (bool power_loss : {false, true}) {
    SimDisk each;
    SimVfs each_vfs(each, next_vfs_name(), SimVfs::Options{.seed = 11});
    ScriptedFaults commit_fault;
    each.set_faults(&commit_fault);
    Connection store(each_vfs, kStore);
    make_store(store);
    insert_rows(store, 1, 3);
    ASSERT_EQ(store.exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    bool armed = false;
    int failed = 0;
    commit_fault.decide([&](Io io, const IoSite& site) {
      if (io != Io::kWrite || site.kind != FileKind::kWal) return FaultAction::proceed();
      if (armed) {
        armed = false;
        failed++;
        return FaultAction::lands_but_fails();
      }
      armed = is_wal_commit_frame_header(site);  // the commit frame's page comes next
      return FaultAction::proceed();
    });
    EXPECT_EQ(store.exec("INSERT INTO t VALUES (4, 'ambiguous')"), SQLITE_IOERR);
    EXPECT_EQ(store.extended_error(), SQLITE_IOERR_WRITE);
    commit_fault.decide(nullptr);
    ASSERT_EQ(failed, 1);
    EXPECT_EQ(store.count(), 3) << "the failed commit is invisible to its own process";
    {
      Connection other(each_vfs, kStore);
      EXPECT_EQ(other.count(), 3) << "and to any connection sharing its wal-index";
    }
    if (power_loss) {
      Prng prng(2);
      each.power_loss(prng, /*tear=*/false);
    } else {
      each.crash_process();
    }
    // The next process opens before the dead connection is closed: the
    // dead one still maps the old wal-index, the new one must not use it.
    Connection reopened(each_vfs, kStore);
    EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(reopened.count(), power_loss ? 3 : 4) << (power_loss ? "power loss" : "crash");
    EXPECT_EQ(reopened.one("SELECT v FROM t WHERE id = 4"), power_loss ? "" : "ambiguous");
    store.close();
    EXPECT_EQ(reopened.count(), power_loss ? 3 : 4);
    each.set_faults(nullptr);
  }
}

// Once the live process writes again, the ambiguity resolves: its next
// commit overwrites the landed frame, and a crash then keeps only that one.
TEST_F(SqliteFaults, TheNextCommitOverwritesAnAmbiguousOne) {
  Connection store(vfs, kStore);
  make_store(store);
  insert_rows(store, 1, 3);
  bool armed = false;
  faults.decide([&](Io io, const IoSite& site) {
    if (io != Io::kWrite || site.kind != FileKind::kWal) return FaultAction::proceed();
    if (armed) {
      armed = false;
      return FaultAction::lands_but_fails();
    }
    armed = is_wal_commit_frame_header(site);
    return FaultAction::proceed();
  });
  EXPECT_EQ(store.exec("INSERT INTO t VALUES (4, 'ambiguous')"), SQLITE_IOERR);
  faults.decide(nullptr);
  ASSERT_EQ(store.exec("INSERT INTO t VALUES (5, 'after')"), SQLITE_OK);
  disk.crash_process();
  store.close();
  Connection reopened(vfs, kStore);
  EXPECT_EQ(reopened.one("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.one("SELECT group_concat(id) FROM t"), "1,2,3,5");
}

// ===== Determinism.

// A run with commits, random blobs (SQLite's PRNG), a torn power loss and
// a recovery; returns the disk's fingerprint with the -wal still there.
uint64_t run_scenario(uint64_t seed) {
  SimDisk disk(SimDisk::Options{.sector_size_bytes = 512});
  SimVfs vfs(disk, next_vfs_name(), SimVfs::Options{.seed = seed});
  Prng prng(seed);
  {
    Connection store(vfs, kStore);
    make_store(store);
    EXPECT_EQ(store.exec("PRAGMA wal_autocheckpoint=5"), SQLITE_OK);
    for (int i = 0; i < 30; i++) {
      EXPECT_EQ(store.exec("INSERT INTO t(v) VALUES (hex(randomblob(200)))"), SQLITE_OK);
    }
    disk.power_loss(prng, /*tear=*/true);
  }
  Connection store(vfs, kStore);
  EXPECT_EQ(store.one("PRAGMA integrity_check"), "ok");
  for (int i = 0; i < 10; i++) {
    EXPECT_EQ(store.exec("INSERT INTO t(v) VALUES (hex(randomblob(200)))"), SQLITE_OK);
  }
  EXPECT_TRUE(disk.exists(kWal));
  return disk.fingerprint();
}

TEST(SimDiskDeterminism, SameSeedSameBytes) {
  uint64_t first = run_scenario(42);
  EXPECT_EQ(run_scenario(42), first);
  EXPECT_EQ(run_scenario(42), first);
}

// The seed reaches SQLite's own PRNG (WAL salts, randomblob): without the
// reseed, the runs above would differ from each other instead.
TEST(SimDiskDeterminism, OtherSeedOtherBytes) {
  EXPECT_NE(run_scenario(42), run_scenario(43));
}

}  // namespace
}  // namespace walsim::sim
