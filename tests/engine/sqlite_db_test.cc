// SqliteDb: which SQLite errors are transient and which end a run, what
// their messages say, and that no borrowed statement keeps a read open.
#include "engine/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace walsim {
namespace {

// Fails the statement whose SQL is `sql` with `rc`, inside write transactions.
class FailOne : public StorageFaults {
 public:
  Status before_write(const char*) override { return Status::ok(); }
  int before_statement(const char* sql) override { return sql == sql_ ? rc_ : SQLITE_OK; }
  std::string sql_;
  int rc_ = SQLITE_OK;
};

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::open(":memory:");
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").is_ok());
    db_->set_faults(&faults_);
  }

  // The error a write transaction gets when its INSERT fails with `rc`.
  Status insert_failing_with(int rc) {
    faults_.sql_ = kInsert;
    faults_.rc_ = rc;
    return in_transaction(*db_, [&]() -> Status {
      WALSIM_ASSIGN_OR_RETURN(ScopedStatement insert, db_->prepare(kInsert));
      return insert->bind(1, "x").run().status();
    });
  }

  static constexpr const char* kInsert = "INSERT INTO t (v) VALUES (?1)";
  FailOne faults_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, BusyIoAndFullAreTransient) {
  for (int rc : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_IOERR_FSYNC, SQLITE_NOMEM,
                 SQLITE_FULL}) {
    Status status = insert_failing_with(rc);
    EXPECT_TRUE(status.is_transient()) << rc << ": " << status.to_string();
  }
  EXPECT_EQ(insert_failing_with(SQLITE_FULL).code(), ErrorCode::kStorageFull);
}

TEST_F(SqliteDbTest, DeterministicErrorsEndTheRunNamingStoreAndStatement) {
  for (int rc : {SQLITE_CONSTRAINT, SQLITE_ERROR, SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_READONLY,
                 SQLITE_CORRUPT, SQLITE_NOTADB}) {
    Status status = insert_failing_with(rc);
    EXPECT_FALSE(status.is_transient()) << rc << ": " << status.to_string();
    EXPECT_NE(status.message().find("store ':memory:'"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(kInsert), std::string::npos) << status.message();
  }
  EXPECT_EQ(insert_failing_with(SQLITE_CORRUPT).code(), ErrorCode::kCorrupt);
  EXPECT_EQ(insert_failing_with(SQLITE_CONSTRAINT).code(), ErrorCode::kStorageFailed);
}

TEST_F(SqliteDbTest, ARealConstraintErrorIsNotRetried) {
  db_->set_faults(nullptr);
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, v) VALUES (1, 'a')").is_ok());
  Status duplicate = db_->exec("INSERT INTO t (id, v) VALUES (1, 'b')");
  EXPECT_EQ(duplicate.code(), ErrorCode::kStorageFailed) << duplicate.to_string();
  EXPECT_NE(duplicate.message().find("UNIQUE constraint failed"), std::string::npos);
}

TEST_F(SqliteDbTest, ABorrowedStatementReadsNoLongerThanTheBorrow) {
  ASSERT_TRUE(db_->exec("INSERT INTO t (v) VALUES ('a'), ('b')").is_ok());
  {
    auto select = db_->prepare("SELECT v FROM t ORDER BY id");
    ASSERT_TRUE(select.is_ok());
    auto row = (*select)->step();
    ASSERT_TRUE(row.is_ok() && *row);
    EXPECT_TRUE((*select)->mid_read()) << "one row read, one to go: the read is open";
  }
  for (sqlite3_stmt* stmt = sqlite3_next_stmt(db_->handle(), nullptr); stmt != nullptr;
       stmt = sqlite3_next_stmt(db_->handle(), stmt)) {
    EXPECT_FALSE(sqlite3_stmt_busy(stmt)) << sqlite3_sql(stmt);
  }
}

// Outside a write transaction the hook is not asked: reads never fail on it.
TEST_F(SqliteDbTest, TheHookIsAskedOnlyInsideWriteTransactions) {
  faults_.sql_ = "SELECT count(*) FROM t";
  faults_.rc_ = SQLITE_CORRUPT;
  auto count = db_->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.is_ok());
  EXPECT_TRUE((*count)->step().is_ok());
}

}  // namespace
}  // namespace walsim
