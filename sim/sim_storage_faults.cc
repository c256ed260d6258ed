#include "sim/sim_storage_faults.h"

#include <string_view>
#include <vector>

namespace walsim::sim {

namespace {

// The statement as a trace line shows it: its first words.
std::string abbreviated(std::string_view sql) {
  constexpr size_t kShown = 48;
  return std::string(sql.substr(0, kShown)) + (sql.size() > kShown ? "..." : "");
}

}  // namespace

int SimStorageFaults::before_statement(const char* sql) {
  const std::string_view statement(sql);
  if (refusal_ && refusal_->sql == statement) return refusal_->rc;
  if (statement == "COMMIT") {
    if (!buggify_.fire(FaultKind::kCommitError)) return SQLITE_OK;
    static const std::vector<int> kCodes = {SQLITE_BUSY, SQLITE_IOERR_WRITE, SQLITE_FULL};
    const int rc = kCodes[buggify_.range(0, 2)];
    trace_.record(std::string("fault:commit_error ") + sqlite3_errstr(rc));
    return rc;
  }
  if (buggify_.fire(FaultKind::kStatementError)) {
    static const std::vector<int> kCodes = {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR_READ,
                                            SQLITE_IOERR_WRITE, SQLITE_FULL};
    const int rc = kCodes[buggify_.range(0, 4)];
    trace_.record("fault:statement_error " + abbreviated(statement) + ": " + sqlite3_errstr(rc));
    return rc;
  }
  if (buggify_.fire(FaultKind::kStorageRefused)) {
    static const std::vector<int> kCodes = {SQLITE_CONSTRAINT, SQLITE_ERROR,    SQLITE_MISMATCH,
                                            SQLITE_TOOBIG,     SQLITE_READONLY, SQLITE_CORRUPT,
                                            SQLITE_NOTADB};
    refusal_ = Refusal{std::string(statement), kCodes[buggify_.range(0, 6)]};
    trace_.record("fault:storage_refused " + abbreviated(statement) + ": " +
                  sqlite3_errstr(refusal_->rc));
    return refusal_->rc;
  }
  return SQLITE_OK;
}

}  // namespace walsim::sim
