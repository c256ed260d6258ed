// SqliteDb: one SQLite connection with a cache of prepared statements.
//
// The storage seam, with its fault hook (engine/storage_faults.h): the
// engine's only path to SQLite, and the only engine file that calls
// sqlite3_* directly. The other two seams are the source (engine/source.h)
// and the runtime and clock (engine/task.h). Live mode opens the store on
// the file system; the simulator opens it on its simulated disk (a VFS
// named in Options), with the same settings (StoreSettings below), and
// crashes the process or cuts the power under it.
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
#include "engine/storage_faults.h"

namespace walsim {

// The store's connection settings: the one place they are chosen. Live mode
// and the simulator both open the store through SqliteDb::open, which
// applies them. The durability they give (docs/design.md, "Durability"):
//   a commit under kSynchronous (WAL, synchronous=NORMAL) survives a process
//   crash, but may roll back after a power loss or OS crash, until a later
//   sync of the -wal file covers it;
//   a durable write transaction (Durability::kSurvivesPowerLoss) commits
//   under kSynchronousDurable (synchronous=FULL): the -wal file is synced
//   before COMMIT returns, which makes that commit and every commit before
//   it survive a power loss. The engine acknowledges to the source only up
//   to such a commit.
struct StoreSettings {
  static constexpr const char* kJournalMode = "WAL";
  static constexpr const char* kSynchronous = "NORMAL";
  static constexpr const char* kSynchronousDurable = "FULL";
  // 64 MiB of page cache: the bucket index and current data are written at
  // scattered keys, and re-reading their pages from the OS on every insert
  // costs more than the memory.
  static constexpr int kCacheKib = 65536;
  // SQLite's default: fold the -wal back into the database once it holds
  // this many pages. A checkpoint cannot pass an open read, so no
  // statement may stay mid-read (ScopedStatement).
  static constexpr int kWalAutocheckpointPages = 1000;
  // A -wal file that grew past this (a long transaction, checkpoints that
  // kept failing) is cut back to it when SQLite next starts it over, so its
  // size, and the replay after a crash, stay bounded.
  static constexpr int64_t kJournalSizeLimitBytes = 64 << 20;
};

class SqliteDb;

// What a write transaction's COMMIT must survive before it returns.
enum class Durability {
  kSurvivesCrash,      // a process crash (synchronous=NORMAL): no sync
  kSurvivesPowerLoss,  // a power loss too (synchronous=FULL): the -wal is synced
};

// A prepared statement, kept in its connection's cache. Borrowed through a
// ScopedStatement, which resets it when the borrow ends.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, SqliteDb& db) : stmt_(stmt), db_(db) {}
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

  // true: a row is available; false: done. Errors are classified as
  // SqliteDb's header says (transient or not).
  Result<bool> step();
  // Runs a statement that returns no rows (an INSERT, UPDATE or DELETE):
  // the number of rows it changed.
  Result<int64_t> run();

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::optional<int64_t> optional_int64(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;

  // Ends the statement's read (if it is mid-read) and unbinds it.
  void reset();
  // Stepped to a row and not yet done or reset: a read is open.
  bool mid_read() const { return sqlite3_stmt_busy(stmt_) != 0; }

 private:
  friend class ScopedStatement;
  friend class SqliteDb;  // steps its cached transaction statements
  sqlite3_stmt* stmt_;
  SqliteDb& db_;
  bool borrowed_ = false;
};

// One use of a cached statement. A statement stepped to a row and left
// there keeps a read transaction open, and an open read stops every SQLite
// checkpoint from passing it: the -wal file then grows without bound. So the
// borrow resets the statement when it ends, whatever the caller read.
class ScopedStatement {
 public:
  explicit ScopedStatement(Statement& statement);
  ~ScopedStatement();
  ScopedStatement(ScopedStatement&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ScopedStatement(const ScopedStatement&) = delete;
  ScopedStatement& operator=(const ScopedStatement&) = delete;

  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

// How an SQLite error is reported (status_from in sqlite_db.cc):
//   BUSY, LOCKED                      kBusy          transient: retried
//   IOERR (any), NOMEM, PROTOCOL      kIoError       transient: retried
//   FULL                              kStorageFull   transient: retried until
//                                                    space returns
//   CORRUPT, NOTADB                   kCorrupt       not retried
//   CONSTRAINT, ERROR, MISMATCH, TOOBIG, READONLY and every other code
//                                     kStorageFailed not retried
// Every message names the store (its path) and the statement, so the one
// that ends a run says where to look: "store '/data/s.db': sqlite step
// 'INSERT INTO bucket_data ...': UNIQUE constraint failed: ...".
class SqliteDb {
 public:
  struct Options {
    // false: a missing file is kNotFound, nothing is created and the
    // settings are left alone (for readers such as `walsim inspect`).
    bool create = true;
    // The sqlite3_vfs to open the file on; nullptr: the default (the real
    // file system). The simulator names its simulated disk here.
    const char* vfs = nullptr;
    // Canaries only, each a known-unsafe mode the simulator must catch
    // (sim/params.h, canaries()):
    //   unsafe_no_sync: synchronous=OFF, and durable transactions sync
    //     nothing either, so nothing ever survives a power loss;
    //   unsafe_leave_reads_open: a ScopedStatement does not reset its
    //     statement when the borrow ends (only when next borrowed), so one
    //     stepped to a row keeps its read open;
    //   unsafe_retry_all_errors: every SQLite error is a retryable kIoError.
    bool unsafe_no_sync = false;
    bool unsafe_leave_reads_open = false;
    bool unsafe_retry_all_errors = false;
  };

  // Opens (creating if needed) a database file, or ":memory:". File
  // databases get StoreSettings, and a writer's open syncs the -wal file
  // it recovered before anything is read through it (sqlite_db.cc). A busy timeout makes a second process on
  // the same file (say `walsim inspect` while `walsim replicate` writes)
  // wait for the lock rather than fail at once.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, Options options);
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, bool create = true) {
    return open(path, Options{create});
  }
  ~SqliteDb();

  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  Status exec(const char* sql);
  // A cached prepared statement for `sql`, unbound, borrowed until the
  // ScopedStatement goes. A statement is borrowed once at a time.
  Result<ScopedStatement> prepare(const char* sql);

  // BEGIN IMMEDIATE takes the write lock at once, so two writers never
  // deadlock upgrading read locks; a held lock shows up as kBusy here.
  // `durability` is what the transaction's COMMIT will survive (SQLite
  // fixes the sync level outside a transaction, so it is chosen here).
  Status begin_immediate(Durability durability = Durability::kSurvivesCrash);
  // COMMIT. After kSurvivesPowerLoss returns ok, that commit and every one
  // before it survive a power loss. On an error the commit may still have
  // reached the disk (an ambiguous commit): it is not visible to this
  // connection, but the next process to open the store may recover it.
  Status commit();
  void rollback();  // safe to call when no transaction is open
  bool in_write_transaction() const { return in_write_transaction_; }

  // The hook consulted before every statement inside a write transaction
  // and before COMMIT (storage_faults.h); nullptr for none. Not owned.
  void set_faults(StorageFaults* faults) { faults_ = faults; }

  const std::string& path() const { return path_; }
  // The raw connection, for the simulator's invariants (open transactions
  // and reads between steps). Engine code never uses it.
  sqlite3* handle() { return db_; }

  // A Status for the connection's last error, with `what` in front.
  Status error(const std::string& what) const;

 private:
  friend class Statement;
  friend class ScopedStatement;
  SqliteDb(sqlite3* db, std::string path, Options options)
      : db_(db), path_(std::move(path)), options_(options) {}

  Status apply_settings();
  Status make_recovered_writes_durable();
  // exec() of one statement through the statement cache: the transaction
  // statements (BEGIN IMMEDIATE, COMMIT, the sync level) run on every write
  // and are parsed once.
  Status exec_cached(const char* sql);
  // The fault hook's verdict for `sql` inside a write transaction.
  Status injected_fault(const char* sql) const;
  Status status_of(int rc, const std::string& what) const;
  // Back to kSynchronous after a durable transaction ends.
  void end_write_transaction();

  sqlite3* db_;
  std::string path_;
  Options options_;
  StorageFaults* faults_ = nullptr;
  bool in_write_transaction_ = false;
  bool durable_transaction_ = false;
  // Keyed by the SQL text's address: callers pass string literals.
  std::map<const char*, std::unique_ptr<Statement>> statements_;
};

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it fails.
template <typename Body>
Status in_transaction(SqliteDb& db, Body&& body,
                      Durability durability = Durability::kSurvivesCrash) {
  WALSIM_RETURN_IF_ERROR(db.begin_immediate(durability));
  Status status = body();
  if (status.is_ok()) status = db.commit();
  if (!status.is_ok()) db.rollback();
  return status;
}

// Runs `body`, a series of reads, inside one read transaction (BEGIN ..
// COMMIT with no write): every read sees the same committed state, whatever
// another connection commits meanwhile. In WAL mode it blocks no writer.
template <typename Body>
Status in_read_transaction(SqliteDb& db, Body&& body) {
  WALSIM_ASSERT(!db.in_write_transaction(), "a read transaction is not nested in a write");
  WALSIM_RETURN_IF_ERROR(db.exec("BEGIN DEFERRED"));
  Status status = body();
  Status ended = db.exec("COMMIT");
  if (!ended.is_ok()) db.rollback();
  return status.is_ok() ? ended : status;
}

}  // namespace walsim
