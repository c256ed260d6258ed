#include "engine/sqlite_db.h"

#include "engine/mutant.h"
#include "engine/probe.h"

namespace walsim {

namespace {

// The classification in sqlite_db.h. An error no retry mends must end the
// run (a retry loop would hide it for ever), so only the codes that a
// moment, a lock holder or freed space can clear are transient.
ErrorCode code_of(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ErrorCode::kBusy;
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL: return ErrorCode::kIoError;
    case SQLITE_FULL:
      WALSIM_PROBE("storage_full_seen");
      return ErrorCode::kStorageFull;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return ErrorCode::kCorrupt;
    default: return ErrorCode::kStorageFailed;  // CONSTRAINT, ERROR, MISMATCH, TOOBIG, ...
  }
}

// `db` null: the code did not come from the connection (an injected fault,
// a failed open), so its generic text is the detail.
Status status_from(int rc, sqlite3* db, const std::string& path, const std::string& what,
                   bool retry_all = false) {
  const char* detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const ErrorCode code = retry_all ? ErrorCode::kIoError : code_of(rc);
  return Status(code, "store '" + path + "': " + what + ": " + detail);
}

// A bind fails only on a programming error: an index the statement lacks
// (SQLITE_RANGE), or a statement stepped and not reset (SQLITE_MISUSE).
void check_bind(int rc) {
  WALSIM_ASSERT(rc == SQLITE_OK, "bind a reset statement, at an index it has");
}

// The two sync levels a write transaction switches between, as cached
// statements (sqlite_db.h, StoreSettings).
constexpr const char* kSynchronousDurablePragma = "PRAGMA synchronous=FULL";
constexpr const char* kSynchronousNormalPragma = "PRAGMA synchronous=NORMAL";
static_assert(std::string_view(StoreSettings::kSynchronousDurable) == "FULL");
static_assert(std::string_view(StoreSettings::kSynchronous) == "NORMAL");

}  // namespace

Statement& Statement::bind(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  WALSIM_ASSERT(value.size() <= static_cast<size_t>(INT32_MAX), "SQLite text is under 2 GiB");
  check_bind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                               SQLITE_STATIC));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::step() {
  WALSIM_RETURN_IF_ERROR(db_.injected_fault(sqlite3_sql(stmt_)));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_.status_of(rc, std::string("sqlite step '") + sqlite3_sql(stmt_) + "'");
}

Result<int64_t> Statement::run() {
  WALSIM_ASSIGN_OR_RETURN(bool row, step());
  WALSIM_ASSERT(!row, "run() is for statements that return no rows");
  const int64_t changed = sqlite3_changes64(sqlite3_db_handle(stmt_));
  WALSIM_ASSERT(changed >= 0);
  return changed;
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::string Statement::text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text), size) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

ScopedStatement::ScopedStatement(Statement& statement) : statement_(&statement) {
  WALSIM_ASSERT(!statement.borrowed_, "a statement is borrowed once at a time");
  statement.borrowed_ = true;
}

ScopedStatement::~ScopedStatement() {
  if (statement_ == nullptr) return;  // moved from
  if (!statement_->db_.options_.unsafe_leave_reads_open) statement_->reset();
  statement_->borrowed_ = false;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, Options options) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is used by one thread only (see the header),
  // so SQLite's own per-call locking is pure cost.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, options.vfs);
  if (rc == SQLITE_CANTOPEN && !options.create) {
    sqlite3_close(db);
    return Status(ErrorCode::kNotFound, "store '" + path + "' does not exist");
  }
  if (rc != SQLITE_OK) {
    Status status = status_from(rc, db, path, "cannot open it");
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteDb> result(new SqliteDb(db, path, options));
  sqlite3_busy_timeout(db, 5000);
  // The first read of the file: one that is not SQLite fails here, before
  // anything is written to it.
  Status readable = result->exec("PRAGMA schema_version");
  if (readable.code() == ErrorCode::kCorrupt) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + path + "' is not a walsim store: not a SQLite database");
  }
  WALSIM_RETURN_IF_ERROR(readable);
  // Settings are for writers; a reader (create=false) leaves the file as it
  // is (a walsim store is in WAL mode already).
  if (options.create && path != ":memory:") {
    WALSIM_RETURN_IF_ERROR(result->apply_settings());
    WALSIM_RETURN_IF_ERROR(result->make_recovered_writes_durable());
  }
  return result;
}

// A COMMIT whose sync failed left its frames in the -wal file, in the page
// cache: a process that dies before the next transaction overwrites them
// leaves them to whoever opens the store next, and SQLite's recovery takes
// them for a commit. A durable commit that failed this way had published a
// checkpoint, so the next process served it, and a power loss then took it
// back under the clients that had synced to it (found by the simulator under
// live mode's schedule: tests/regressions/checkpoint-regressed-failed-sync-
// recovered.json). So a writer makes the -wal it opened durable before
// anything reads through it: what it recovered is then the store's, for
// good. One sync per open, of the -wal SQLite opened for the first read.
Status SqliteDb::make_recovered_writes_durable() {
  if (options_.unsafe_no_sync || WALSIM_MUTANT("recovered_wal_served_unsynced")) {
    return Status::ok();
  }
  sqlite3_file* wal = nullptr;
  const int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
  WALSIM_ASSERT(rc == SQLITE_OK, "a connection answers for its journal file");
  // A store in WAL mode opened its -wal at the first read (apply_settings').
  if (wal == nullptr || wal->pMethods == nullptr) return Status::ok();
  const int synced = wal->pMethods->xSync(wal, SQLITE_SYNC_FULL);
  if (synced != SQLITE_OK) return status_of(synced, "cannot sync the -wal file it recovered");
  return Status::ok();
}

Status SqliteDb::apply_settings() {
  const char* synchronous = options_.unsafe_no_sync ? "OFF" : StoreSettings::kSynchronous;
  const std::string settings = std::string("PRAGMA journal_mode=") + StoreSettings::kJournalMode +
                               "; PRAGMA synchronous=" + synchronous +
                               "; PRAGMA cache_size=-" +
                               std::to_string(StoreSettings::kCacheKib) +
                               "; PRAGMA wal_autocheckpoint=" +
                               std::to_string(StoreSettings::kWalAutocheckpointPages) +
                               "; PRAGMA journal_size_limit=" +
                               std::to_string(StoreSettings::kJournalSizeLimitBytes);
  WALSIM_RETURN_IF_ERROR(exec(settings.c_str()));
  // journal_mode answers with the mode it is in: a file it cannot put in
  // WAL mode (say, on a file system without shared memory) would silently
  // keep a rollback journal and other durability.
  std::string journal_mode;
  {
    WALSIM_ASSIGN_OR_RETURN(ScopedStatement mode, prepare("PRAGMA journal_mode"));
    WALSIM_ASSIGN_OR_RETURN(bool row, mode->step());
    WALSIM_ASSERT(row, "PRAGMA journal_mode answers one row");
    journal_mode = mode->text(0);
    // Reset here even in the unsafe_leave_reads_open canary: a pending
    // PRAGMA makes every COMMIT fail ("SQL statements in progress"), and the
    // canary is about reads.
    mode->reset();
  }
  if (journal_mode != "wal") {
    return Status(ErrorCode::kIoError, "store '" + path_ + "' cannot use WAL journaling (mode " +
                                           journal_mode + ")");
  }
  return Status::ok();
}

SqliteDb::~SqliteDb() {
  statements_.clear();  // finalize before closing
  sqlite3_close(db_);
}

Status SqliteDb::exec(const char* sql) {
  WALSIM_RETURN_IF_ERROR(injected_fault(sql));
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::ok();
  sqlite3_free(message);
  return status_of(rc, std::string("sqlite '") + sql + "'");
}

Status SqliteDb::exec_cached(const char* sql) {
  WALSIM_RETURN_IF_ERROR(injected_fault(sql));
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt, prepare(sql));
  const int rc = sqlite3_step(stmt->stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
  return status_of(rc, std::string("sqlite '") + sql + "'");
}

Result<ScopedStatement> SqliteDb::prepare(const char* sql) {
  WALSIM_ASSERT(sql != nullptr);
  auto found = statements_.find(sql);
  if (found != statements_.end()) {
    // Reset when its last borrow ended (the canary resets it only now).
    if (options_.unsafe_leave_reads_open) found->second->reset();
    WALSIM_ASSERT(!found->second->mid_read(), "a statement rests reset");
    return ScopedStatement(*found->second);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return status_of(rc, std::string("prepare '") + sql + "'");
  auto owned = std::make_unique<Statement>(stmt, *this);
  Statement& cached = *owned;
  statements_.emplace(sql, std::move(owned));
  return ScopedStatement(cached);
}

Status SqliteDb::begin_immediate(Durability durability) {
  WALSIM_ASSERT(!in_write_transaction_, "write transactions do not nest");
  // ":memory:" has no disk to sync, and SQLite ignores the level there.
  if (durability == Durability::kSurvivesPowerLoss && !options_.unsafe_no_sync) {
    WALSIM_RETURN_IF_ERROR(exec_cached(kSynchronousDurablePragma));
    durable_transaction_ = true;
  }
  Status begun = exec_cached("BEGIN IMMEDIATE");
  if (!begun.is_ok()) {
    end_write_transaction();
    return begun;
  }
  in_write_transaction_ = true;
  return Status::ok();
}

Status SqliteDb::commit() {
  WALSIM_ASSERT(in_write_transaction_, "COMMIT ends a write transaction begun here");
  WALSIM_RETURN_IF_ERROR(exec_cached("COMMIT"));
  in_write_transaction_ = false;
  end_write_transaction();
  return Status::ok();
}

void SqliteDb::rollback() {
  in_write_transaction_ = false;
  if (!sqlite3_get_autocommit(db_)) {
    // Best effort, as before: a failed ROLLBACK leaves SQLite to roll back.
    auto stmt = prepare("ROLLBACK");
    if (stmt.is_ok()) sqlite3_step((*stmt)->stmt_);
  }
  end_write_transaction();
}

void SqliteDb::end_write_transaction() {
  if (!durable_transaction_) return;
  durable_transaction_ = false;
  // Cannot fail outside a transaction: the level is a field of the
  // connection, and setting it does no I/O.
  auto stmt = prepare(kSynchronousNormalPragma);
  WALSIM_ASSERT(stmt.is_ok(), "a PRAGMA prepares");
  const int rc = sqlite3_step((*stmt)->stmt_);
  WALSIM_ASSERT(rc == SQLITE_DONE || rc == SQLITE_ROW, "the sync level is set outside a transaction");
}

Status SqliteDb::injected_fault(const char* sql) const {
  if (faults_ == nullptr || !in_write_transaction_) return Status::ok();
  const int rc = faults_->before_statement(sql);
  if (rc == SQLITE_OK) return Status::ok();
  return status_from(rc, nullptr, path_, std::string("sqlite '") + sql + "'",
                     options_.unsafe_retry_all_errors);
}

Status SqliteDb::status_of(int rc, const std::string& what) const {
  return status_from(rc, db_, path_, what, options_.unsafe_retry_all_errors);
}

Status SqliteDb::error(const std::string& what) const {
  return status_from(sqlite3_errcode(db_), db_, path_, what, options_.unsafe_retry_all_errors);
}

}  // namespace walsim
