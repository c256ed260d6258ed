// The replication core against a small scripted source: the snapshot
// resumes from its stored key after a restart, and streamed deletes during
// a copy win over rows the copy read earlier.
#include "engine/replicator.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/engine/store_fixture.h"

namespace walsim {
namespace {

// A one-table source: rows keyed by integer id, a WAL of messages, a slot
// that replays everything after its acknowledged position.
class FakeSource : public SourceConnector {
 public:
  FakeSource() : relation_(StoreFixture::todos()) {}

  void insert_row(int id, const std::string& owner) {
    rows_[id] = StoreFixture::todo(std::to_string(id), owner, "t");
  }

  // Commits a transaction deleting `id` at a new LSN.
  void delete_row(int id) {
    rows_.erase(id);
    head_ = Lsn(head_.value() + 0x10);
    wal_.push_back(BeginMessage{head_, 1});
    wal_.push_back(RelationMessage{relation_});
    wal_.push_back(DeleteMessage{relation_.relid, StoreFixture::key(std::to_string(id))});
    wal_.push_back(CommitMessage{head_, head_});
  }

  Result<std::unique_ptr<ChangeStream>> open_stream() override {
    return std::unique_ptr<ChangeStream>(new Stream(*this));
  }
  Result<std::unique_ptr<TableReader>> open_table_reader() override {
    return std::unique_ptr<TableReader>(new Reader(*this));
  }
  Result<std::vector<Relation>> describe_tables(const std::vector<std::string>&) override {
    return std::vector<Relation>{relation_};
  }
  // The one table is in the publication all along.
  Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>&) override {
    return std::map<std::string, std::string>{{relation_.name, "1"}};
  }

  Lsn head() const { return head_; }
  int chunks_read = 0;

 private:
  struct Stream : ChangeStream {
    explicit Stream(FakeSource& source) : source(source) {
      // Deliver everything after the acknowledged position again.
      while (position < source.wal_.size()) {
        auto* commit = std::get_if<CommitMessage>(&source.wal_[position]);
        if (commit && commit->end_lsn > source.acknowledged_) break;
        position++;
      }
      while (position > 0 && !std::holds_alternative<CommitMessage>(source.wal_[position - 1])) {
        position--;
      }
    }
    Result<std::optional<ChangeMessage>> next() override {
      if (position < source.wal_.size()) return std::optional(source.wal_[position++]);
      // Idle: a keepalive every few polls, as a walsender sends them.
      if (++idle_polls % 4 == 0) return std::optional<ChangeMessage>(KeepaliveMessage{source.head_});
      return std::optional<ChangeMessage>();
    }
    Status acknowledge(Lsn lsn) override {
      source.acknowledged_ = std::max(source.acknowledged_, lsn);
      return Status::ok();
    }
    FakeSource& source;
    size_t position = 0;
    int idle_polls = 0;
  };

  struct Reader : TableReader {
    explicit Reader(FakeSource& source) : source(source) {}
    Result<std::optional<TableChunk>> read_chunk(const Relation&, const std::optional<Row>& after,
                                                 const std::optional<Row>& until,
                                                 size_t limit) override {
      source.chunks_read++;
      TableChunk chunk;
      auto it = after ? source.rows_.upper_bound(std::stoi((*after)[0].text))
                      : source.rows_.begin();
      auto end = until ? source.rows_.upper_bound(std::stoi((*until)[0].text))
                       : source.rows_.end();
      if (after && until && std::stoi((*after)[0].text) >= std::stoi((*until)[0].text)) it = end;
      for (; it != end && chunk.rows.size() < limit; ++it) {
        chunk.rows.push_back(it->second);
      }
      chunk.is_last = it == end;
      if (!until && !source.rows_.empty()) {
        chunk.bound_key = Row{Value::of(std::to_string(source.rows_.rbegin()->first))};
      }
      chunk.consistent_lsn = source.head_;
      return std::optional(std::move(chunk));
    }
    Result<std::optional<TableChunk>> read_rows(const Relation&,
                                                const std::vector<Row>& keys) override {
      TableChunk chunk;
      for (const Row& key : keys) {
        auto found = source.rows_.find(std::stoi(key[0].text));
        if (found != source.rows_.end()) chunk.rows.push_back(found->second);
      }
      chunk.is_last = true;
      chunk.consistent_lsn = source.head_;
      return std::optional(std::move(chunk));
    }
    Result<std::optional<Lsn>> current_lsn() override { return std::optional(source.head_); }
    FakeSource& source;
  };

  Relation relation_;
  std::map<int, Row> rows_;
  std::vector<ChangeMessage> wal_;
  Lsn head_ = Lsn(0x100);
  Lsn acknowledged_;
};

class ReplicatorTest : public StoreFixture {
 protected:
  void start(int workers, size_t chunk_rows) {
    ReplicatorOptions options;
    options.snapshot_workers = workers;
    options.snapshot_chunk_rows = chunk_rows;
    replicator_ = std::make_unique<Replicator>(*storage_, source_, options);
  }

  // Steps every task in turn until `done` holds; fails after `steps_max`.
  template <typename Done>
  void run_until(Done done, int steps_max = 10000) {
    for (int step = 0; step < steps_max; step++) {
      if (done()) return;
      for (Task* task : replicator_->tasks()) {
        ASSERT_NE(task->step(), StepResult::kFailed) << replicator_->fatal_error().to_string();
      }
    }
    FAIL() << "did not converge in " << steps_max << " rounds";
  }

  bool published_at_head() {
    auto published = storage_->checkpoint();
    return published.is_ok() && *published && (*published)->lsn == source_.head();
  }

  void crash() {
    replicator_.reset();
    restart();
  }

  FakeSource source_;
  std::unique_ptr<Replicator> replicator_;
};

TEST_F(ReplicatorTest, ChunkedSnapshotResumesAfterRestartAndCopiesEachRowOnce) {
  for (int id = 1; id <= 10; id++) source_.insert_row(id, id % 2 ? "a" : "b");
  start(/*workers=*/1, /*chunk_rows=*/3);
  run_until([&] { return replicator_->progress().snapshot_chunks == 2; });
  crash();
  auto table = storage_->table("todos");
  ASSERT_TRUE(table.is_ok() && *table);
  EXPECT_EQ((*table)->rows_copied, 6);
  EXPECT_FALSE((*table)->snapshot_done);

  source_.chunks_read = 0;
  start(/*workers=*/1, /*chunk_rows=*/3);
  run_until([&] { return published_at_head(); });
  EXPECT_EQ(source_.chunks_read, 2) << "the copy resumes after key 6: rows 7-9, then 10";
  table = storage_->table("todos");
  EXPECT_EQ((*table)->rows_copied, 10);
  EXPECT_TRUE((*table)->snapshot_done);
  EXPECT_EQ(ops().size(), 10u) << "each row is copied exactly once";
  EXPECT_EQ(bucket_rows("by_owner[\"a\"]").size(), 5u);
  EXPECT_EQ(bucket_rows("by_owner[\"b\"]").size(), 5u);
  EXPECT_EQ(checkpoint().op_id, 10);
}

TEST_F(ReplicatorTest, StreamedDeleteDuringCopyWins) {
  for (int id = 1; id <= 6; id++) source_.insert_row(id, "a");
  start(/*workers=*/1, /*chunk_rows=*/6);
  // Let the worker read its one chunk, then delete a row it holds. A copy
  // starts once the stream has passed the position it starts at, so the
  // streamer steps until then too.
  Task* worker = replicator_->tasks()[1];
  Task* streamer = replicator_->tasks()[0];
  while (source_.chunks_read == 0) {
    ASSERT_NE(worker->step(), StepResult::kFailed);
    if (source_.chunks_read == 0) ASSERT_NE(streamer->step(), StepResult::kFailed);
  }
  source_.delete_row(3);
  // The streamer applies the delete before the worker writes its chunk.
  for (int i = 0; i < 20; i++) ASSERT_NE(streamer->step(), StepResult::kFailed);
  run_until([&] { return published_at_head(); });
  std::vector<std::string> rows = bucket_rows("by_owner[\"a\"]");
  EXPECT_EQ(rows.size(), 5u);
  for (const std::string& row : rows) EXPECT_EQ(row.find("\"id\":\"3\""), std::string::npos);
}

}  // namespace
}  // namespace walsim
