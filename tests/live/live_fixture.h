// LiveFixture: the integration tests' shared set-up. One Postgres server per
// test binary (each test uses its own tables, publication, slot and store,
// so they do not interfere), plus helpers to write rules, open a session,
// wait for convergence and compare buckets with the source.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "live/pg_test_server.h"
#include "live/replication_session.h"
#include "tests/live/bucket_contents.h"

namespace walsim::live::testing {

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    ::walsim::Status assert_status_ = (expr);                            \
    ASSERT_TRUE(assert_status_.is_ok()) << assert_status_.to_string();   \
  } while (0)

class LiveFixture : public ::testing::Test {
 protected:
  // A role that logs in with a password (scram-sha-256) on the test server;
  // every other role is trusted.
  static constexpr const char* kPasswordUser = "pw_user";

  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // Runs SQL as the superuser; a failure fails the test.
  void sql(const std::string& statements);
  std::string value(const std::string& query);

  // A path in this test's own temporary directory.
  std::string temp_path(const std::string& file);
  std::string write_file(const std::string& file, const std::string& text);

  // A session config named after `name`: store <name>.db, slot <name>,
  // publication <name>_pub, rules from `rules_yaml`; fast runtime settings.
  SessionConfig config(const std::string& name, const std::string& rules_yaml);
  // Creates the tables (each with `rows` rows, items_table.h) and the
  // publication <name>_pub for them, and returns config() replicating them
  // with the items rules.
  SessionConfig items_config(const std::string& name, const std::vector<std::string>& tables,
                             int rows);
  // Opens a session, failing the test (nullptr) when it cannot.
  std::unique_ptr<ReplicationSession> open(const SessionConfig& config);

  // Runs the session until its checkpoint passes the source's current WAL
  // position, i.e. everything committed so far is published.
  void converge(ReplicationSession& session, int64_t timeout_ms = 30'000);
  // Runs until `done` holds; fails the test with `what` on timeout.
  void run_until(ReplicationSession& session, const std::function<bool()>& done,
                 const std::string& what, int64_t timeout_ms = 30'000);

  // Store state and engine counters, for failure messages.
  static std::string describe_state(ReplicationSession& session);

  // The published buckets equal the rules applied to the source by `queries`
  // (see source_buckets).
  void expect_buckets_match(BucketStorage& storage, const std::vector<std::string>& queries);

  static inline std::unique_ptr<PgTestServer> server_;
  static inline std::string start_error_;
  std::string temp_dir_;
  std::vector<std::string> notices_;
};

}  // namespace walsim::live::testing
