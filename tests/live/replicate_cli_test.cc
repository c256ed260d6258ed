// `walsim replicate` as a user runs it: the built binary as a child process.
// Every refusal is one clear line on stderr and a non-zero exit, with
// nothing written (no store file, no slot); passwords never show; a real
// SIGKILL during the snapshot and again during streaming loses nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/bucket_storage.h"
#include "engine/sqlite_db.h"
#include "engine/storage_schema.h"
#include "tests/live/items_table.h"
#include "tests/live/live_fixture.h"
#include "tests/live/random_writer.h"
#include "tests/live/walsim_process.h"

namespace walsim::live::testing {
namespace {

// The store as a reader sees it, opened afresh for every look (the child
// process writes it meanwhile).
class StoreReader {
 public:
  explicit StoreReader(const std::string& path) {
    auto db = SqliteDb::open(path, /*create=*/false);
    // Until walsim has created the schema, leave the file alone: opening
    // storage on an empty file would create it from here.
    if (!db.is_ok() || !check_store_schema(**db).is_ok()) return;
    db_ = std::move(db).value();
    auto storage = BucketStorage::open(*db_, rules_, {});
    if (storage.is_ok()) storage_ = std::move(storage).value();
  }
  BucketStorage* storage() { return storage_.get(); }

  int64_t rows_copied() {
    int64_t rows = 0;
    if (!storage_) return 0;
    if (auto tables = storage_->tables(); tables.is_ok()) {
      for (const TableState& table : *tables) rows += table.rows_copied;
    }
    return rows;
  }
  bool snapshot_done() {
    if (!storage_) return false;
    auto state = storage_->replication_state();
    return state.is_ok() && state->snapshot_done;
  }
  std::optional<Checkpoint> checkpoint() {
    if (!storage_) return std::nullopt;
    auto checkpoint = storage_->checkpoint();
    return checkpoint.is_ok() ? *checkpoint : std::nullopt;
  }

 private:
  BucketRules rules_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<BucketStorage> storage_;
};

class ReplicateCliTest : public LiveFixture {
 protected:
  // Arguments for replicating `table` (which the test creates) through
  // slot `name` and publication <name>_pub.
  std::vector<std::string> args(const std::string& name, const std::string& table,
                                const std::string& source = "") {
    std::string rules = write_file(name + ".yaml", items_rules({table}));
    return {"replicate", "--source", source.empty() ? server_->conninfo() : source,
            "--store", store(name), "--rules", rules, "--slot", name,
            "--publication", name + "_pub", "--progress-interval", "1"};
  }
  std::string store(const std::string& name) { return temp_path(name + ".db"); }

  // Runs walsim, which must refuse: a non-zero exit, one line on stderr
  // holding `message`, no store file, no slot.
  WalsimRun expect_refusal(const std::vector<std::string>& arguments, const std::string& name,
                           const std::string& message) {
    WalsimRun run = run_walsim(arguments, temp_dir_);
    EXPECT_NE(run.exit_code, 0) << run.err;
    EXPECT_TRUE(contains(run.err, message)) << "stderr: " << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << "stderr: " << run.err;
    EXPECT_TRUE(contains(run.err, "walsim replicate: ")) << run.err;
    EXPECT_FALSE(std::filesystem::exists(store(name))) << "the store was created";
    EXPECT_EQ(value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'"),
              "0");
    return run;
  }

  // The role that logs in with a password (see LiveFixture), with `password`.
  void password_role(const std::string& password) {
    std::string user = kPasswordUser;
    sql("DO $$ BEGIN CREATE ROLE " + user + " LOGIN REPLICATION; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
        "ALTER ROLE " + user + " PASSWORD '" + password + "'");
  }

  // Waits for `condition`, pinging the source so that idle slots report
  // positions; fails the test with `what` on timeout.
  bool wait_for(const std::function<bool()>& condition, const std::string& what,
                WalsimProcess& process, int64_t timeout_ms = 30'000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      if (!process.running()) {
        ADD_FAILURE() << "walsim exited while waiting for " << what << "\nstderr:\n"
                      << process.err();
        return false;
      }
      (void)server_->exec("SELECT pg_logical_emit_message(false, 'test', 'ping')").is_ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "timed out waiting for " << what << "\nstderr:\n" << process.err();
    return false;
  }

  // The store's published buckets equal what `queries` compute.
  void expect_store_matches(const std::string& name, const std::vector<std::string>& queries) {
    StoreReader reader(store(name));
    ASSERT_NE(reader.storage(), nullptr) << "cannot open the store " << store(name);
    expect_buckets_match(*reader.storage(), queries);
  }

  std::unique_ptr<WalsimProcess> start(const std::vector<std::string>& arguments,
                                       const std::string& label) {
    return std::make_unique<WalsimProcess>(arguments, temp_path(label + ".out"),
                                           temp_path(label + ".err"));
  }
};

TEST_F(ReplicateCliTest, RefusesBadRulesFiles) {
  sql(create_items_sql("rules_items", 5) + "CREATE PUBLICATION badrules_pub FOR TABLE rules_items");
  std::vector<std::string> arguments = args("badrules", "rules_items");
  arguments[6] = temp_path("no-such-rules.yaml");
  expect_refusal(arguments, "badrules", "cannot read rules file");
  arguments[6] =
      write_file("broken.yaml", "bucket_definitions:\n  b:\n    data:\n      - SELEC x\n");
  expect_refusal(arguments, "badrules", "rules line");
  arguments[6] = write_file("nocolumn.yaml", items_rules({"rules_items"}) +
                                                 "  more:\n    data:\n      - SELECT nope FROM "
                                                 "rules_items\n");
  expect_refusal(arguments, "badrules", "'nope', which the table lacks");
}

TEST_F(ReplicateCliTest, RefusesAFileThatIsNotAStore) {
  sql(create_items_sql("notstore_items", 5) +
      "CREATE PUBLICATION notstore_pub FOR TABLE notstore_items");
  std::vector<std::string> arguments = args("notstore", "notstore_items");
  std::ofstream(store("notstore")) << "my precious notes\n";
  WalsimRun run = run_walsim(arguments, temp_dir_);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(contains(run.err, "is not a walsim store: not a SQLite database")) << run.err;
  std::stringstream kept;
  kept << std::ifstream(store("notstore")).rdbuf();
  EXPECT_EQ(kept.str(), "my precious notes\n");
  EXPECT_EQ(value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'notstore'"), "0");
}

// SQLite reports a directory as a file it cannot open, which walsim used to
// pass on as "does not exist".
TEST_F(ReplicateCliTest, RefusesADirectoryAsTheStore) {
  sql(create_items_sql("dirstore_items", 5) +
      "CREATE PUBLICATION dirstore_pub FOR TABLE dirstore_items");
  std::vector<std::string> arguments = args("dirstore", "dirstore_items");
  const std::string directory = temp_path("a-directory");
  std::filesystem::create_directories(directory);
  arguments[4] = directory;
  WalsimRun run = run_walsim(arguments, temp_dir_);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err, "walsim replicate: '" + directory +
                         "' is a directory; the store is a file in one: name the file, e.g. '" +
                         directory + "/walsim.db'\n");
  EXPECT_TRUE(std::filesystem::is_empty(directory));
  EXPECT_EQ(value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dirstore'"), "0");
}

TEST_F(ReplicateCliTest, RefusesSourceProblems) {
  sql(create_items_sql("src_items", 5) +
      "CREATE TABLE src_noid (id int, owner text, title text, n int);"
      "CREATE PUBLICATION src_pub FOR TABLE src_items;"
      "CREATE PUBLICATION srcnoid_pub FOR TABLE src_noid;"
      "CREATE PUBLICATION srcpart_pub FOR TABLE src_noid;"
      "CREATE ROLE plain_cli LOGIN; GRANT SELECT ON src_items TO plain_cli");
  expect_refusal(args("srcmissing", "src_items"), "srcmissing",
                 "publication \"srcmissing_pub\" does not exist");
  expect_refusal(args("srcpart", "src_items"), "srcpart",
                 "publication \"srcpart_pub\" does not publish public.src_items");
  expect_refusal(args("srcnoid", "src_noid"), "srcnoid",
                 "table 'src_noid' has no replica identity");
  expect_refusal(args("srcgone", "src_absent"), "srcgone",
                 "the rules name table(s) the source does not have: src_absent");
  expect_refusal(args("src", "src_items", server_->conninfo_as("plain_cli")), "src",
                 "role \"plain_cli\" lacks the REPLICATION privilege");
}

// A publication that publishes only part of a table, or only some kinds of
// change, is refused before anything is written: the copy would store rows
// and columns the stream never maintains.
TEST_F(ReplicateCliTest, RefusesAPartialPublication) {
  sql(create_items_sql("partial_items", 5) +
      "CREATE PUBLICATION srcfilter_pub FOR TABLE partial_items WHERE (id > 2);"
      "CREATE PUBLICATION srclist_pub FOR TABLE partial_items (id, owner, title);"
      "CREATE PUBLICATION srcinsert_pub FOR TABLE partial_items WITH (publish = 'insert')");
  expect_refusal(args("srcfilter", "partial_items"), "srcfilter",
                 "publication \"srcfilter_pub\" publishes only part of table partial_items "
                 "(row filter WHERE (id > 2))");
  expect_refusal(args("srclist", "partial_items"), "srclist",
                 "publishes only part of table partial_items (column list id, owner, title)");
  expect_refusal(args("srcinsert", "partial_items"), "srcinsert",
                 "publication \"srcinsert_pub\" does not publish update, delete, truncate");
}

TEST_F(ReplicateCliTest, RefusesUnreachableHostAndWrongPasswordWithoutShowingIt) {
  sql(create_items_sql("pw_items", 5) + "CREATE PUBLICATION pw_pub FOR TABLE pw_items");
  password_role("Right-Pw-1");
  WalsimRun run = expect_refusal(
      args("pw", "pw_items", "postgresql://walsim:Unreach-Pw-42@127.0.0.1:1/postgres"), "pw",
      "cannot connect to Postgres at host=127.0.0.1 port=1");
  EXPECT_FALSE(contains(run.out + run.err, "Unreach-Pw-42")) << run.err;

  std::string wrong = "postgresql://" + std::string(kPasswordUser) +
                      ":Wrong-Pw-77@/postgres?host=" + server_->socket_dir();
  run = expect_refusal(args("pw", "pw_items", wrong), "pw", "password authentication failed");
  EXPECT_FALSE(contains(run.out + run.err, "Wrong-Pw-77")) << run.err;
}

TEST_F(ReplicateCliTest, RefusesWalLevelReplica) {
  PgTestServer::Options options;
  options.wal_level = "replica";
  Result<std::unique_ptr<PgTestServer>> replica = PgTestServer::start(options);
  ASSERT_TRUE(replica.is_ok()) << replica.status().to_string();
  expect_refusal(args("replica", "any_items", (*replica)->conninfo()), "replica",
                 "wal_level is 'replica'; logical replication needs wal_level=logical");
}

TEST_F(ReplicateCliTest, RunsWithAPasswordItNeverPrintsAndStopsOnSigterm) {
  sql(create_items_sql("run_items", 300) + "CREATE PUBLICATION run_pub FOR TABLE run_items");
  password_role("Secret-Pw-9");
  sql("GRANT SELECT ON run_items TO " + std::string(kPasswordUser));
  std::string source = "postgresql://" + std::string(kPasswordUser) +
                       ":Secret-Pw-9@/postgres?host=" + server_->socket_dir();
  auto process = start(args("run", "run_items", source), "run");
  ASSERT_TRUE(wait_for([&] { return StoreReader(store("run")).checkpoint().has_value(); },
                       "the first checkpoint", *process));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a progress line or two
  process->signal(SIGTERM);
  EXPECT_EQ(process->wait(10'000), std::optional<int>(0)) << process->err();
  std::string output = process->out() + process->err();
  EXPECT_FALSE(contains(output, "Secret-Pw-9")) << output;
  EXPECT_TRUE(contains(process->err(), "stopped on SIGTERM")) << process->err();
  EXPECT_TRUE(contains(process->out(), "snapshot done (1 tables)")) << process->out();
  expect_store_matches("run", items_queries({"run_items"}));
}

// A second walsim whose slot is busy waits up to 10 s for it; Ctrl-C during
// that wait ends it cleanly at once, without writing anything (it used to
// be ignored until the wait ran out and walsim refused with exit code 1).
TEST_F(ReplicateCliTest, StopSignalEndsTheWaitForABusySlot) {
  sql(create_items_sql("busy_items", 20) + "CREATE PUBLICATION busy_pub FOR TABLE busy_items");
  auto holder = start(args("busy", "busy_items"), "holder");
  ASSERT_TRUE(wait_for([&] { return StoreReader(store("busy")).checkpoint().has_value(); },
                       "the holder's first checkpoint", *holder));
  std::vector<std::string> second = args("busy", "busy_items");
  second[4] = store("busy_second");  // another store on the same slot
  auto waiter = start(second, "waiter");
  ASSERT_TRUE(wait_for([&] { return contains(waiter->err(), "waiting up to 10 s"); },
                       "the second walsim to wait for the slot", *waiter));
  waiter->signal(SIGINT);
  EXPECT_EQ(waiter->wait(30'000), std::optional<int>(0)) << waiter->err();
  EXPECT_TRUE(contains(waiter->err(),
                       "stopped on SIGINT while waiting for the replication slot; nothing was "
                       "written"))
      << waiter->err();
  EXPECT_FALSE(contains(waiter->err(), "another walsim replicating")) << waiter->err();
  EXPECT_FALSE(std::filesystem::exists(store("busy_second")));
  EXPECT_TRUE(holder->running()) << holder->err();
  holder->signal(SIGTERM);
  EXPECT_EQ(holder->wait(10'000), std::optional<int>(0)) << holder->err();
}

// kill -9 mid-copy, restart, kill -9 mid-stream, restart: with a writer
// changing both tables all along, the final checkpoint equals the source.
TEST_F(ReplicateCliTest, SurvivesKillNineDuringSnapshotAndStreaming) {
  std::vector<std::string> tables = {"kill_a", "kill_b"};
  sql(create_items_sql("kill_a", 8000) + create_items_sql("kill_b", 8000) +
      "CREATE PUBLICATION kill_pub FOR TABLE kill_a, kill_b");
  std::string rules = write_file("kill.yaml", items_rules(tables));
  std::vector<std::string> arguments = {"replicate", "--source", server_->conninfo(),
                                        "--store", store("kill"), "--rules", rules,
                                        "--slot", "kill", "--publication", "kill_pub",
                                        "--snapshot-chunk-rows", "100",
                                        "--snapshot-workers", "2", "--progress-interval", "1"};
  RandomWriter writer(server_->conninfo(), tables, 8000, /*seed=*/7);
  writer.start();

  auto first = start(arguments, "first");
  ASSERT_TRUE(wait_for(
      [&] {
        StoreReader reader(store("kill"));
        return reader.rows_copied() >= 3000 && !reader.snapshot_done();
      },
      "the copy to be under way", *first));
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait(10'000), std::optional<int>(128 + SIGKILL));
  EXPECT_LT(StoreReader(store("kill")).rows_copied(), 16000) << "killed too late";

  // A restarted process copies the rest and catches up with a writer that
  // kept going; on a loaded 2-core CI machine (the suite runs tests in
  // parallel) that took over the default 30 s in about one run of four,
  // on main before issue 12's simulator work too. The test is about
  // surviving kill -9, not about speed (bench:concurrency measures that).
  constexpr int64_t kRestartedCatchUpMs = 120'000;
  auto second = start(arguments, "second");
  std::optional<Checkpoint> streaming_from;
  ASSERT_TRUE(wait_for(
      [&] {
        StoreReader reader(store("kill"));
        std::optional<Checkpoint> checkpoint = reader.checkpoint();
        if (!reader.snapshot_done() || !checkpoint) return false;
        if (!streaming_from) streaming_from = checkpoint;
        // Several checkpoints on: the stream is applying the writer's work.
        return checkpoint->op_id > streaming_from->op_id + 200;
      },
      "streaming after the snapshot", *second, kRestartedCatchUpMs));
  second->signal(SIGKILL);
  ASSERT_EQ(second->wait(10'000), std::optional<int>(128 + SIGKILL));

  auto third = start(arguments, "third");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(writer.stop(), "");
  EXPECT_GT(writer.transactions(), 50);
  sql("DELETE FROM kill_a WHERE id % 10 = 3; UPDATE kill_b SET owner = 'o1' WHERE id % 10 = 4");
  std::optional<Lsn> target = Lsn::parse(value("SELECT pg_current_wal_lsn()"));
  ASSERT_TRUE(target.has_value());
  ASSERT_TRUE(wait_for(
      [&] {
        std::optional<Checkpoint> checkpoint = StoreReader(store("kill")).checkpoint();
        return checkpoint && checkpoint->lsn >= *target;
      },
      "the checkpoint to reach " + target->to_string(), *third, kRestartedCatchUpMs));
  third->signal(SIGTERM);
  EXPECT_EQ(third->wait(10'000), std::optional<int>(0)) << third->err();
  EXPECT_TRUE(contains(third->err(), "resuming from replication slot 'kill'")) << third->err();
  expect_store_matches("kill", items_queries(tables));
}

// Two `walsim replicate` on one store, started at once: one replicates, the
// other refuses with one clear line and a non-zero exit, whatever the
// order in which they reach the store and the slot; the survivor's store
// ends equal to the source. (Issue 10, item 4: seen were both alive, both
// creating slots, and the loser dying on a raw "database is locked"; today
// both run.)
TEST_F(ReplicateCliTest, TwoWritersStartedAtOnceOneIsRefused) {
  sql(create_items_sql("twowriters_items", 3000) +
      "CREATE PUBLICATION twowriters_pub FOR TABLE twowriters_items");
  std::vector<std::string> arguments = args("twowriters", "twowriters_items");
  arguments.insert(arguments.end(), {"--snapshot-chunk-rows", "100"});
  auto one = start(arguments, "one");
  auto two = start(arguments, "two");
  WalsimProcess* loser = nullptr;
  WalsimProcess* survivor = nullptr;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       !loser && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    if (!one->running()) loser = one.get(), survivor = two.get();
    else if (!two->running()) loser = two.get(), survivor = one.get();
  }
  ASSERT_NE(loser, nullptr) << "both still run after 30 s:\n" << one->err() << "\n" << two->err();
  std::optional<int> exit_code = loser->wait(1000);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_NE(*exit_code, 0) << loser->err();
  const std::string refusal = loser->err();
  EXPECT_EQ(std::count(refusal.begin(), refusal.end(), '\n'), 1) << "one line: " << refusal;
  EXPECT_TRUE(contains(refusal, "walsim replicate: ")) << refusal;
  EXPECT_FALSE(contains(refusal, "database is locked")) << refusal;
  ASSERT_TRUE(survivor->running()) << survivor->err();
  // The loser is refused at the store lock, before any slot work, so it
  // may exit before the survivor has created its slot: wait for that one,
  // then there must be no other.
  const std::string slots =
      "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'twowriters%'";
  ASSERT_TRUE(wait_for([&] { return value(slots) != "0"; }, "the survivor's slot", *survivor));
  EXPECT_EQ(value(slots), "1");

  sql("UPDATE twowriters_items SET owner = 'o3' WHERE id % 4 = 0");
  std::optional<Lsn> target = Lsn::parse(value("SELECT pg_current_wal_lsn()"));
  ASSERT_TRUE(target.has_value());
  ASSERT_TRUE(wait_for(
      [&] {
        std::optional<Checkpoint> checkpoint = StoreReader(store("twowriters")).checkpoint();
        return checkpoint && checkpoint->lsn >= *target;
      },
      "the survivor's checkpoint to reach " + target->to_string(), *survivor));
  survivor->signal(SIGTERM);
  EXPECT_EQ(survivor->wait(10'000), std::optional<int>(0)) << survivor->err();
  expect_store_matches("twowriters", items_queries({"twowriters_items"}));
}

}  // namespace
}  // namespace walsim::live::testing
