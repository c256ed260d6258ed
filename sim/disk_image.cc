#include "sim/disk_image.h"

namespace walsim::sim {

namespace {

Status copy_database(sqlite3* from, sqlite3* to) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (!backup) return Status(ErrorCode::kIoError, std::string("backup: ") + sqlite3_errmsg(to));
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return Status(ErrorCode::kIoError, std::string("backup step: ") + sqlite3_errstr(rc));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<DiskImage>> DiskImage::capture(sqlite3* db) {
  sqlite3* copy = nullptr;
  if (sqlite3_open(":memory:", &copy) != SQLITE_OK) {
    sqlite3_close(copy);
    return Status(ErrorCode::kIoError, "cannot open an in-memory database for a disk image");
  }
  std::unique_ptr<DiskImage> image(new DiskImage(copy));
  WALSIM_RETURN_IF_ERROR(copy_database(db, copy));
  return image;
}

DiskImage::~DiskImage() { sqlite3_close(copy_); }

void release_connection(sqlite3* db) {
  // A statement stepped but never reset holds a read open.
  for (sqlite3_stmt* stmt = sqlite3_next_stmt(db, nullptr); stmt;
       stmt = sqlite3_next_stmt(db, stmt)) {
    sqlite3_reset(stmt);
  }
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

// The destination must be released first (see Simulation::stop_engine).
Status DiskImage::restore_into(sqlite3* db) const { return copy_database(copy_, db); }

}  // namespace walsim::sim
