#include "tests/live/live_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/live/items_table.h"

namespace walsim::live::testing {

void LiveFixture::SetUpTestSuite() {
  if (!PgTestServer::binaries_available()) return;
  PgTestServer::Options options;
  // For the password tests: this role must log in with its password.
  options.hba_lines = {"local all " + std::string(kPasswordUser) + " scram-sha-256"};
  Result<std::unique_ptr<PgTestServer>> started = PgTestServer::start(options);
  if (started.is_ok()) {
    server_ = std::move(started).value();
  } else {
    start_error_ = started.status().to_string();
  }
}

void LiveFixture::TearDownTestSuite() { server_.reset(); }

void LiveFixture::SetUp() {
  if (!PgTestServer::binaries_available()) {
    // CI sets WALSIM_REQUIRE_POSTGRES=1: there, no Postgres is a broken CI, not a skip.
    const char* required = std::getenv("WALSIM_REQUIRE_POSTGRES");
    if (required && std::string(required) == "1") {
      FAIL() << "WALSIM_REQUIRE_POSTGRES=1 and no Postgres binaries in " << PgTestServer::bin_dir();
    }
    GTEST_SKIP() << "Postgres binaries not found in " << PgTestServer::bin_dir();
  }
  ASSERT_NE(server_, nullptr) << "cannot start Postgres: " << start_error_;
  const char* root = std::getenv("TEST_TMPDIR");
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  temp_dir_ = std::string(root ? root : "/tmp") + "/" + info->test_suite_name() + "." +
              info->name();
  std::filesystem::remove_all(temp_dir_);
  std::filesystem::create_directories(temp_dir_);
}

void LiveFixture::TearDown() {
  // Slots hold WAL back; drop the inactive ones this test made.
  if (server_) {
    (void)server_
        ->exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
               "WHERE NOT active")
        .is_ok();
  }
}

void LiveFixture::sql(const std::string& statements) {
  Status status = server_->exec(statements);
  ASSERT_TRUE(status.is_ok()) << status.to_string() << "\nin: " << statements;
}

std::string LiveFixture::value(const std::string& query) {
  Result<std::string> result = server_->query_value(query);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : "";
}

std::string LiveFixture::temp_path(const std::string& file) { return temp_dir_ + "/" + file; }

std::string LiveFixture::write_file(const std::string& file, const std::string& text) {
  std::string path = temp_path(file);
  std::ofstream(path) << text;
  return path;
}

SessionConfig LiveFixture::items_config(const std::string& name,
                                        const std::vector<std::string>& tables, int rows) {
  std::string list;
  for (const std::string& table : tables) {
    sql(create_items_sql(table, rows));
    list += (list.empty() ? "" : ", ") + table;
  }
  sql("CREATE PUBLICATION " + name + "_pub FOR TABLE " + list);
  return config(name, items_rules(tables));
}

SessionConfig LiveFixture::config(const std::string& name, const std::string& rules_yaml) {
  SessionConfig config;
  config.conninfo = server_->conninfo();
  config.store_path = temp_path(name + ".db");
  config.rules_path = write_file(name + ".yaml", rules_yaml);
  config.slot = name;
  config.publication = name + "_pub";
  config.runtime.ping_interval_ms = 200;
  config.runtime.backoff_max_ms = 500;
  return config;
}

std::unique_ptr<ReplicationSession> LiveFixture::open(const SessionConfig& config) {
  Result<std::unique_ptr<ReplicationSession>> session = ReplicationSession::open(
      config, [this](const std::string& notice) { notices_.push_back(notice); });
  EXPECT_TRUE(session.is_ok()) << session.status().to_string();
  return session.is_ok() ? std::move(session).value() : nullptr;
}

void LiveFixture::run_until(ReplicationSession& session, const std::function<bool()>& done,
                            const std::string& what, int64_t timeout_ms) {
  RunControl control;
  control.until = done;
  control.timeout_ms = timeout_ms;
  Result<RunOutcome> outcome = session.run(control);
  ASSERT_TRUE(outcome.is_ok()) << "replication failed: " << outcome.status().to_string();
  ASSERT_EQ(*outcome, RunOutcome::kReached)
      << "timed out after " << timeout_ms << " ms waiting for " << what << "\n"
      << describe_state(session);
}

void LiveFixture::converge(ReplicationSession& session, int64_t timeout_ms) {
  std::optional<Lsn> target = Lsn::parse(value("SELECT pg_current_wal_lsn()"));
  ASSERT_TRUE(target.has_value());
  BucketStorage& storage = session.storage();
  Lsn reached;
  RunControl control;
  control.until = [&] {
    Result<std::optional<Checkpoint>> checkpoint = storage.checkpoint();
    if (checkpoint.is_ok() && *checkpoint) reached = (*checkpoint)->lsn;
    return reached >= *target;
  };
  control.timeout_ms = timeout_ms;
  Result<RunOutcome> outcome = session.run(control);
  ASSERT_TRUE(outcome.is_ok()) << "replication failed: " << outcome.status().to_string();
  ASSERT_EQ(*outcome, RunOutcome::kReached)
      << "no convergence in " << timeout_ms << " ms: the checkpoint is at "
      << reached.to_string() << ", the source was at " << target->to_string() << "\n"
      << describe_state(session);
}

std::string LiveFixture::describe_state(ReplicationSession& session) {
  std::string out;
  BucketStorage& storage = session.storage();
  if (Result<ReplicationState> state = storage.replication_state(); state.is_ok()) {
    out += "state: snapshot_done=" + std::to_string(state->snapshot_done) +
           " last_checkpoint=" + std::to_string(state->last_checkpoint.value_or(-1)) +
           " last_checkpoint_lsn=" +
           (state->last_checkpoint_lsn ? state->last_checkpoint_lsn->to_string() : "none") +
           " no_checkpoint_before=" +
           (state->no_checkpoint_before ? state->no_checkpoint_before->to_string() : "none") +
           " keepalive_op=" + std::to_string(state->keepalive_op.value_or(-1)) + "\n";
  }
  if (Result<std::vector<TableState>> tables = storage.tables(); tables.is_ok()) {
    for (const TableState& table : *tables) {
      out += "table " + table.table + " relid=" + std::to_string(table.relation.relid) +
             " done=" + std::to_string(table.snapshot_done) +
             " rows_copied=" + std::to_string(table.rows_copied) +
             " generation=" + std::to_string(table.generation) + "\n";
    }
  }
  const ReplicatorProgress& p = session.progress();
  out += "progress: transactions=" + std::to_string(p.transactions_applied) +
         " changes=" + std::to_string(p.changes_applied) +
         " keepalives=" + std::to_string(p.keepalives) +
         " checkpoints=" + std::to_string(p.checkpoints_created) +
         " reconnects=" + std::to_string(p.stream_reconnects) +
         " retries=" + std::to_string(p.retries) +
         " tables_snapshotted=" + std::to_string(p.tables_snapshotted) +
         " all_snapshots_done=" + std::to_string(p.all_snapshots_done) +
         " received=" + p.last_received_lsn.to_string() +
         " acknowledged=" + p.last_acknowledged_lsn.to_string() + "\n";
  if (session.source().last_error()) {
    out += "last source error: " + session.source().last_error()->to_string() + "\n";
  }
  return out;
}

void LiveFixture::expect_buckets_match(BucketStorage& storage,
                                       const std::vector<std::string>& queries) {
  Result<std::unique_ptr<PgConnection>> connection =
      PgConnection::open(server_->conninfo(), PgConnection::Mode::kNormal);
  ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
  Result<BucketContents> expected = source_buckets(**connection, queries);
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  Result<BucketContents> actual = store_buckets(storage);
  ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
  // Not EXPECT_EQ: gtest would print both maps whole.
  EXPECT_TRUE(*expected == *actual) << "published buckets differ from the source ("
                                << row_count(*expected) << " rows expected, "
                                << row_count(*actual) << " published):\n"
                                << describe_difference(*expected, *actual);
}

}  // namespace walsim::live::testing
