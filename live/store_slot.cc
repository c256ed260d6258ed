#include "live/store_slot.h"

#include <sys/stat.h>

#include <memory>

#include "engine/sqlite_db.h"

namespace walsim {

namespace {

bool file_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

bool is_directory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

Status check_not_directory(const std::string& path) {
  if (!is_directory(path)) return Status::ok();
  // SQLite cannot open a directory and says so as "cannot open", which
  // reads like a missing file.
  std::string example = path;
  if (!example.ends_with('/')) example += '/';
  return Status(ErrorCode::kInvalidArgument, "'" + path +
                                                 "' is a directory; the store is a file in "
                                                 "one: name the file, e.g. '" + example +
                                                 "walsim.db'");
}

Result<StoreFacts> probe_store(const std::string& path) {
  WALSIM_RETURN_IF_ERROR(check_not_directory(path));
  if (!file_exists(path)) return StoreFacts{};
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::open(path, /*create=*/false));
  return BucketStorage::probe(*db);
}

}  // namespace walsim
