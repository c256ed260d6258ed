// Bucket storage: the soft-delete, snapshot and checkpoint rules, each
// asserted as the exact op list and checkpoint they must produce.
#include "engine/bucket_storage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "engine/storage_schema.h"
#include "tests/engine/store_fixture.h"

namespace walsim {
namespace {

using Ops = std::vector<std::string>;

std::string put(const std::string& owner, const std::string& id, const std::string& title,
                const std::string& body = "b") {
  return "PUT by_owner[\"" + owner + "\"] [\"" + id + "\"] {\"id\":\"" + id +
         "\",\"title\":\"" + title + "\",\"body\":\"" + body + "\"}";
}

std::string remove(const std::string& owner, const std::string& id) {
  return "REMOVE by_owner[\"" + owner + "\"] [\"" + id + "\"]";
}

using BucketStorageTest = StoreFixture;

TEST_F(BucketStorageTest, InsertAfterDeleteInNewBatchWritesOnePut) {
  activate();
  auto first = storage_->stream_batch();
  first->remove(todos(), key("1"));
  commit(*first, "1/1");
  auto second = storage_->stream_batch();
  second->insert(todos(), todo("1", "a", "t"));
  commit(*second, "2/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("2/1")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops({R"({"id":"1","title":"t","body":"b"})"}));
}

TEST_F(BucketStorageTest, UpdateAfterDeleteInNewBatchWritesOnePut) {
  activate();
  auto first = storage_->stream_batch();
  first->remove(todos(), key("1"));
  commit(*first, "1/1");
  auto second = storage_->stream_batch();
  second->update(todos(), std::nullopt, todo("1", "a", "t2"));
  commit(*second, "2/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t2")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("2/1")}));
}

TEST_F(BucketStorageTest, InsertAfterDeleteInSameBatch) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->remove(todos(), key("1"));
  batch->insert(todos(), todo("1", "a", "t2"));
  commit(*batch, "1/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1"), put("a", "1", "t2")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{3, lsn("1/1")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops({R"({"id":"1","title":"t2","body":"b"})"}));
}

TEST_F(BucketStorageTest, InsertDeleteInsertDeleteReducesToNothing) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->remove(todos(), key("1"));
  batch->insert(todos(), todo("1", "a", "t"));
  batch->remove(todos(), key("1"));
  commit(*batch, "1/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1"), put("a", "1", "t"),
                        remove("a", "1")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{4, lsn("1/1")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops());
}

TEST_F(BucketStorageTest, ReappliedDeleteWritesNoSecondRemove) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "1/1");
  batch->remove(todos(), key("1"));
  commit(*batch, "2/1");
  restart();  // the acknowledgement of 2/1 was lost: the slot sends it again
  auto again = storage_->stream_batch();
  again->remove(todos(), key("1"));
  CommitResult result = commit(*again, "2/1");
  EXPECT_FALSE(result.checkpoint_blocked);
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{2, lsn("2/1")}));
  auto all = storage_->bucket_ops("by_owner[\"a\"]", 0, 2);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].checksum,
            op_checksum(OpKind::kPut, "by_owner[\"a\"]", "todos", "[\"1\"]",
                        std::string(R"({"id":"1","title":"t","body":"b"})")));
  EXPECT_EQ((*all)[1].checksum,
            op_checksum(OpKind::kRemove, "by_owner[\"a\"]", "todos", "[\"1\"]", std::nullopt));
  auto checksum = storage_->bucket_checksum("by_owner[\"a\"]", 2);
  ASSERT_TRUE(checksum.is_ok());
  EXPECT_EQ(*checksum, static_cast<uint32_t>((*all)[0].checksum + (*all)[1].checksum));
}

TEST_F(BucketStorageTest, ReappliedToastUpdatesThenDelete) {
  activate();
  const std::string big(3000, 'x');
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t", big));
  commit(*batch, "1/1");
  Row toast_update = {Value::of("1"), Value::of("a"), Value::of("t2"), Value::unchanged_toast()};
  batch->update(todos(), std::nullopt, toast_update);
  commit(*batch, "2/1");
  restart();
  auto again = storage_->stream_batch();
  again->update(todos(), std::nullopt, toast_update);
  CommitResult reapplied = commit(*again, "2/1");
  EXPECT_FALSE(reapplied.checkpoint_blocked);
  again->remove(todos(), key("1"));
  commit(*again, "3/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t", big), put("a", "1", "t2", big),
                        put("a", "1", "t2", big), remove("a", "1")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{4, lsn("3/1")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops());
}

TEST_F(BucketStorageTest, EmptyCheckpointsAdvanceTheLsnUnlessTurnedOff) {
  activate();
  auto batch = storage_->stream_batch();
  EXPECT_TRUE(commit(*batch, "1/1").checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{0, lsn("1/1")}));
  EXPECT_TRUE(commit(*batch, "2/1").checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{0, lsn("2/1")}));
  auto keepalive = batch->keepalive(lsn("3/1"));
  ASSERT_TRUE(keepalive.is_ok());
  EXPECT_TRUE(keepalive->checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{0, lsn("3/1")}));
  CommitResult last = commit(*batch, "4/1", /*empty_checkpoints=*/false);
  EXPECT_FALSE(last.checkpoint_created);
  EXPECT_FALSE(last.checkpoint_blocked);
  EXPECT_EQ(checkpoint(), (Checkpoint{0, lsn("3/1")}));
}

TEST_F(BucketStorageTest, SnapshotBatchOpsReachTheStreamsNextCheckpoint) {
  activate();
  auto stream = storage_->stream_batch();
  stream->insert(todos(), todo("1", "a", "t"));
  commit(*stream, "1/1");
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("1/1")}));

  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  (*snapshot)->copy_row(todos(), todo("2", "a", "s"));
  (*snapshot)->copy_row(todos(), todo("3", "b", "s"));
  CommitResult copied = commit(**snapshot, "0/0");
  EXPECT_TRUE(copied.checkpoint_blocked);
  EXPECT_FALSE(copied.checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("1/1")}));
  EXPECT_EQ(state().keepalive_op, std::optional<int64_t>(3));

  CommitResult next = commit(*stream, "4/1", /*empty_checkpoints=*/false);
  EXPECT_TRUE(next.checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{3, lsn("4/1")}));
  EXPECT_EQ(state().keepalive_op, std::nullopt);
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), put("a", "2", "s"), put("b", "3", "s")}));
}

TEST_F(BucketStorageTest, NothingIsPublishedBeforeSnapshotsAreDone) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  EXPECT_FALSE(state().snapshot_done);
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  CommitResult early = commit(*batch, "1/1");
  EXPECT_TRUE(early.checkpoint_blocked);
  EXPECT_EQ(state().keepalive_op, std::optional<int64_t>(1));
  EXPECT_EQ(checkpoint().op_id, -1) << "no checkpoint may exist yet";

  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("3/1")).is_ok());
  ASSERT_TRUE(storage_->mark_all_snapshot_done(lsn("3/1")).is_ok());
  EXPECT_TRUE(commit(*batch, "2/1").checkpoint_blocked);
  EXPECT_EQ(checkpoint().op_id, -1);

  CommitResult at_three = commit(*batch, "3/1");
  EXPECT_FALSE(at_three.checkpoint_blocked);
  EXPECT_TRUE(at_three.checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("3/1")}));

  CommitResult at_four = commit(*batch, "4/1", /*empty_checkpoints=*/false);
  EXPECT_FALSE(at_four.checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("3/1")}));
}

TEST_F(BucketStorageTest, NoCheckpointBeforeOnlyRises) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("5/0")).is_ok());
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("2/0")).is_ok());
  EXPECT_EQ(state().no_checkpoint_before, lsn("5/0"));
  ASSERT_TRUE(storage_->mark_all_snapshot_done(lsn("1/0")).is_ok());
  EXPECT_EQ(state().no_checkpoint_before, lsn("5/0"));
  EXPECT_TRUE(state().snapshot_done);
  ASSERT_TRUE(storage_->mark_table_snapshot_required("todos").is_ok());
  EXPECT_FALSE(state().snapshot_done);
}

TEST_F(BucketStorageTest, DeleteWhileStreamingBeatsALateSnapshotRow) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  // The copy reads row 1, then the stream deletes it, then the copy writes.
  Row read_by_copy = todo("1", "a", "t");
  auto stream = storage_->stream_batch();
  stream->remove(todos(), key("1"));
  EXPECT_TRUE(commit(*stream, "1/1").checkpoint_blocked);
  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  (*snapshot)->copy_row(todos(), read_by_copy);
  (*snapshot)->copy_row(todos(), todo("2", "a", "t"));
  commit(**snapshot, "0/0");
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("1/1")).is_ok());
  ASSERT_TRUE(storage_->mark_all_snapshot_done(lsn("1/1")).is_ok());
  EXPECT_TRUE(commit(*stream, "2/1").checkpoint_created);
  EXPECT_EQ(ops(), Ops({put("a", "2", "t")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops({R"({"id":"2","title":"t","body":"b"})"}));
}

TEST_F(BucketStorageTest, UnsafeHardDeletesLetALateSnapshotRowBackIn) {
  // The canary mode must really be unsafe, or the simulator's canary test
  // would prove nothing.
  options_.unsafe_hard_deletes = true;
  restart();
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  auto stream = storage_->stream_batch();
  stream->remove(todos(), key("1"));
  commit(*stream, "1/1");
  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  (*snapshot)->copy_row(todos(), todo("1", "a", "t"));
  commit(**snapshot, "0/0");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t")}));
}

TEST_F(BucketStorageTest, SnapshotSkipsKeysTheStreamWrote) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  auto stream = storage_->stream_batch();
  stream->insert(todos(), todo("1", "a", "new"));
  commit(*stream, "1/1");
  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  (*snapshot)->copy_row(todos(), todo("1", "a", "old"));
  commit(**snapshot, "0/0");
  EXPECT_EQ(ops(), Ops({put("a", "1", "new")}));
}

TEST_F(BucketStorageTest, RowMovesBetweenBuckets) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "1/1");
  batch->update(todos(), std::nullopt, todo("1", "b", "t"));
  commit(*batch, "2/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1"), put("b", "1", "t")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops());
  EXPECT_EQ(bucket_rows("by_owner[\"b\"]"), Ops({R"({"id":"1","title":"t","body":"b"})"}));
}

TEST_F(BucketStorageTest, TruncateRemovesLiveRowsAndSkipsTombstones) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->insert(todos(), todo("2", "b", "t"));
  batch->insert(todos(), todo("3", "a", "t"));
  batch->remove(todos(), key("3"));
  batch->truncate(todos());
  commit(*batch, "1/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), put("b", "2", "t"), put("a", "3", "t"),
                        remove("a", "3"), remove("a", "1"), remove("b", "2")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops());
  EXPECT_EQ(bucket_rows("by_owner[\"b\"]"), Ops());
  auto live = storage_->live_row_count("todos");
  ASSERT_TRUE(live.is_ok());
  EXPECT_EQ(*live, 0);
}

TEST_F(BucketStorageTest, PrimaryKeyChange) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->update(todos(), key("1"), todo("2", "a", "t"));
  commit(*batch, "1/1");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1"), put("a", "2", "t")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops({R"({"id":"2","title":"t","body":"b"})"}));
}

TEST_F(BucketStorageTest, MarkAllSnapshotDoneRefusesWhileATableIsPending) {
  Relation lists = todos();
  lists.name = "lists";
  lists.relid = 16390;
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  ASSERT_TRUE(storage_->register_table(lists).is_ok());
  Status refused = storage_->mark_all_snapshot_done(lsn("1/0"));
  EXPECT_EQ(refused.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "cannot mark all snapshots done: tables still need a snapshot: lists, todos");
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("1/0")).is_ok());
  EXPECT_NE(storage_->mark_all_snapshot_done(lsn("1/0")).message().find(": lists"),
            std::string::npos);
  EXPECT_FALSE(state().snapshot_done);
}

TEST_F(BucketStorageTest, ChunkedSnapshotResumesAfterRestartAndCopiesEachRowOnce) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  {
    auto first = storage_->snapshot_batch("todos");
    ASSERT_TRUE(first.is_ok());
    (*first)->copy_row(todos(), todo("1", "a", "t"));
    (*first)->copy_row(todos(), todo("2", "a", "t"));
    (*first)->set_resume_key({Value::of("2")});
    commit(**first, "0/0");
    // A second chunk is buffered but never committed: the crash loses it.
    (*first)->copy_row(todos(), todo("3", "a", "t"));
  }
  restart();
  auto table = storage_->table("todos");
  ASSERT_TRUE(table.is_ok() && *table);
  ASSERT_TRUE((*table)->resume_key.has_value());
  EXPECT_EQ(*(*table)->resume_key, Row({Value::of("2")}));
  EXPECT_EQ((*table)->rows_copied, 2);
  auto second = storage_->snapshot_batch("todos");
  ASSERT_TRUE(second.is_ok());
  (*second)->copy_row(todos(), todo("3", "a", "t"));
  (*second)->copy_row(todos(), todo("4", "a", "t"));
  (*second)->set_resume_key({Value::of("4")});
  commit(**second, "0/0");
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), put("a", "2", "t"), put("a", "3", "t"),
                        put("a", "4", "t")}));
  table = storage_->table("todos");
  EXPECT_EQ((*table)->rows_copied, 4);
}

TEST_F(BucketStorageTest, TruncateDuringCopyStartsTheCopyAgain) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  auto stream = storage_->stream_batch();
  stream->truncate(todos());
  commit(*stream, "1/1");
  // Rows read before the truncate must not land.
  (*snapshot)->copy_row(todos(), todo("1", "a", "t"));
  auto late = (*snapshot)->commit(Lsn::zero());
  EXPECT_EQ(late.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ops(), Ops());
  EXPECT_EQ(storage_->mark_table_snapshot_done("todos", lsn("1/1"), 0).code(),
            ErrorCode::kFailedPrecondition);
}

TEST_F(BucketStorageTest, RecreatedTableLosesItsRowsAndNeedsACopy) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "1/1");
  Relation recreated = todos();
  recreated.relid = 20000;
  auto changed = storage_->register_table(recreated);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_TRUE(*changed);
  EXPECT_FALSE(state().snapshot_done);
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1")}));
  EXPECT_EQ(state().keepalive_op, std::optional<int64_t>(2)) << "the REMOVE must be published";
  // The op id sequence moved on: the next write gets op 3.
  auto batch2 = storage_->stream_batch();
  batch2->insert(recreated, todo("5", "a", "t"));
  commit(*batch2, "2/1");
  EXPECT_EQ(ops().back(), put("a", "5", "t"));
  EXPECT_EQ(state().keepalive_op, std::optional<int64_t>(3));
  auto same = storage_->register_table(recreated);
  ASSERT_TRUE(same.is_ok());
  EXPECT_FALSE(*same);
}

TEST_F(BucketStorageTest, UnknownToastValueBlocksCheckpointsUntilFilled) {
  activate();
  auto stream = storage_->stream_batch();
  stream->update(todos(), std::nullopt,
                 {Value::of("1"), Value::of("a"), Value::of("t2"), Value::unchanged_toast()});
  CommitResult blocked = commit(*stream, "1/1");
  EXPECT_TRUE(blocked.checkpoint_blocked) << "a row with an unknown value must not be published";
  auto incomplete = storage_->incomplete_rows(10);
  ASSERT_TRUE(incomplete.is_ok());
  EXPECT_EQ(incomplete->first, "todos");
  EXPECT_EQ(incomplete->second, std::vector<Row>({Row{Value::of("1")}}));

  // A table copy does not complete it: its chunk may predate the update.
  auto snapshot = storage_->snapshot_batch("todos");
  ASSERT_TRUE(snapshot.is_ok());
  (*snapshot)->copy_row(todos(), todo("1", "a", "t1", "old"));
  commit(**snapshot, "0/0");
  EXPECT_TRUE(*storage_->has_incomplete_rows());

  auto fill = storage_->snapshot_batch("todos");
  ASSERT_TRUE(fill.is_ok());
  (*fill)->fill_row(todos(), todo("1", "a", "t3", "big"));
  (*fill)->raise_no_checkpoint_before(lsn("2/1"));
  commit(**fill, "0/0");
  EXPECT_FALSE(*storage_->has_incomplete_rows());
  EXPECT_TRUE(commit(*stream, "1/2").checkpoint_blocked) << "the fill was read at 2/1";
  EXPECT_TRUE(commit(*stream, "2/1").checkpoint_created);
  EXPECT_EQ(ops(), Ops({"PUT by_owner[\"a\"] [\"1\"] {\"id\":\"1\",\"title\":\"t2\",\"body\":null}",
                        put("a", "1", "t2", "big")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops({R"({"id":"1","title":"t2","body":"big"})"}));
}

TEST_F(BucketStorageTest, FlushedOpsReachTheNextCheckpointAfterACrash) {
  activate();
  auto stream = storage_->stream_batch();
  stream->insert(todos(), todo("1", "a", "t"));
  commit(*stream, "1/1");
  // Part of the transaction at 2/1 is flushed, then the engine crashes.
  stream->remove(todos(), key("1"));
  ASSERT_TRUE(stream->flush(lsn("2/1")).is_ok());
  restart();
  // Applied again, the delete finds its tombstone and writes nothing.
  auto again = storage_->stream_batch();
  again->remove(todos(), key("1"));
  EXPECT_TRUE(commit(*again, "2/1").checkpoint_created);
  EXPECT_EQ(checkpoint(), (Checkpoint{2, lsn("2/1")}));
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]"), Ops());
}

}  // namespace
}  // namespace walsim

namespace walsim {
namespace {

std::vector<int64_t> op_ids(BucketStorage& storage) {
  auto ops = storage.ops(0, INT64_MAX);
  EXPECT_TRUE(ops.is_ok()) << ops.status().to_string();
  std::vector<int64_t> ids;
  if (!ops.is_ok()) return ids;
  for (const StoredOp& op : *ops) ids.push_back(op.op_id);
  return ids;
}

// A power loss may take back commits whose op ids readers saw; a new
// process cannot know which, so it skips every id the last one reserved.
TEST_F(BucketStorageTest, ANewProcessHandsOutOpIdsPastTheReservation) {
  options_.op_ids_reserved_ahead = 10;
  restart();
  activate();
  auto first = storage_->stream_batch();
  first->insert(todos(), todo("1", "a", "t"));
  first->insert(todos(), todo("2", "a", "t"));
  commit(*first, "1/1");
  EXPECT_EQ(op_ids(*storage_), (std::vector<int64_t>{1, 2}));

  restart();
  auto second = storage_->stream_batch();
  second->insert(todos(), todo("3", "a", "t"));
  commit(*second, "2/1");
  EXPECT_EQ(op_ids(*storage_), (std::vector<int64_t>{1, 2, 11}))
      << "ids 3-10 were reserved by the last process";
  auto third = storage_->stream_batch();
  third->insert(todos(), todo("4", "a", "t"));
  commit(*third, "3/1");
  EXPECT_EQ(op_ids(*storage_), (std::vector<int64_t>{1, 2, 11, 12}))
      << "within one process the ids follow on";
  EXPECT_EQ(checkpoint(), (Checkpoint{12, lsn("3/1")}));
}

}  // namespace
}  // namespace walsim

namespace walsim {
namespace {

// The disk is full for the next `full_commits` COMMITs.
class FullDisk : public StorageFaults {
 public:
  Status before_write(const char*) override { return Status::ok(); }
  int before_statement(const char* sql) override {
    if (std::string(sql) != "COMMIT" || full_commits == 0) return SQLITE_OK;
    full_commits--;
    return SQLITE_FULL;
  }
  int full_commits = 0;
};

// A full disk fails the commit as transient, says so until a write goes
// through, and the same commit, retried once space returns, loses nothing.
TEST_F(BucketStorageTest, AFullDiskIsSaidRetriedAndRecoveredFrom) {
  FullDisk disk;
  options_.faults = &disk;
  restart();
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  disk.full_commits = 2;
  for (int attempt = 0; attempt < 2; attempt++) {
    auto full = batch->commit(lsn("1/1"));
    ASSERT_FALSE(full.is_ok());
    EXPECT_EQ(full.status().code(), ErrorCode::kStorageFull) << full.status().to_string();
    EXPECT_TRUE(full.status().is_transient());
    EXPECT_EQ(storage_->write_error().code(), ErrorCode::kStorageFull);
    EXPECT_EQ(batch->buffered(), 1u) << "a failed commit keeps its buffer for the retry";
  }
  auto retried = batch->commit(lsn("1/1"));
  ASSERT_TRUE(retried.is_ok()) << retried.status().to_string();
  EXPECT_TRUE(storage_->write_error().is_ok());
  EXPECT_EQ(ops(), Ops({put("a", "1", "t")}));
}

TEST_F(BucketStorageTest, BucketTotalsFollowEveryOpAndSurviveAnUpgrade) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  batch->insert(todos(), todo("2", "a", "t"));
  batch->update(todos(), std::nullopt, todo("1", "b", "t"));  // REMOVE from a, PUT to b
  batch->update(todos(), std::nullopt, todo("2", "a", "t2"));  // new data, same bucket
  commit(*batch, "1/1");
  batch->remove(todos(), key("1"));
  commit(*batch, "2/1");
  const std::string a = "by_owner[\"a\"]", b = "by_owner[\"b\"]";
  auto checksum_of = [&](const std::string& bucket) { return *storage_->bucket_checksum(bucket, 6); };
  const std::vector<BucketTotals> expected{{a, 4, 1, checksum_of(a), 5},
                                           {b, 2, 0, checksum_of(b), 6}};
  auto totals = storage_->bucket_totals();
  ASSERT_TRUE(totals.is_ok()) << totals.status().to_string();
  EXPECT_EQ(*totals, expected);
  auto after = storage_->ops_after(5, 10);
  ASSERT_TRUE(after.is_ok() && after->has_value());
  EXPECT_EQ((**after).size(), 1u);
  EXPECT_EQ((**after)[b].ops, 1);
  auto too_many = storage_->ops_after(0, 5);
  ASSERT_TRUE(too_many.is_ok());
  EXPECT_FALSE(too_many->has_value());
  // A version 2 store has no totals: a writer opening it fills them from the log.
  ASSERT_TRUE(db_->exec("DROP TABLE bucket_totals; DROP TABLE bucket_definitions;"
                        " DROP TABLE rules_versions;"
                        " ALTER TABLE replication_state DROP COLUMN checkpoint_version;"
                        " ALTER TABLE replication_state DROP COLUMN published_version;"
                        " ALTER TABLE source_tables DROP COLUMN publication_member;"
                        " UPDATE walsim_meta SET value = '2' WHERE key = 'version'").is_ok());
  EXPECT_EQ(check_store_schema(*db_).code(), ErrorCode::kInvalidArgument);
  restart();
  totals = storage_->bucket_totals();
  ASSERT_TRUE(totals.is_ok()) << totals.status().to_string();
  EXPECT_EQ(*totals, expected);
}

// A new replication state (issue 10: a fresh cluster whose LSNs start
// lower) forgets every LSN of the old stream; op ids go on rising.
TEST_F(BucketStorageTest, NewReplicationStateResetsEveryLsnAndKeepsOpIdsRising) {
  activate();
  auto batch = storage_->stream_batch();
  batch->insert(todos(), todo("1", "a", "t"));
  commit(*batch, "5/100");
  ASSERT_EQ(checkpoint(), (Checkpoint{1, lsn("5/100")}));

  ASSERT_TRUE(storage_->start_new_replication_state().is_ok());
  const ReplicationState reset = state();
  EXPECT_FALSE(reset.snapshot_done);
  EXPECT_EQ(reset.last_checkpoint_lsn, std::nullopt);
  EXPECT_EQ(reset.no_checkpoint_before, std::nullopt);
  EXPECT_EQ(reset.last_applied_lsn, std::nullopt);
  EXPECT_EQ(reset.durable_lsn, std::nullopt);
  EXPECT_EQ(reset.last_checkpoint, 1);
  // What clients saw stays published until the new stream's first checkpoint.
  EXPECT_EQ(checkpoint(), (Checkpoint{1, lsn("5/100")}));

  // The fresh cluster's first transaction is far below the old LSNs.
  restart();
  ASSERT_TRUE(storage_->mark_table_snapshot_done("todos", lsn("0/10")).is_ok());
  ASSERT_TRUE(storage_->mark_all_snapshot_done(lsn("0/10")).is_ok());
  auto fresh = storage_->stream_batch();
  fresh->insert(todos(), todo("2", "a", "u"));
  const CommitResult result = commit(*fresh, "0/20");
  EXPECT_TRUE(result.checkpoint_created);
  EXPECT_EQ(ops(), Ops({put("a", "1", "t"), remove("a", "1"), put("a", "2", "u")}));
  EXPECT_EQ(checkpoint(), (Checkpoint{3, lsn("0/20")}));
  EXPECT_EQ(state().last_applied_lsn, lsn("0/20"));
}

// Issue 10 part A with a busy writer: a copy whose table has the membership
// it had just before the slot was created starts at once, though the stream
// is far behind the copy's start; under any other membership it waits for
// the stream to pass it. A new replication state forgets the members.
TEST_F(BucketStorageTest, ACopyPublishedSinceTheSlotStartsWithoutWaiting) {
  ASSERT_TRUE(storage_->register_table(todos()).is_ok());
  auto generation = [&] { return (*storage_->table("todos"))->generation; };
  const Lsn far_ahead = lsn("9/0");  // the stream has applied nothing yet

  ASSERT_TRUE(storage_->set_slot_members({{"todos", "m2"}}).is_ok());
  auto other = storage_->start_copy("todos", generation(), "m1", far_ahead);
  ASSERT_TRUE(other.is_ok());
  EXPECT_TRUE(other->wait) << "another membership than the slot's: the stream may have a gap";

  ASSERT_TRUE(storage_->set_slot_members({{"todos", "m1"}}).is_ok());
  auto since_slot = storage_->start_copy("todos", generation(), "m1", far_ahead);
  ASSERT_TRUE(since_slot.is_ok());
  EXPECT_FALSE(since_slot->wait);
  EXPECT_EQ(since_slot->table.publication_member, std::optional<std::string>("m1"));
  auto members = read_slot_members(*db_);
  ASSERT_TRUE(members.is_ok());
  EXPECT_EQ(*members, (std::map<std::string, std::string>{{"todos", "m1"}}));

  ASSERT_TRUE(storage_->start_new_replication_state().is_ok());
  members = read_slot_members(*db_);
  ASSERT_TRUE(members.is_ok());
  EXPECT_TRUE(members->empty()) << "the old slot's members say nothing of the new stream";
  auto after_reset = storage_->start_copy("todos", generation(), "m1", far_ahead);
  ASSERT_TRUE(after_reset.is_ok());
  EXPECT_TRUE(after_reset->wait);
}

}  // namespace
}  // namespace walsim
