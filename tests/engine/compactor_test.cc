// Compaction (engine/compactor.h): the exact op list it leaves, the bound it
// keeps to, the checksums and totals it must not change, and clients that
// reduce MOVE and CLEAR converging from before and after it.
#include "engine/compactor.h"

#include <gtest/gtest.h>

#include <map>

#include "engine/storage_schema.h"
#include "tests/engine/store_fixture.h"

namespace walsim {
namespace {

using Ops = std::vector<std::string>;
const std::string kBucket = "by_owner[\"a\"]";

std::string put(const std::string& id, const std::string& title) {
  return "PUT " + kBucket + " [\"" + id + "\"] {\"id\":\"" + id + "\",\"title\":\"" + title +
         "\",\"body\":\"b\"}";
}

// What a client holds of one bucket: rows and the checksum sum, built by
// applying ops the way docs/design.md ("Compaction") says a client does.
struct Client {
  std::map<std::string, std::string> rows;
  uint32_t checksum = 0;
  int64_t synced_op = 0;

  void apply(const StoredOp& op) {
    switch (op.kind) {
      case OpKind::kPut: rows[op.row_id] = *op.data; break;
      case OpKind::kRemove: rows.erase(op.row_id); break;
      case OpKind::kMove: break;
      case OpKind::kClear:
        rows.clear();
        checksum = 0;
        break;
    }
    checksum += op.checksum;
  }
};

class CompactorTest : public StoreFixture {
 protected:
  // Ops 1-4: PUT 1 t1, PUT 2 t, PUT 1 t2, REMOVE 2; published at op 4.
  void write_history() {
    activate();
    auto first = storage_->stream_batch();
    first->insert(todos(), todo("1", "a", "t1"));
    first->insert(todos(), todo("2", "a", "t"));
    commit(*first, "1/1");
    auto second = storage_->stream_batch();
    second->update(todos(), std::nullopt, todo("1", "a", "t2"));
    second->remove(todos(), key("2"));
    commit(*second, "2/1");
    ASSERT_EQ(checkpoint().op_id, 4);
  }

  Client sync(Client client, int64_t up_to_op) {
    auto ops = storage_->bucket_ops(kBucket, client.synced_op, up_to_op);
    EXPECT_TRUE(ops.is_ok()) << ops.status().to_string();
    for (const StoredOp& op : *ops) client.apply(op);
    client.synced_op = up_to_op;
    return client;
  }

  BucketTotals totals() {
    auto all = storage_->bucket_totals();
    EXPECT_TRUE(all.is_ok() && all->size() == 1);
    return all->front();
  }
};

TEST_F(CompactorTest, SupersededOpsMoveAndTheLeadingRunClears) {
  write_history();
  const uint32_t checksum_before = *storage_->bucket_checksum(kBucket, 4);
  const BucketTotals totals_before = totals();
  auto stats = storage_->compact(std::nullopt);
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_EQ(stats->bound_op, 4);
  EXPECT_EQ(stats->buckets_done, 1);
  EXPECT_EQ(stats->ops_moved, 2);    // op 1 (by op 3) and op 2 (by op 4)
  EXPECT_EQ(stats->ops_deleted, 1);  // ops 1-2 became one CLEAR at op 2
  EXPECT_EQ(stats->clears, 1);
  EXPECT_EQ(ops(), Ops({"CLEAR " + kBucket + " ", put("1", "t2"),
                        "REMOVE " + kBucket + " [\"2\"]"}));
  EXPECT_EQ(*storage_->bucket_checksum(kBucket, 4), checksum_before);
  BucketTotals expected = totals_before;
  expected.ops -= 1;
  EXPECT_EQ(totals(), expected);
  EXPECT_EQ(bucket_rows(kBucket), Ops({R"({"id":"1","title":"t2","body":"b"})"}));
}

TEST_F(CompactorTest, ClientsFromEveryCheckpointConverge) {
  write_history();
  // A client synced to op 2 before compaction holds rows 1 (t1) and 2.
  const Client at_2 = sync(Client{}, 2);
  const Client at_4 = sync(Client{}, 4);
  ASSERT_EQ(at_2.rows.size(), 2u);
  ASSERT_TRUE(storage_->compact(std::nullopt).is_ok());
  const Client fresh = sync(Client{}, 4);
  for (const Client& client : {sync(at_2, 4), sync(at_4, 4), fresh}) {
    EXPECT_EQ(client.rows, at_4.rows);
    EXPECT_EQ(client.checksum, at_4.checksum);
    EXPECT_EQ(client.checksum, *storage_->bucket_checksum(kBucket, 4));
  }
}

TEST_F(CompactorTest, OpsPastTheBoundStayAndTheBoundIsChecked) {
  write_history();
  // Bound 3: op 1 is superseded by op 3; op 2 only by op 4, past the bound.
  auto stats = storage_->compact(3);
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_EQ(stats->ops_moved, 1);
  EXPECT_EQ(stats->clears, 0);  // the leading run is op 1 alone
  EXPECT_EQ(ops(), Ops({"MOVE " + kBucket + " [\"1\"]", put("2", "t"), put("1", "t2"),
                        "REMOVE " + kBucket + " [\"2\"]"}));
  auto past = storage_->compact(5);
  EXPECT_EQ(past.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(past.status().message().find("published checkpoint, op 4"), std::string::npos)
      << past.status().message();
}

TEST_F(CompactorTest, RunningAgainChangesNothing) {
  write_history();
  ASSERT_TRUE(storage_->compact(std::nullopt).is_ok());
  const Ops once = ops();
  auto again = storage_->compact(std::nullopt);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->ops_moved, 0);
  EXPECT_EQ(again->ops_deleted, 0);
  EXPECT_EQ(ops(), once);
}

TEST_F(CompactorTest, NothingPublishedIsRefused) {
  activate();
  auto stats = storage_->compact(std::nullopt);
  EXPECT_EQ(stats.status().code(), ErrorCode::kFailedPrecondition);
}

// A version 6 store (op CHECK without MOVE and CLEAR) is refused by readers
// and upgraded by a writer; compaction then works on it. (The chain from 5:
// rules_versions_test.)
TEST_F(CompactorTest, Format6StoreIsUpgradedInPlace) {
  write_history();
  downgrade_op_log_to_format_6();
  const Ops before = ops();
  const Status refused = check_store_schema(*db_);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("format version 6, this build reads 7"), std::string::npos)
      << refused.message();
  restart();
  EXPECT_TRUE(check_store_schema(*db_).is_ok());
  EXPECT_EQ(ops(), before);
  ASSERT_TRUE(storage_->compact(std::nullopt).is_ok());
  EXPECT_EQ(ops().front(), "CLEAR " + kBucket + " ");
}

}  // namespace
}  // namespace walsim
