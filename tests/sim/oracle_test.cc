// The oracle on a store driven by hand: it passes a right checkpoint and
// names the invariant, bucket and row of a wrong one.
#include "sim/oracle.h"

#include <gtest/gtest.h>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/sqlite_db.h"
#include "engine/write_batch.h"

namespace walsim::sim {
namespace {

class OracleTest : public ::testing::Test {
 protected:
  OracleTest() : buggify_(1, FaultPlan{}), source_(SimPostgresOptions{}, clock_, buggify_) {
    t0_ = source_.create_table("t0", ReplicaIdentity::kDefault, true);
    auto load = source_.begin();
    load.insert(t0_, row("00000001", "o1", "first"));
    load.insert(t0_, row("00000002", "o2", "second"));
    source_.commit(std::move(load));
    source_.create_slot();

    RulesSpec spec;
    spec.definitions.push_back(
        {"by_owner_t0",
         {QuerySpec{"t0", false, {{"id", "id"}, {"title", "title"}}, "owner", "owner", {}}}});
    model_ = std::make_unique<RulesModel>(spec, std::vector<Relation>{relation()});
    auto rules = BucketRules::parse(rules_yaml(spec));
    EXPECT_TRUE(rules.is_ok());
    rules_.emplace(std::move(*rules));
    db_ = SqliteDb::open(":memory:").value();
    storage_ = BucketStorage::open(*db_, *rules_, {}).value();
    EXPECT_TRUE(storage_->register_table(relation()).is_ok());
    oracle_ = std::make_unique<Oracle>(*model_, source_);
  }

  static Row row(const std::string& id, const std::string& owner, const std::string& title) {
    return {Value::of(id), Value::of(owner), Value::of(title), Value::of("body")};
  }
  const Relation& relation() const { return source_.table(t0_).relation(); }

  // Copies the table through a source reader (so the source sees the copy
  // end) and marks every snapshot done at the head.
  void copy_table() {
    auto reader = source_.open_table_reader();
    // The reader may answer "not ready" a few times, as a live one does.
    auto chunk = (*reader)->read_chunk(relation(), std::nullopt, std::nullopt, 100);
    for (int ask = 0; ask < 10 && chunk.is_ok() && !*chunk; ask++) {
      chunk = (*reader)->read_chunk(relation(), std::nullopt, std::nullopt, 100);
    }
    ASSERT_TRUE(chunk.is_ok() && chunk->has_value() && (*chunk)->is_last);
    auto batch = storage_->snapshot_batch("t0");
    for (Row& copied : (*chunk)->rows) (*batch)->copy_row(relation(), copied);
    ASSERT_TRUE((*batch)->commit(Lsn::zero()).is_ok());
    mark_done();
  }
  void mark_done() {
    ASSERT_TRUE(storage_->mark_table_snapshot_done("t0", source_.head()).is_ok());
    ASSERT_TRUE(storage_->mark_all_snapshot_done(source_.head()).is_ok());
  }
  void keepalive_at_head() {
    auto result = storage_->stream_batch()->keepalive(source_.head());
    ASSERT_TRUE(result.is_ok());
    ASSERT_TRUE(result->checkpoint_created);
    publish();
  }
  // The durable commit that publishes, as the streamer makes it.
  void publish() { ASSERT_TRUE(storage_->make_durable(source_.head()).is_ok()); }

  SimClock clock_;
  Buggify buggify_;
  SimPostgres source_;
  size_t t0_ = 0;
  std::unique_ptr<RulesModel> model_;
  std::optional<BucketRules> rules_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<BucketStorage> storage_;
  std::unique_ptr<Oracle> oracle_;
};

TEST_F(OracleTest, RightCheckpointPasses) {
  copy_table();
  keepalive_at_head();
  EXPECT_FALSE(oracle_->poll(*storage_).has_value());
  EXPECT_EQ(oracle_->checkpoints_checked(), 1);
  // A streamed update, applied and committed at its LSN, passes too.
  auto txn = source_.begin();
  txn.update(t0_, "00000001", row("00000001", "o1", "renamed"), false);
  const SourceTxn& committed = source_.commit(std::move(txn));
  auto batch = storage_->stream_batch();
  batch->update(relation(), std::nullopt, row("00000001", "o1", "renamed"));
  ASSERT_TRUE(batch->commit(committed.commit_lsn).is_ok());
  publish();
  EXPECT_FALSE(oracle_->poll(*storage_).has_value());
  EXPECT_EQ(oracle_->checkpoints_checked(), 2);
}

TEST_F(OracleTest, StaleRowIsNamed) {
  copy_table();
  keepalive_at_head();
  ASSERT_FALSE(oracle_->poll(*storage_).has_value());
  // The source renames row 1; the store publishes the new LSN without it.
  auto txn = source_.begin();
  txn.update(t0_, "00000001", row("00000001", "o1", "renamed"), false);
  source_.commit(std::move(txn));
  keepalive_at_head();
  auto violation = oracle_->poll(*storage_);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "checkpoint_content");
  EXPECT_NE(violation->detail.find("bucket by_owner_t0[\"o1\"] row t0 [\"00000001\"]"),
            std::string::npos)
      << violation->detail;
  EXPECT_NE(violation->detail.find("expected {\"id\":\"00000001\",\"title\":\"renamed\"}"),
            std::string::npos)
      << violation->detail;
  EXPECT_NE(violation->detail.find("actual {\"id\":\"00000001\",\"title\":\"first\"}"),
            std::string::npos)
      << violation->detail;
}

TEST_F(OracleTest, PublishingBeforeTheCopyEndedIsCaught) {
  // The store is told the table is done, but nobody read it to its end.
  mark_done();
  keepalive_at_head();
  auto violation = oracle_->poll(*storage_);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "published_before_snapshot");
  EXPECT_NE(violation->detail.find("never read to its end"), std::string::npos);
}

TEST_F(OracleTest, AcknowledgingUnsentWalIsCaught) {
  EXPECT_FALSE(oracle_->on_acknowledge(source_.head(), source_.head()).has_value());
  auto violation = oracle_->on_acknowledge(Lsn(source_.head().value() + 8), source_.head());
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "ack_ahead_of_received");
}

// The slot confirmed a transaction the store does not hold after a restart:
// the source will never send it again.
TEST_F(OracleTest, AcknowledgedButLostIsCaught) {
  copy_table();
  auto txn = source_.begin();
  txn.update(t0_, "00000001", row("00000001", "o1", "renamed"), false);
  const SourceTxn& committed = source_.commit(std::move(txn));
  EXPECT_FALSE(oracle_->after_restart(*storage_, committed.commit_lsn, /*power_lost=*/false).has_value())
      << "confirmed up to just before the transaction's end: it may come again";
  auto violation = oracle_->after_restart(*storage_, committed.end_lsn, /*power_lost=*/false);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "acknowledged_lost");
  EXPECT_NE(violation->detail.find("xid " + std::to_string(committed.xid)), std::string::npos)
      << violation->detail;
  // Once the store has applied it, the same confirmation is fine.
  auto batch = storage_->stream_batch();
  batch->update(relation(), std::nullopt, row("00000001", "o1", "renamed"));
  ASSERT_TRUE(batch->commit(committed.commit_lsn).is_ok());
  EXPECT_FALSE(oracle_->after_restart(*storage_, committed.end_lsn, /*power_lost=*/false).has_value());
}

// After a power loss the store holds another op under an id it held before
// (here: a second store, as a power loss and a reused sequence would leave).
TEST_F(OracleTest, AnOpIdNamingAnotherOpIsCaught) {
  copy_table();
  ASSERT_FALSE(oracle_->watch_ops(*storage_).has_value());
  auto db = SqliteDb::open(":memory:").value();
  auto other = BucketStorage::open(*db, *rules_, {}).value();
  ASSERT_TRUE(other->register_table(relation()).is_ok());
  auto batch = other->snapshot_batch("t0");
  (*batch)->copy_row(relation(), row("00000002", "o2", "second"));
  ASSERT_TRUE((*batch)->commit(Lsn::zero()).is_ok());
  auto violation = oracle_->after_restart(*other, Lsn::zero(), /*power_lost=*/true);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->invariant, "op_id_reused");
  EXPECT_NE(violation->detail.find(R"(op 1 now names PUT of t0 ["00000002"])"), std::string::npos)
      << violation->detail;
}

TEST(FirstDifference, SpellingOfJsonIsNotADifference) {
  BucketMap expected, actual;
  put_row(expected, "b[]", {"t0", "[\"1\"]"}, "{\"a\":\"\\u0041\"}");
  put_row(actual, "b[]", {"t0", "[\"1\"]"}, "{\"a\":\"A\"}");
  EXPECT_FALSE(first_difference(expected, actual, nullptr).has_value());
  put_row(actual, "c[]", {"t0", "[\"2\"]"}, "{}");
  auto difference = first_difference(expected, actual, nullptr);
  ASSERT_TRUE(difference.has_value());
  EXPECT_EQ(difference->bucket, "c[]");
  EXPECT_FALSE(difference->expected.has_value());
}

}  // namespace
}  // namespace walsim::sim
