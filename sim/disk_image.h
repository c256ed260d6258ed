// DiskImage: a copy of the store's committed state at one instant.
//
// The crash-at-ack fault takes one the moment the engine acknowledges, and
// after the step puts it back before restarting the engine: the restarted
// engine sees exactly what a crash at the acknowledgement would have left.
// Copies go through SQLite's online backup API, which copies committed
// pages only.
#pragma once

#include <sqlite3.h>

#include <memory>

#include "engine/status.h"

namespace walsim::sim {

// What a dead process leaves on its connection: no open transaction and
// no statement in the middle of a read.
void release_connection(sqlite3* db);

class DiskImage {
 public:
  static Result<std::unique_ptr<DiskImage>> capture(sqlite3* db);
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  // Overwrites `db`'s main database with the image.
  Status restore_into(sqlite3* db) const;

 private:
  explicit DiskImage(sqlite3* copy) : copy_(copy) {}
  sqlite3* copy_;
};

}  // namespace walsim::sim
