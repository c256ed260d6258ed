// SimStorageFaults: the storage seam's fault sites (engine/storage_faults.h).
//
//   storage_busy, storage_io_error  before a write transaction: it fails as
//                     if SQLite had said "database is locked" or "disk I/O
//                     error", and nothing is written
//   statement_error   a statement inside a write transaction fails with
//                     BUSY, IOERR or FULL (transient), the caller rolls back
//   commit_error      COMMIT fails the same way, before doing anything
//   storage_refused   a statement fails with a code that no retry mends
//                     (CONSTRAINT, ERROR, MISMATCH, TOOBIG, READONLY, CORRUPT
//                     or NOTADB), and the same statement keeps failing so
//                     every time it runs, across crashes and power losses,
//                     as a deterministic error does, until an operator
//                     restarts the engine after it stopped. The engine must
//                     stop with a message naming the store and the
//                     statement, not retry.
// Every firing is traced. The engine must retry the transient ones (or give
// up and be restarted).
#pragma once

#include <sqlite3.h>

#include <optional>
#include <string>

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

  int before_statement(const char* sql) override;

  // The statement refused, if any, until clear_refusal().
  struct Refusal {
    std::string sql;
    int rc = SQLITE_OK;
  };
  const std::optional<Refusal>& refusal() const { return refusal_; }
  // The operator mended what refused the statement, and restarts the engine.
  void clear_refusal() { refusal_.reset(); }

 private:
  Buggify& buggify_;
  Trace& trace_;
  std::optional<Refusal> refusal_;
};

}  // namespace walsim::sim
