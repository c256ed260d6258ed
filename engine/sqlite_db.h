// SqliteDb: one SQLite connection with a cache of prepared statements.
//
// The storage seam, with its fault hook (engine/storage_faults.h): the
// engine's only path to SQLite, and the only engine file that calls
// sqlite3_* directly. The other two seams are the source (engine/source.h)
// and the runtime and clock (engine/task.h). The simulator keeps a SqliteDb
// alive across a simulated engine crash (it is the "disk"); the engine
// objects built on it are thrown away and rebuilt, so only what was
// committed survives, as after a real crash.
//
// Which SQL runs against the store, and who owns each table, is in
// engine/storage_schema.h.
//
// Single-threaded: live mode and the simulator both step every task on one
// thread, so a SqliteDb is never shared between threads. Ownership: the
// SqliteDb owns the connection and its statements.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace walsim {

// A prepared statement, reset and unbound each time it is handed out.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text is bound without a copy: it
  // must stay alive until the statement has run (bind and run in one
  // expression, or bind from variables that outlive the loop over rows).
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const std::optional<int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind_null(int index);

  // true: a row is available; false: done. Errors map SQLITE_BUSY to kBusy.
  Result<bool> step();
  // Runs a statement that returns no rows (an INSERT, UPDATE or DELETE):
  // the number of rows it changed.
  Result<int64_t> run();

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::optional<int64_t> optional_int64(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;

  void reset();

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) a database file, or ":memory:". File
  // databases use WAL journaling and synchronous=NORMAL: a commit is durable
  // against process crashes, which is what the engine's acknowledgements
  // promise. A busy timeout makes a second process on the same file (say
  // `walsim inspect` while `walsim replicate` writes) wait for the lock
  // rather than fail at once.
  // With create=false a missing file is kNotFound, nothing is created and
  // the journal mode is left alone (for readers such as `walsim inspect`).
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path,
                                                bool create = true);
  ~SqliteDb();

  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  Status exec(const char* sql);
  // A cached prepared statement for `sql`, reset and unbound.
  Result<Statement*> prepare(const char* sql);

  // BEGIN IMMEDIATE takes the write lock at once, so two writers never
  // deadlock upgrading read locks; a held lock shows up as kBusy here.
  Status begin_immediate();
  Status commit();
  void rollback();  // safe to call when no transaction is open

  const std::string& path() const { return path_; }
  // The raw connection, for the simulator's disk image (sqlite3_backup of
  // the "disk" at a crash). Engine code never uses it.
  sqlite3* handle() { return db_; }

  // A Status for the connection's last error, with `what` in front.
  Status error(const std::string& what) const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  // Keyed by the SQL text's address: callers pass string literals.
  std::map<const char*, std::unique_ptr<Statement>> statements_;
};

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it fails.
template <typename Body>
Status in_transaction(SqliteDb& db, Body&& body) {
  WALSIM_RETURN_IF_ERROR(db.begin_immediate());
  Status status = body();
  if (status.is_ok()) status = db.commit();
  if (!status.is_ok()) db.rollback();
  return status;
}

}  // namespace walsim
