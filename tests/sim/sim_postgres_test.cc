// The simulated source behaves as the engine's contract (engine/source.h)
// and pgoutput say: message order, key tuples, TOAST markers, redelivery
// from confirmed_flush, keepalives, and both table read modes.
#include "sim/sim_postgres.h"

#include <gtest/gtest.h>

namespace walsim::sim {
namespace {

Row row(const std::string& id, const std::string& owner, const std::string& title,
        std::optional<std::string> body = std::nullopt) {
  Row r = {Value::of(id), Value::of(owner), Value::of(title)};
  if (body) r.push_back(Value::of(*body));
  return r;
}

// Asks for a chunk until the reader answers (it may answer "not ready"
// a few times first, as a live reader with its query in flight).
Result<TableChunk> read_ready(TableReader& reader, const Relation& relation,
                              const std::optional<Row>& after, size_t limit) {
  for (int ask = 0; ask < 100; ask++) {
    Result<std::optional<TableChunk>> chunk = reader.read_chunk(relation, after, std::nullopt, limit);
    if (!chunk.is_ok()) return chunk.status();
    if (*chunk) return std::move(**chunk);
  }
  return Status(ErrorCode::kIoError, "no answer after 100 asks");
}

class SimPostgresTest : public ::testing::Test {
 protected:
  SimPostgresTest() : buggify_(1, FaultPlan{}), source_(options(), clock_, buggify_) {}

  static SimPostgresOptions options(ReadMode mode = ReadMode::kSnapshot) {
    SimPostgresOptions o;
    o.read_mode = mode;
    return o;
  }

  // Drains the stream until it has nothing; returns the messages.
  static std::vector<ChangeMessage> drain(ChangeStream& stream) {
    std::vector<ChangeMessage> messages;
    while (true) {
      auto next = stream.next();
      EXPECT_TRUE(next.is_ok());
      if (!next.is_ok() || !*next) return messages;
      messages.push_back(**next);
    }
  }

  template <typename T>
  static const T& as(const ChangeMessage& message) {
    EXPECT_TRUE(std::holds_alternative<T>(message)) << describe(message);
    return std::get<T>(message);
  }

  SimClock clock_;
  Buggify buggify_;
  SimPostgres source_;
};

TEST_F(SimPostgresTest, StreamSendsBeginRelationChangesCommit) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, true);
  source_.create_slot();
  auto txn = source_.begin();
  txn.insert(t0, row("00000001", "o1", "a", "body"));
  const SourceTxn& committed = source_.commit(std::move(txn));

  auto stream = source_.open_stream();
  ASSERT_TRUE(stream.is_ok());
  auto messages = drain(**stream);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(as<BeginMessage>(messages[0]).final_lsn, committed.commit_lsn);
  EXPECT_EQ(as<RelationMessage>(messages[1]).relation.name, "t0");
  EXPECT_EQ(as<InsertMessage>(messages[2]).new_row, row("00000001", "o1", "a", "body"));
  EXPECT_EQ(as<CommitMessage>(messages[3]).end_lsn, committed.end_lsn);
  EXPECT_LT(committed.commit_lsn, committed.end_lsn);
  EXPECT_EQ(source_.head(), committed.end_lsn);
}

// Issue 10 part A. ALTER PUBLICATION ... DROP TABLE sends nothing, and the
// table's changes committed while it is out are left out of the stream
// (their true images stay for the oracle); ADD TABLE brings them back under
// a new membership identity, which is all the catalog shows of the gap.
TEST_F(SimPostgresTest, ATableOutOfThePublicationIsNotStreamedAndComesBackAsANewMember) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  size_t t1 = source_.create_table("t1", ReplicaIdentity::kDefault, false);
  source_.create_slot();
  auto before = source_.publication_members({"t0", "t1", "nope"});
  ASSERT_TRUE(before.is_ok());
  ASSERT_EQ(before->size(), 2u);
  source_.set_published(t0, false);
  const Lsn dropped_at = source_.head();
  auto txn = source_.begin();
  txn.insert(t0, row("00000001", "o1", "gone"));
  txn.insert(t1, row("00000001", "o1", "kept"));
  txn.truncate({t0, t1});
  const SourceTxn& out = source_.commit(std::move(txn));
  EXPECT_EQ(out.changes.size(), 4u) << "the true view keeps every change";
  auto during = source_.publication_members({"t0", "t1"});
  ASSERT_TRUE(during.is_ok());
  EXPECT_EQ(during->count("t0"), 0u);
  EXPECT_EQ(during->at("t1"), before->at("t1"));
  EXPECT_TRUE(source_.out_of_publication_at(t0, out.commit_lsn));
  EXPECT_FALSE(source_.out_of_publication_at(t0, dropped_at)) << "the edge is not inside";
  EXPECT_FALSE(source_.out_of_publication_at(t1, out.commit_lsn));

  source_.set_published(t0, true);
  auto again = source_.publication_members({"t0"});
  ASSERT_TRUE(again.is_ok());
  EXPECT_NE(again->at("t0"), before->at("t0"));
  auto back = source_.begin();
  back.insert(t0, row("00000002", "o1", "back"));
  source_.commit(std::move(back));

  auto stream = source_.open_stream();
  ASSERT_TRUE(stream.is_ok());
  std::vector<std::string> changes;
  for (const ChangeMessage& message : drain(**stream)) {
    if (std::holds_alternative<BeginMessage>(message) ||
        std::holds_alternative<CommitMessage>(message) ||
        std::holds_alternative<RelationMessage>(message)) {
      continue;
    }
    changes.push_back(source_.describe_message(message));
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"insert t1 00000001", "truncate t1",
                                               "insert t0 00000002"}));
}

// Issue 10 part A. A server restart drops every connection at once: the
// stream and each reader answer kDisconnected from then on, and a new
// stream and reader work as before.
TEST_F(SimPostgresTest, ServerRestartKillsTheStreamAndEveryReader) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  auto txn = source_.begin();
  txn.insert(t0, row("00000001", "o1", "a"));
  source_.commit(std::move(txn));
  source_.create_slot();
  auto stream = source_.open_stream();
  auto reader = source_.open_table_reader();
  ASSERT_TRUE(stream.is_ok() && reader.is_ok());
  const Relation& relation = source_.table(t0).relation();
  ASSERT_TRUE(read_ready(**reader, relation, std::nullopt, 10).is_ok());
  source_.restart_server();
  auto next = (*stream)->next();
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kDisconnected);
  for (int ask = 0; ask < 3; ask++) {
    auto chunk = (*reader)->read_chunk(relation, std::nullopt, std::nullopt, 10);
    ASSERT_FALSE(chunk.is_ok());
    EXPECT_EQ(chunk.status().code(), ErrorCode::kDisconnected) << "a dead connection stays dead";
  }
  auto new_stream = source_.open_stream();
  auto new_reader = source_.open_table_reader();
  ASSERT_TRUE(new_stream.is_ok() && new_reader.is_ok()) << "the slot is free again";
  auto chunk = read_ready(**new_reader, relation, std::nullopt, 10);
  ASSERT_TRUE(chunk.is_ok());
  EXPECT_EQ(chunk->rows.size(), 1u);
}

TEST_F(SimPostgresTest, RowsBeforeTheSlotAreNotStreamed) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  auto txn = source_.begin();
  txn.insert(t0, row("00000001", "o1", "a"));
  source_.commit(std::move(txn));
  source_.create_slot();
  auto stream = source_.open_stream();
  EXPECT_TRUE(drain(**stream).empty());
}

TEST_F(SimPostgresTest, ReconnectRedeliversFromConfirmedFlush) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  source_.create_slot();
  std::vector<SourceTxn> txns;
  for (int i = 1; i <= 3; i++) {
    auto txn = source_.begin();
    txn.insert(t0, row("0000000" + std::to_string(i), "o1", "a"));
    txns.push_back(source_.commit(std::move(txn)));
  }
  {
    auto stream = source_.open_stream();
    ASSERT_EQ(drain(**stream).size(), 4u * 3 - 2);  // one Relation only
    ASSERT_TRUE((*stream)->acknowledge(txns[0].end_lsn).is_ok());
    // Acknowledging backwards never moves the slot back.
    ASSERT_TRUE((*stream)->acknowledge(txns[0].commit_lsn).is_ok());
    EXPECT_EQ(source_.confirmed_flush(), txns[0].end_lsn);
  }
  auto stream = source_.open_stream();
  auto messages = drain(**stream);
  ASSERT_EQ(messages.size(), 4u * 2 - 1);
  EXPECT_EQ(as<BeginMessage>(messages[0]).final_lsn, txns[1].commit_lsn);
  // A new session announces the relation again before its first change.
  EXPECT_EQ(as<RelationMessage>(messages[1]).relation.name, "t0");
}

TEST_F(SimPostgresTest, OneSessionAtATime) {
  source_.create_table("t0", ReplicaIdentity::kDefault, false);
  source_.create_slot();
  auto first = source_.open_stream();
  ASSERT_TRUE(first.is_ok());
  auto second = source_.open_stream();
  EXPECT_EQ(second.status().code(), ErrorCode::kBusy);
  first = Status(ErrorCode::kDisconnected, "dropped");  // the session ends
  EXPECT_TRUE(source_.open_stream().is_ok());
}

TEST_F(SimPostgresTest, DefaultIdentityKeyChangeAndDeleteSendKeyTuples) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, true);
  auto load = source_.begin();
  load.insert(t0, row("00000001", "o1", "a", "body"));
  load.insert(t0, row("00000002", "o1", "b", "body2"));
  source_.commit(std::move(load));
  source_.create_slot();
  auto txn = source_.begin();
  txn.update(t0, "00000001", row("00000009", "o2", "a", "body"), /*toast_body=*/true);
  txn.update(t0, "00000002", row("00000002", "o2", "c", "body2"), /*toast_body=*/false);
  txn.remove(t0, "00000002");
  source_.commit(std::move(txn));

  auto stream = source_.open_stream();
  auto messages = drain(**stream);
  ASSERT_EQ(messages.size(), 6u);
  const auto& key_change = as<UpdateMessage>(messages[2]);
  ASSERT_TRUE(key_change.old_key.has_value());
  EXPECT_EQ(*key_change.old_key,
            (Row{Value::of("00000001"), Value::null(), Value::null(), Value::null()}));
  EXPECT_TRUE(key_change.new_row[SimPostgres::kBodyColumn].is_unchanged_toast());
  const auto& plain = as<UpdateMessage>(messages[3]);
  EXPECT_FALSE(plain.old_key.has_value());
  EXPECT_EQ(plain.new_row, row("00000002", "o2", "c", "body2"));
  EXPECT_EQ(as<DeleteMessage>(messages[4]).old_key,
            (Row{Value::of("00000002"), Value::null(), Value::null(), Value::null()}));
  // The oracle's view has whole rows.
  const SourceTxn& last = *source_.last_transaction();
  ASSERT_EQ(last.changes.size(), 3u);
  EXPECT_EQ(*last.changes[0].after, row("00000009", "o2", "a", "body"));
}

TEST_F(SimPostgresTest, FullIdentitySendsWholeOldRows) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kFull, false);
  auto load = source_.begin();
  load.insert(t0, row("00000001", "o1", "a"));
  source_.commit(std::move(load));
  source_.create_slot();
  auto txn = source_.begin();
  txn.update(t0, "00000001", row("00000001", "o1", "b"), false);
  txn.remove(t0, "00000001");
  source_.commit(std::move(txn));
  auto messages = drain(**source_.open_stream());
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(*as<UpdateMessage>(messages[2]).old_key, row("00000001", "o1", "a"));
  EXPECT_EQ(as<DeleteMessage>(messages[3]).old_key, row("00000001", "o1", "b"));
  EXPECT_EQ(source_.table(t0).relation().key_indexes().size(), 3u);
}

TEST_F(SimPostgresTest, IdleStreamSendsKeepaliveWhenTheHeadMovesOrTimePasses) {
  source_.create_table("t0", ReplicaIdentity::kDefault, false);
  source_.create_slot();
  auto stream = source_.open_stream();
  EXPECT_TRUE(drain(**stream).empty());
  source_.advance_wal(0x100);
  auto messages = drain(**stream);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(as<KeepaliveMessage>(messages[0]).lsn, source_.head());
  EXPECT_TRUE(drain(**stream).empty());
  clock_.advance_to(clock_.now() + 10000);
  EXPECT_EQ(drain(**stream).size(), 1u);
}

TEST_F(SimPostgresTest, SnapshotModeReadsEveryChunkAtOneLsn) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  auto load = source_.begin();
  for (int i = 1; i <= 4; i++) load.insert(t0, row("0000000" + std::to_string(i), "o", "x"));
  source_.commit(std::move(load));
  source_.create_slot();
  const Lsn snapshot = source_.head();
  auto reader = source_.open_table_reader();
  const Relation& relation = source_.table(t0).relation();
  auto first = read_ready(**reader, relation, std::nullopt, 2);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->rows.size(), 2u);
  EXPECT_FALSE(first->is_last);
  EXPECT_EQ(first->consistent_lsn, snapshot);
  // Row 3 is deleted and row 5 inserted after the snapshot: not seen.
  auto txn = source_.begin();
  txn.remove(t0, "00000003");
  txn.insert(t0, row("00000005", "o", "x"));
  source_.commit(std::move(txn));
  auto second = read_ready(**reader, relation, relation.key_of(first->rows.back()), 10);
  ASSERT_TRUE(second.is_ok());
  ASSERT_EQ(second->rows.size(), 2u);
  EXPECT_EQ(second->rows[0][0].text, "00000003");
  EXPECT_TRUE(second->is_last);
  EXPECT_EQ(second->consistent_lsn, snapshot);
  EXPECT_EQ(source_.copy_complete_lsn(t0), snapshot);
}

TEST(SimPostgresReadCommitted, EachChunkReadsTheHead) {
  SimClock clock;
  Buggify buggify(1, FaultPlan{});
  SimPostgresOptions o;
  o.read_mode = ReadMode::kReadCommitted;
  SimPostgres source(o, clock, buggify);
  size_t t0 = source.create_table("t0", ReplicaIdentity::kDefault, false);
  auto load = source.begin();
  load.insert(t0, row("00000001", "o", "x"));
  load.insert(t0, row("00000002", "o", "x"));
  source.commit(std::move(load));
  source.create_slot();
  auto reader = source.open_table_reader();
  const Relation& relation = source.table(t0).relation();
  auto first = read_ready(**reader, relation, std::nullopt, 1);
  ASSERT_TRUE(first.is_ok());
  auto txn = source.begin();
  txn.insert(t0, row("00000003", "o", "x"));
  source.commit(std::move(txn));
  auto second =
      read_ready(**reader, relation, relation.key_of(first->rows.back()), 10);
  ASSERT_TRUE(second.is_ok());
  ASSERT_EQ(second->rows.size(), 2u);  // sees the new row
  EXPECT_EQ(second->consistent_lsn, source.head());
  EXPECT_GT(second->consistent_lsn, first->consistent_lsn);
}

// A read happens at its first ask; the answer may come some asks later (a
// seeded number of "not ready" first) and shows the source as of that first
// ask. Asking for something else drops it.
TEST(SimPostgresReadDelay, AnswerIsReadAtTheFirstAskAndComesLater) {
  int delayed_runs = 0;
  int prompt_runs = 0;
  for (uint64_t seed = 0; seed < 40; seed++) {
    SimClock clock;
    Buggify buggify(1, FaultPlan{});
    SimPostgresOptions o;
    o.read_mode = ReadMode::kReadCommitted;
    o.read_delay_seed = seed;
    SimPostgres source(o, clock, buggify);
    size_t t0 = source.create_table("t0", ReplicaIdentity::kDefault, false);
    auto load = source.begin();
    load.insert(t0, row("00000001", "o", "x"));
    source.commit(std::move(load));
    source.create_slot();
    auto reader = source.open_table_reader();
    ASSERT_TRUE(reader.is_ok());
    const Relation& relation = source.table(t0).relation();
    const Lsn asked_at = source.head();
    int not_ready = 0;
    std::optional<TableChunk> answer;
    for (int ask = 0; ask < 10 && !answer; ask++) {
      auto chunk = (*reader)->read_chunk(relation, std::nullopt, std::nullopt, 10);
      ASSERT_TRUE(chunk.is_ok());
      if (*chunk) {
        answer = std::move(**chunk);
      } else {
        not_ready++;
        // Written while the read is in flight: not in its answer.
        auto txn = source.begin();
        txn.insert(t0, row("0000001" + std::to_string(not_ready), "o", "x"));
        source.commit(std::move(txn));
      }
    }
    ASSERT_TRUE(answer.has_value()) << "seed " << seed;
    EXPECT_LE(not_ready, 2) << "seed " << seed;
    EXPECT_EQ(answer->rows.size(), 1u) << "seed " << seed;
    EXPECT_EQ(answer->consistent_lsn, asked_at) << "seed " << seed;
    (not_ready > 0 ? delayed_runs : prompt_runs)++;

    if (not_ready == 0) continue;
    // A delayed run: an ask for other arguments abandons the held read, and
    // the next ask reads again, seeing every row now.
    size_t rows_now = 1 + static_cast<size_t>(not_ready);
    auto abandoned = (*reader)->read_chunk(relation, std::nullopt, std::nullopt, 10);
    ASSERT_TRUE(abandoned.is_ok());
    if (!*abandoned) {
      auto txn = source.begin();
      txn.insert(t0, row("00000099", "o", "x"));
      source.commit(std::move(txn));
      rows_now++;
    }
    auto lsn = (*reader)->current_lsn();
    ASSERT_TRUE(lsn.is_ok());
    for (int ask = 0; ask < 10 && !*lsn; ask++) lsn = (*reader)->current_lsn();
    ASSERT_TRUE(lsn->has_value());
    auto again = read_ready(**reader, relation, std::nullopt, 10);
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(again->rows.size(), rows_now) << "seed " << seed;
  }
  EXPECT_GT(delayed_runs, 0);
  EXPECT_GT(prompt_runs, 0);
}

// A chunk read without a bound brings the largest key at the head; a
// chunk read with it stops there, so rows inserted past it later are left
// to the stream.
TEST_F(SimPostgresTest, ChunksStopAtTheCopyBound) {
  size_t t0 = source_.create_table("t0", ReplicaIdentity::kDefault, false);
  auto load = source_.begin();
  for (int i = 1; i <= 4; i++) load.insert(t0, row("0000000" + std::to_string(i), "o", "x"));
  source_.commit(std::move(load));
  source_.create_slot();
  auto reader = source_.open_table_reader();
  ASSERT_TRUE(reader.is_ok());
  const Relation& relation = source_.table(t0).relation();
  auto first = read_ready(**reader, relation, std::nullopt, 2);
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->bound_key, (Row{Value::of("00000004")}));
  auto txn = source_.begin();
  txn.insert(t0, row("00000005", "o", "x"));
  source_.commit(std::move(txn));
  Result<std::optional<TableChunk>> chunk = std::optional<TableChunk>();
  for (int ask = 0; ask < 10 && chunk.is_ok() && !*chunk; ask++) {
    chunk = (*reader)->read_chunk(relation, Row{Value::of("00000002")}, first->bound_key, 10);
  }
  ASSERT_TRUE(chunk.is_ok() && chunk->has_value());
  ASSERT_EQ((*chunk)->rows.size(), 2u);
  EXPECT_EQ((*chunk)->rows.back()[0].text, "00000004");
  EXPECT_TRUE((*chunk)->is_last);
  EXPECT_FALSE((*chunk)->bound_key.has_value());  // asked with a bound
}

TEST(SimTableKeys, FullIdentityResumesAfterTheWholeKey) {
  // Under FULL identity the key is the whole row: a row whose non-id
  // columns changed after the resume key was taken sorts after it again.
  EXPECT_LT(compare_keys(row("00000001", "a", "x"), row("00000001", "b", "x")), 0);
  EXPECT_LT(compare_keys(Row{Value::null()}, Row{Value::of("")}), 0);
  EXPECT_EQ(compare_keys(row("00000002", "a", "x"), row("00000002", "a", "x")), 0);
}

TEST(SimPostgresFaults, RedeliverRewindsTheSlotToAnAcknowledgedTransaction) {
  SimClock clock;
  FaultPlan plan{};
  plan[static_cast<size_t>(FaultKind::kRedeliverAcked)] = 1000000;  // always
  Buggify buggify(1, plan);
  SimPostgres source(SimPostgresOptions{}, clock, buggify);
  size_t t0 = source.create_table("t0", ReplicaIdentity::kDefault, false);
  source.create_slot();
  std::vector<Lsn> ends;
  for (int i = 1; i <= 3; i++) {
    auto txn = source.begin();
    txn.insert(t0, row("0000000" + std::to_string(i), "o", "x"));
    ends.push_back(source.commit(std::move(txn)).end_lsn);
  }
  {
    auto stream = source.open_stream();  // nothing acked yet: no rewind
    EXPECT_EQ(buggify.fired(FaultKind::kRedeliverAcked), 0);
    while (true) {
      auto next = (*stream)->next();
      if (!*next) break;
    }
    ASSERT_TRUE((*stream)->acknowledge(ends[2]).is_ok());
  }
  auto stream = source.open_stream();
  EXPECT_EQ(buggify.fired(FaultKind::kRedeliverAcked), 1);
  EXPECT_LT(source.confirmed_flush(), ends[2]);  // acknowledged txns come again
  auto first = (*stream)->next();
  ASSERT_TRUE(std::holds_alternative<BeginMessage>(**first));
}

}  // namespace
}  // namespace walsim::sim
