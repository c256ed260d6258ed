// The world changes under a running walsim (issue 10): the publication
// gains and loses tables, the rules change between restarts, a table is
// dropped during its copy, the server restarts mid-copy, the store is
// pointed at a fresh cluster, names repeat across schemas, the publication
// filters rows and columns, FULL identity tables hold duplicates and NULLs.
// Every test ends in the correct outcome: the published buckets equal the
// source's (as the rules see it), or a clear, named refusal where that is
// the documented answer (docs/live.md, "When the world changes").
//
// Tests named DISABLED_ assert the correct outcome of a case today's engine
// still gets wrong; the engine side of issue 10 fixes them (each says
// which case), and they are re-enabled then.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "live/pg_table_reader.h"
#include "tests/live/items_table.h"
#include "tests/live/live_fixture.h"

namespace walsim::live::testing {
namespace {

class WorldChangesTest : public LiveFixture {
 protected:
  // Runs `session` for `ms` whatever happens, failing on an engine error.
  void run_for(ReplicationSession& session, int64_t ms) {
    RunControl control;
    control.timeout_ms = ms;
    Result<RunOutcome> outcome = session.run(control);
    ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
    ASSERT_EQ(*outcome, RunOutcome::kTimedOut) << describe_state(session);
  }

  // converge() and expect_buckets_match() against another server.
  // Until a checkpoint newer than the one published at entry is at the
  // server's current LSN. Newer, since after a change of cluster the old
  // cluster's checkpoint stays published, with an LSN the new cluster's
  // may be below, until the new stream's first one.
  void converge_on(ReplicationSession& session, PgTestServer& server) {
    Result<std::optional<Checkpoint>> at_entry = session.storage().checkpoint();
    ASSERT_TRUE(at_entry.is_ok());
    const int64_t op_at_entry = *at_entry ? (*at_entry)->op_id : 0;
    Result<std::string> lsn_text = server.query_value("SELECT pg_current_wal_lsn()");
    ASSERT_TRUE(lsn_text.is_ok());
    std::optional<Lsn> target = Lsn::parse(*lsn_text);
    ASSERT_TRUE(target.has_value());
    Lsn reached;
    RunControl control;
    control.until = [&] {
      Result<std::optional<Checkpoint>> checkpoint = session.storage().checkpoint();
      if (!checkpoint.is_ok() || !*checkpoint || (*checkpoint)->op_id <= op_at_entry) return false;
      reached = (*checkpoint)->lsn;
      return reached >= *target;
    };
    control.timeout_ms = 30'000;
    Result<RunOutcome> outcome = session.run(control);
    ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
    ASSERT_EQ(*outcome, RunOutcome::kReached)
        << "checkpoint at " << reached.to_string() << ", source at " << target->to_string()
        << "\n"
        << describe_state(session);
  }
  void expect_buckets_match_on(BucketStorage& storage, PgTestServer& server,
                               const std::vector<std::string>& queries) {
    Result<std::unique_ptr<PgConnection>> connection =
        PgConnection::open(server.conninfo(), PgConnection::Mode::kNormal);
    ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
    Result<BucketContents> expected = source_buckets(**connection, queries);
    ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
    Result<BucketContents> actual = store_buckets(storage);
    ASSERT_TRUE(actual.is_ok()) << actual.status().to_string();
    EXPECT_TRUE(*expected == *actual) << describe_difference(*expected, *actual);
  }
};

// ---- the publication changes ---------------------------------------------

// ALTER PUBLICATION ... DROP TABLE while running, changes to the table
// meanwhile (the stream never sends them), then ADD TABLE: the table is
// copied again when it comes back, so its rows end right, also after a
// restart. (Issue 10: "a table leaving the publication ... is recopied
// when it comes back"; today its rows stay wrong for good.)
TEST_F(WorldChangesTest, TableDroppedFromAndAddedBackToThePublication) {
  SessionConfig config = items_config("pubdrop", {"pd_items", "pd_keep"}, 300);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));

  sql("ALTER PUBLICATION pubdrop_pub DROP TABLE pd_items");
  sql("UPDATE pd_items SET owner = 'o9', title = 'unseen' WHERE id <= 100;"
      "DELETE FROM pd_items WHERE id > 250;"
      "INSERT INTO pd_items VALUES (1000, 'o1', 'unseen insert', 1);"
      "UPDATE pd_keep SET title = 'seen' WHERE id <= 10");
  ASSERT_NO_FATAL_FAILURE(run_for(*session, 500));
  sql("ALTER PUBLICATION pubdrop_pub ADD TABLE pd_items");
  sql("UPDATE pd_items SET n = -1 WHERE id BETWEEN 101 AND 110");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"pd_items", "pd_keep"}));

  session.reset();
  session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"pd_items", "pd_keep"}));
}

// A publication with a row filter and a column list: either the copy
// honours both (the store holds what the stream publishes, also as rows
// move in and out of the filter), or start-up refuses, naming the filter.
// Never the copy's rows and columns beside the stream's. (Issue 10: "row
// filters and column lists honoured in the copy or refused with a
// message". Today start-up refuses: check_published_whole in pg_catalog.h.)
TEST_F(WorldChangesTest, RowFilterAndColumnListAreHonouredOrRefused) {
  // Filters and lists of a table that publishes updates and deletes may
  // use replica identity columns only: the filter is on id.
  sql(create_items_sql("rf_items", 200) +
      "CREATE PUBLICATION rowfilt_pub FOR TABLE rf_items (id, owner, n) WHERE (id > 50)");
  SessionConfig config = this->config("rowfilt", R"(bucket_definitions:
  rf_by_owner:
    data:
      - SELECT id, n FROM rf_items WHERE owner = bucket.owner
)");
  const std::vector<std::string> queries = {
      "SELECT 'rf_by_owner', json_build_array(owner), json_build_object('id', id::text, 'n', "
      "n::text) FROM rf_items WHERE owner IS NOT NULL AND id > 50"};
  Result<std::unique_ptr<ReplicationSession>> opened = ReplicationSession::open(config, nullptr);
  if (!opened.is_ok()) {
    EXPECT_TRUE(contains(opened.status().message(), "row filter")) << opened.status().message();
    EXPECT_TRUE(contains(opened.status().message(), "rf_items")) << opened.status().message();
    return;
  }
  std::unique_ptr<ReplicationSession> session = std::move(opened).value();
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
  sql("UPDATE rf_items SET id = id + 1000 WHERE id <= 10;"   // into the filter
      "UPDATE rf_items SET id = -id WHERE id BETWEEN 120 AND 130;"  // out of it
      "UPDATE rf_items SET n = 0, title = 'hidden' WHERE id BETWEEN 60 AND 70;"
      "DELETE FROM rf_items WHERE id BETWEEN 180 AND 190");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
}

// ---- the rules change --------------------------------------------------------

// Between two runs the rules file changes: a column renamed with AS, a
// definition removed, a table added. Either the change is applied (the
// store then equals the new rules exactly: no row of the old shape, no
// bucket of the removed definition) or start-up refuses, saying that the
// rules changed. Never accepted silently. (Issue 10, item 3; today the
// new rules are accepted silently and old rows stay.)
TEST_F(WorldChangesTest, RulesEditedBetweenRestartsAreAppliedOrRefused) {
  SessionConfig config = items_config("edited", {"ed_items", "ed_more"}, 200);
  const std::string v1 = R"(bucket_definitions:
  ed_by_owner:
    data:
      - SELECT id, title FROM ed_items WHERE owner = bucket.owner
  ed_all:
    data:
      - SELECT id, owner FROM ed_items
)";
  const std::string v2 = R"(bucket_definitions:
  ed_by_owner:
    data:
      - SELECT id, title AS label FROM ed_items WHERE owner = bucket.owner
  ed_more_all:
    data:
      - SELECT id, n FROM ed_more
)";
  config.rules_path = write_file("edited.yaml", v1);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  session.reset();

  write_file("edited.yaml", v2);
  sql("UPDATE ed_items SET title = 'while stopped' WHERE id <= 5");
  Result<std::unique_ptr<ReplicationSession>> reopened = ReplicationSession::open(config, nullptr);
  if (!reopened.is_ok()) {
    EXPECT_TRUE(contains(reopened.status().message(), "rules")) << reopened.status().message();
    return;
  }
  session = std::move(reopened).value();
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(
      session->storage(),
      {"SELECT 'ed_by_owner', json_build_array(owner), json_build_object('id', id::text, "
       "'label', title) FROM ed_items WHERE owner IS NOT NULL",
       "SELECT 'ed_more_all', json_build_array(), json_build_object('id', id::text, 'n', "
       "n::text) FROM ed_more"});
}

// ---- tables change -----------------------------------------------------------

// DROP TABLE while its copy runs: no crash loop. Either replication goes on
// (the dropped table's rows leave the store, the other table stays right),
// or the run stops with an error naming the table and the next start
// refuses with a message naming it too, instead of failing over and over.
// (Issue 10: "a table dropped mid-copy handled without a crash loop".
// Today the run stops, the reader naming the dropped table.)
TEST_F(WorldChangesTest, TableDroppedDuringItsCopy) {
  SessionConfig config = items_config("dropcopy", {"dc_items", "dc_keep"}, 4000);
  config.replicator.snapshot_chunk_rows = 100;
  config.replicator.snapshot_workers = 1;
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  int chunks = 0;
  bool dropped = false;
  session->source().set_chunk_hook([&](const Relation& table, const TableChunk&) {
    if (table.name != "dc_items" || ++chunks != 5 || dropped) return;
    sql("DROP TABLE dc_items");
    dropped = true;
  });
  std::optional<Lsn> target;
  RunControl control;
  control.until = [&] {
    if (!dropped) return false;
    if (!target) target = Lsn::parse(value("SELECT pg_current_wal_lsn()"));
    Result<std::optional<Checkpoint>> checkpoint = session->storage().checkpoint();
    return checkpoint.is_ok() && *checkpoint && (*checkpoint)->lsn >= *target;
  };
  control.timeout_ms = 30'000;
  Result<RunOutcome> outcome = session->run(control);
  session->source().set_chunk_hook(nullptr);
  ASSERT_TRUE(dropped);
  if (outcome.is_ok()) {
    ASSERT_EQ(*outcome, RunOutcome::kReached) << describe_state(*session);
    expect_buckets_match(session->storage(), items_queries({"dc_keep"}));
    return;
  }
  EXPECT_TRUE(contains(outcome.status().message(), "dc_items")) << outcome.status().message();
  // Named as a table that is gone, not as the failed statement of a read.
  EXPECT_TRUE(contains(outcome.status().message(), "does not exist")) << outcome.status().message();
  EXPECT_FALSE(contains(outcome.status().message(), "COPY (")) << outcome.status().message();
  session.reset();
  Result<std::unique_ptr<ReplicationSession>> reopened = ReplicationSession::open(config, nullptr);
  ASSERT_FALSE(reopened.is_ok());
  EXPECT_TRUE(contains(reopened.status().message(), "dc_items")) << reopened.status().message();
}

// ---- tables dropped and re-created (issue 10, DDL) --------------------------

// DROP TABLE and CREATE TABLE of the same name with other rows (old ids
// with new values, fewer of them) while walsim is down: the next start
// registers the catalog's new relid, and the stream, which replays WAL
// from before the drop with the old relid, must not register it back.
// (Issue 10: "a table dropped, re-created and refilled while walsim was
// down can leave old rows published and new rows never copied".)
TEST_F(WorldChangesTest, TableDroppedAndRecreatedWhileWalsimIsDown) {
  SessionConfig config = items_config("recdown", {"rd_items", "rd_keep"}, 300);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  // Changes the stream has not acknowledged yet when walsim stops.
  sql("UPDATE rd_items SET title = 'before the drop' WHERE id <= 50");
  session.reset();

  sql("DROP TABLE rd_items;" + create_items_sql("rd_items", 120) +
      "UPDATE rd_items SET owner = 'o7', title = 'second life ' || id WHERE id % 2 = 0;"
      "ALTER PUBLICATION recdown_pub ADD TABLE rd_items;"
      "UPDATE rd_keep SET title = 'kept' WHERE id <= 10");
  session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"rd_items", "rd_keep"}));
}

// The same while walsim runs: changes of the new table stream with a new
// relid, and the old rows must not stay published as current.
TEST_F(WorldChangesTest, TableDroppedAndRecreatedWhileRunning) {
  SessionConfig config = items_config("recrun", {"rr_items", "rr_keep"}, 300);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));

  sql("DROP TABLE rr_items;" + create_items_sql("rr_items", 80) +
      "ALTER PUBLICATION recrun_pub ADD TABLE rr_items;"
      "UPDATE rr_items SET owner = 'o8', title = 'second life ' || id WHERE id % 3 = 0;"
      "INSERT INTO rr_items VALUES (5000, 'o1', 'new row', 1)");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"rr_items", "rr_keep"}));
}

// ALTER TABLE ... REPLICA IDENTITY FULL while running, then back to
// DEFAULT with no change of the table after it. A row's id is its identity
// values, so each change renames every row, and pgoutput announces the new
// identity only with the table's next change: the first time the stream
// shows it, the second time only the look before a checkpoint can (the
// simulator's identity_changed kind found both; docs/design.md). Either
// way the table is copied again and its rows end right.
TEST_F(WorldChangesTest, ReplicaIdentityChangedWhileRunning) {
  SessionConfig config = items_config("identchg", {"ic_items", "ic_keep"}, 300);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  auto stored_identity = [&] {
    Result<std::optional<TableState>> state = session->storage().table("ic_items");
    EXPECT_TRUE(state.is_ok() && state->has_value());
    return state.is_ok() && state->has_value() ? (*state)->relation.identity
                                               : ReplicaIdentity::kNothing;
  };
  ASSERT_EQ(stored_identity(), ReplicaIdentity::kDefault);

  sql("ALTER TABLE ic_items REPLICA IDENTITY FULL;"
      "UPDATE ic_items SET title = 'full ' || id WHERE id % 4 = 0;"
      "DELETE FROM ic_items WHERE id > 280");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"ic_items", "ic_keep"}));
  EXPECT_EQ(stored_identity(), ReplicaIdentity::kFull);

  sql("ALTER TABLE ic_items REPLICA IDENTITY DEFAULT;"
      "UPDATE ic_keep SET title = 'after the identity change' WHERE id <= 20");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"ic_items", "ic_keep"}));
  EXPECT_EQ(stored_identity(), ReplicaIdentity::kDefault);
}

// DROP TABLE and CREATE TABLE of the same name while its copy runs: the
// copy starts over on the new table, no stop and no crash loop.
TEST_F(WorldChangesTest, TableRecreatedDuringItsCopy) {
  SessionConfig config = items_config("reccopy", {"rcp_items", "rcp_keep"}, 3000);
  config.replicator.snapshot_chunk_rows = 100;
  config.replicator.snapshot_workers = 1;
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  int chunks = 0;
  bool recreated = false;
  session->source().set_chunk_hook([&](const Relation& table, const TableChunk&) {
    if (table.name != "rcp_items" || ++chunks != 5 || recreated) return;
    sql("DROP TABLE rcp_items;" + create_items_sql("rcp_items", 700) +
        "UPDATE rcp_items SET title = 'second life ' || id WHERE id % 2 = 1;"
        "ALTER PUBLICATION reccopy_pub ADD TABLE rcp_items");
    recreated = true;
  });
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  session->source().set_chunk_hook(nullptr);
  ASSERT_TRUE(recreated);
  expect_buckets_match(session->storage(), items_queries({"rcp_items", "rcp_keep"}));
}

// DROP TABLE for good while walsim runs: pgoutput sends nothing, the
// publication's membership says the table left, and the catalog that it is
// gone: its rows leave the store and checkpoints go on for the rest.
TEST_F(WorldChangesTest, TableDroppedForGoodWhileRunning) {
  SessionConfig config = items_config("dropgood", {"dg_items", "dg_keep"}, 200);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  sql("DROP TABLE dg_items; UPDATE dg_keep SET title = 'after the drop' WHERE id <= 20");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), items_queries({"dg_keep"}));
  Result<std::optional<TableState>> state = session->storage().table("dg_items");
  ASSERT_TRUE(state.is_ok()) << state.status().to_string();
  EXPECT_FALSE(state->has_value()) << "a dropped table is no longer registered";
}

// Two tables of one name in two schemas, each in its own definition: two
// tables in the store, each with its own rows. (Issue 10: "schema.table in
// the rules is ... treated as public.table; two tables of the same name in
// two schemas feed one store table"; today the rules' schema is dropped
// and start-up looks for public.items.)
TEST_F(WorldChangesTest, DISABLED_TwoTablesOfOneNameInTwoSchemas) {
  sql("CREATE SCHEMA ts_a; CREATE SCHEMA ts_b;"
      "CREATE TABLE ts_a.items (id int PRIMARY KEY, v text);"
      "CREATE TABLE ts_b.items (id int PRIMARY KEY, v text);"
      "INSERT INTO ts_a.items SELECT g, 'a' || g FROM generate_series(1, 100) g;"
      "INSERT INTO ts_b.items SELECT g, 'b' || g FROM generate_series(51, 120) g;"
      "CREATE PUBLICATION twoschema_pub FOR TABLE ts_a.items, ts_b.items");
  SessionConfig config = this->config("twoschema", R"(bucket_definitions:
  a_items:
    data:
      - SELECT id, v FROM ts_a.items
  b_items:
    data:
      - SELECT id, v FROM ts_b.items
)");
  const std::vector<std::string> queries = {
      "SELECT 'a_items', json_build_array(), json_build_object('id', id::text, 'v', v) "
      "FROM ts_a.items",
      "SELECT 'b_items', json_build_array(), json_build_object('id', id::text, 'v', v) "
      "FROM ts_b.items"};
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
  sql("UPDATE ts_a.items SET v = 'changed' WHERE id <= 60; DELETE FROM ts_b.items WHERE id > 100;"
      "INSERT INTO ts_b.items VALUES (1, 'b-only')");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
}

// REPLICA IDENTITY FULL, a table of 7 chunks with every row twice and NULLs
// in every column: the copy reads each row once (keyset paging skips NULL
// keys and may split duplicates), and deleting one of two identical rows
// removes one. (Issue 10: "Under REPLICA IDENTITY FULL, deleting one of two
// identical rows removes both from the store; keyset paging of FULL tables
// fails on NULLs"; today fewer than half the rows are copied.)
TEST_F(WorldChangesTest, DISABLED_FullIdentityWithDuplicatesAndNullsLargerThanAChunk) {
  sql("CREATE TABLE fd_items (a int, b text, owner text);"
      "ALTER TABLE fd_items REPLICA IDENTITY FULL;"
      "INSERT INTO fd_items SELECT CASE WHEN g % 7 = 0 THEN NULL ELSE g END,"
      "  CASE WHEN g % 5 = 0 THEN NULL ELSE 'b' || g END, 'o' || (g % 3)"
      "  FROM generate_series(1, 350) g, generate_series(1, 2) copies;"
      "CREATE PUBLICATION fulldup_pub FOR TABLE fd_items");
  SessionConfig config = this->config("fulldup", R"(bucket_definitions:
  fd_by_owner:
    data:
      - SELECT a, b FROM fd_items WHERE owner = bucket.owner
)");
  config.replicator.snapshot_chunk_rows = 100;
  const std::vector<std::string> queries = {
      "SELECT 'fd_by_owner', json_build_array(owner), json_build_object('a', a::text, 'b', b) "
      "FROM fd_items WHERE owner IS NOT NULL"};
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
  // One of each pair, by ctid: the other stays.
  sql("DELETE FROM fd_items WHERE ctid IN (SELECT min(ctid) FROM fd_items WHERE a <= 20 "
      "GROUP BY a, b);"
      "UPDATE fd_items SET owner = 'o9' WHERE ctid IN (SELECT min(ctid) FROM fd_items "
      "WHERE a IS NULL GROUP BY b)");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  expect_buckets_match(session->storage(), queries);
  EXPECT_EQ(value("SELECT count(*) FROM fd_items"), "682");
}

// ---- the server goes away ------------------------------------------------------

// The server restarts (every connection cut at once) during the copy: the
// stream and the readers reconnect, and the copy completes from its stored
// key with every row right.
TEST_F(WorldChangesTest, ServerRestartDuringTheCopy) {
  SessionConfig config = items_config("restart", {"rs_items"}, 10'000);
  config.replicator.snapshot_chunk_rows = 200;
  config.replicator.snapshot_workers = 1;
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  int chunks = 0;
  Status restarted(ErrorCode::kNotFound, "not restarted");
  session->source().set_chunk_hook([&](const Relation&, const TableChunk&) {
    if (++chunks == 10) restarted = server_->restart();
  });
  ASSERT_NO_FATAL_FAILURE(run_until(
      *session, [&] { return session->progress().all_snapshots_done; }, "the copy", 60'000));
  session->source().set_chunk_hook(nullptr);
  ASSERT_OK(restarted);
  sql("UPDATE rs_items SET owner = 'o4' WHERE id % 9 = 0; DELETE FROM rs_items WHERE id % 13 = 0");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  EXPECT_GE(session->progress().stream_reconnects, 1) << describe_state(*session);
  EXPECT_EQ(*session->storage().live_row_count("rs_items"),
            std::stoll(value("SELECT count(*) FROM rs_items")));
  expect_buckets_match(session->storage(), items_queries({"rs_items"}));
}

// The store's source replaced by a fresh cluster (a dump and restore) whose
// WAL positions start below the old ones: either a new replication state
// that forgets every old position (the store then equals the new cluster,
// and later changes arrive), or a refusal that names the change of
// cluster. Never a stream that skips the new cluster's transactions as
// already applied. (Issue 10: "a new replication state ... keeps the old
// LSN state"; today the old cluster's rows stay published and the new
// cluster's changes are skipped.)
TEST_F(WorldChangesTest, ExistingStorePointedAtAFreshCluster) {
  SessionConfig config = items_config("fresh", {"fc_items"}, 200);
  auto session = open(config);
  ASSERT_NE(session, nullptr);
  // Push the old cluster's WAL well past where a new one starts.
  for (int i = 0; i < 3; i++) sql("INSERT INTO fc_items VALUES (" + std::to_string(500 + i) +
                                  ", 'o1', 'wal', 1); SELECT pg_switch_wal()");
  ASSERT_NO_FATAL_FAILURE(converge(*session));
  session.reset();

  Result<std::unique_ptr<PgTestServer>> started = PgTestServer::start();
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  std::unique_ptr<PgTestServer> fresh = std::move(started).value();
  ASSERT_OK(fresh->exec(create_items_sql("fc_items", 50) +
                        "UPDATE fc_items SET title = 'restored ' || id;"
                        "CREATE PUBLICATION fresh_pub FOR TABLE fc_items"));
  config.conninfo = fresh->conninfo();
  Result<std::unique_ptr<ReplicationSession>> reopened = ReplicationSession::open(config, nullptr);
  if (!reopened.is_ok()) {
    EXPECT_TRUE(contains(reopened.status().message(), "cluster")) << reopened.status().message();
    return;
  }
  session = std::move(reopened).value();
  ASSERT_NO_FATAL_FAILURE(converge_on(*session, *fresh));
  expect_buckets_match_on(session->storage(), *fresh, items_queries({"fc_items"}));
  ASSERT_OK(fresh->exec("INSERT INTO fc_items VALUES (1000, 'o2', 'after the restore', 2);"
                        "DELETE FROM fc_items WHERE id <= 10"));
  ASSERT_NO_FATAL_FAILURE(converge_on(*session, *fresh));
  expect_buckets_match_on(session->storage(), *fresh, items_queries({"fc_items"}));
}

}  // namespace
}  // namespace walsim::live::testing
