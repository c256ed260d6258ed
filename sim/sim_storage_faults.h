// SimStorageFaults: the disk's fault site. The engine's storage asks it
// before every write transaction; when a fault fires the write fails as if
// SQLite had said "database is locked" or "disk I/O error", and nothing is
// written, so the engine must retry (or give up and be restarted).
#pragma once

#include "engine/storage_faults.h"
#include "sim/buggify.h"
#include "sim/trace.h"

namespace walsim::sim {

class SimStorageFaults : public StorageFaults {
 public:
  SimStorageFaults(Buggify& buggify, Trace& trace) : buggify_(buggify), trace_(trace) {}

  Status before_write(const char* operation) override {
    if (buggify_.fire(FaultKind::kStorageBusy)) {
      trace_.record(std::string("fault:storage_busy ") + operation);
      return Status(ErrorCode::kBusy, std::string(operation) + ": database is locked");
    }
    if (buggify_.fire(FaultKind::kStorageIoError)) {
      trace_.record(std::string("fault:storage_io_error ") + operation);
      return Status(ErrorCode::kIoError, std::string(operation) + ": disk I/O error");
    }
    return Status::ok();
  }

 private:
  Buggify& buggify_;
  Trace& trace_;
};

}  // namespace walsim::sim
