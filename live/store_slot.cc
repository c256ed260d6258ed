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

}  // namespace

Result<StoreFacts> probe_store(const std::string& path) {
  if (!file_exists(path)) return StoreFacts{};
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::open(path, /*create=*/false));
  return BucketStorage::probe(*db);
}

}  // namespace walsim
