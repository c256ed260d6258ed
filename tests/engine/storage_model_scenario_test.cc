// Scenario property: one table is copied in key-ordered chunks while the
// stream applies the source's transactions to the same keys, with crashes
// in between; RapidCheck generates the initial rows, the transactions and
// the interleaving. Every checkpoint published on the way must equal the
// rules applied to the source as of the checkpoint's LSN, and after the
// catch-up (finish the copy, stream the rest, a keepalive) the store must
// equal the source. A failure shrinks to a minimal workload and schedule.
//
// The driver below plays the streamer and the snapshotter on the storage
// API directly, the way engine/streamer.cc and engine/snapshotter.cc use it,
// so the property is about the store's rules, not those tasks.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/engine/storage_model_checks.h"
#include "tests/engine/storage_model_gen.h"
#include "tests/engine/storage_model_source.h"
#include "tests/engine/storage_model_store.h"

namespace walsim::model {
namespace {

// Keys 1..10: a copy of up to ten rows takes several chunks, and a row the
// copy brought back by mistake is not soon overwritten by chance.
constexpr int kScenarioKeys = 10;

// One step of the schedule.
struct Step {
  enum class Kind : uint8_t { kSourceTransaction, kStream, kStreamPart, kReadChunk, kWriteChunk,
                              kKeepalive, kCrash };
  Kind kind = Kind::kStream;
  std::vector<Intent> intents;  // source transaction
  int chunk_rows = 1;           // read chunk
  bool lose_ack = false;        // crash: the last commit was not acknowledged
};

std::ostream& operator<<(std::ostream& os, const Step& step) {
  switch (step.kind) {
    case Step::Kind::kSourceTransaction:
      os << "source:";
      for (const Intent& intent : step.intents) os << " " << intent;
      return os;
    case Step::Kind::kStream: return os << "stream (the rest of) one transaction";
    case Step::Kind::kStreamPart: return os << "stream one change and flush";
    case Step::Kind::kReadChunk: return os << "read chunk of " << step.chunk_rows;
    case Step::Kind::kWriteChunk: return os << "write chunk";
    case Step::Kind::kKeepalive: return os << "keepalive";
    case Step::Kind::kCrash: return os << "crash" << (step.lose_ack ? ", last ack lost" : "");
  }
  return os;
}

rc::Gen<Intent> any_intent() {
  return rc::gen::exec([] {
    using Kind = Intent::Kind;
    Intent intent;
    intent.kind = *rc::gen::weightedElement<Kind>(
        {{4, Kind::kUpsert}, {3, Kind::kDelete}, {2, Kind::kMoveKey}, {1, Kind::kTruncate}});
    intent.row = any_row(kScenarioKeys);
    intent.pick = *rc::gen::inRange(0, kScenarioKeys);
    return intent;
  });
}

// How often each kind of step comes up, drawn once per run ("swarm"
// testing): runs differ wildly in how far the stream lags, how long a read
// chunk waits to be written and how often things crash, which finds
// interleavings that one fixed mix makes rare.
struct StepMix {
  std::size_t source = 3, stream = 3, stream_part = 1, read = 2, write = 2, keepalive = 1,
              crash = 1;
};

std::ostream& operator<<(std::ostream& os, const StepMix& mix) {
  return os << "source " << mix.source << ", stream " << mix.stream << ", stream part "
            << mix.stream_part << ", read " << mix.read
            << ", write " << mix.write << ", keepalive " << mix.keepalive << ", crash "
            << mix.crash;
}

StepMix any_mix() {
  auto weight = [](int low) { return static_cast<std::size_t>(*rc::gen::inRange(low, 5)); };
  return {weight(1), weight(1), weight(0), weight(1), weight(1), weight(0), weight(0)};
}

rc::Gen<Step> any_step(const StepMix& mix) {
  return rc::gen::exec([mix] {
    using Kind = Step::Kind;
    Step step;
    step.kind = *rc::gen::weightedElement<Kind>({{mix.source, Kind::kSourceTransaction},
                                                  {mix.stream, Kind::kStream},
                                                  {mix.stream_part, Kind::kStreamPart},
                                                  {mix.read, Kind::kReadChunk},
                                                  {mix.write, Kind::kWriteChunk},
                                                  {mix.keepalive, Kind::kKeepalive},
                                                  {mix.crash, Kind::kCrash}});
    if (step.kind == Kind::kSourceTransaction) {
      step.intents =
          *rc::gen::container<std::vector<Intent>>(*rc::gen::inRange(1, 4), any_intent());
    }
    step.chunk_rows = *rc::gen::inRange(1, 4);
    step.lose_ack = *rc::gen::arbitrary<bool>();
    return step;
  });
}

// Counts for RapidCheck's distribution: did the runs reach the states the
// property is about?
struct Stats {
  int checkpoints = 0;
  int copy_restarts = 0;
  int skipped_copy_rows = 0;
};

// The streamer and the snapshotter, on the storage API, for one table.
class Replication {
 public:
  Replication(const ScenarioSource& source, bool unsafe_hard_deletes)
      : source_(source), store_(unsafe_hard_deletes) {
    check_ok(store_.setup_status(), "set up");
    // The other table is empty in the source: copied at once.
    Table other = source.table() == Table::kTodos ? Table::kLists : Table::kTodos;
    check_ok(store_.storage().mark_table_snapshot_done(table_name(other), Lsn::zero()),
             "mark the other table done");
    start_copy();
  }

  void run(const Step& step) {
    switch (step.kind) {
      case Step::Kind::kSourceTransaction: return;  // the caller ran it on the source
      case Step::Kind::kStream: return stream_next();
      case Step::Kind::kStreamPart: return stream_part();
      case Step::Kind::kReadChunk: return read_chunk(step.chunk_rows);
      case Step::Kind::kWriteChunk: return write_chunk();
      case Step::Kind::kKeepalive: return keepalive();
      case Step::Kind::kCrash: return crash(step.lose_ack);
    }
  }

  // Finish the copy, apply the rest of the WAL, then a keepalive at the
  // source's position: the store must now equal the source.
  void catch_up() {
    while (!copy_.done) {
      read_chunk(kScenarioKeys);
      write_chunk();
    }
    while (applied_ < source_.wal().size()) stream_next();
    keepalive();
    auto checkpoint = checked(store_.storage().checkpoint(), "checkpoint()");
    RC_ASSERT(checkpoint.has_value());
    RC_ASSERT(checkpoint->lsn == source_.lsn());
    check_clients(store_, checkpoint->op_id, view_of(source_.table(), source_.rows()));
  }

  const Stats& stats() const { return stats_; }

 private:
  struct Copy {
    int64_t generation = 0;
    std::optional<int> cursor;  // last key written
    std::vector<SourceRow> pending;  // read, not yet written
    bool done = false;
  };

  const char* table() const { return table_name(source_.table()); }
  const Relation& relation() const { return relation_of(source_.table()); }

  // Applies the rest of the next transaction and commits it.
  void stream_next() {
    if (applied_ == source_.wal().size()) return;
    const WalTransaction& transaction = source_.wal()[applied_];
    for (size_t i = flushed_changes_; i < transaction.changes.size(); i++) {
      buffer(transaction.changes[i]);
    }
    auto result = checked(store_.stream().commit(transaction.lsn), "stream commit");
    applied_++;
    acknowledged_ = applied_;
    flushed_changes_ = 0;
    after_commit(result);
  }

  // A long transaction is persisted in pieces: one more change of the
  // next transaction, flushed with the commit LSN it will have, so no
  // checkpoint can show half of it (not even after a crash here).
  void stream_part() {
    if (applied_ == source_.wal().size()) return;
    const WalTransaction& transaction = source_.wal()[applied_];
    if (flushed_changes_ + 1 >= transaction.changes.size()) return;  // the commit takes the last
    buffer(transaction.changes[flushed_changes_]);
    check_ok(store_.stream().flush(transaction.lsn), "stream flush");
    flushed_changes_++;
  }

  void buffer(const StreamChange& change) {
    WriteBatch& batch = store_.stream();
    switch (change.type) {
      case StreamChange::Type::kInsert: return batch.insert(relation(), full_row(change.row));
      case StreamChange::Type::kUpdate: {
        std::optional<Row> old_key;
        if (change.old_id) old_key = key_tuple(*change.old_id);
        return batch.update(relation(), old_key, full_row(change.row));
      }
      case StreamChange::Type::kDelete: return batch.remove(relation(), key_tuple(change.row.id));
      case StreamChange::Type::kTruncate: return batch.truncate(relation());
    }
  }

  // Keepalives come between transactions, at a position the stream has
  // fully received.
  void keepalive() {
    if (applied_ < source_.wal().size()) return;
    after_commit(checked(store_.stream().keepalive(source_.lsn()), "keepalive"));
  }

  // A published checkpoint is the source as of its LSN; nothing is
  // published before the copy is done.
  void after_commit(const CommitResult& result) {
    // The streamer publishes with a durable commit (group commit, at most
    // every few transactions); this driver does after every one.
    check_ok(store_.storage().make_durable(Lsn::zero()), "make durable");
    if (!result.checkpoint_created) return;
    RC_ASSERT(copy_.done);
    stats_.checkpoints++;
    auto checkpoint = checked(store_.storage().checkpoint(), "checkpoint()");
    RC_ASSERT(checkpoint.has_value());
    check_clients(store_, checkpoint->op_id,
                  view_of(source_.table(), source_.rows_at(checkpoint->lsn)));
  }

  // A (new) copy resumes from the stored key, with a batch of the table's
  // current generation made before its first read.
  void start_copy() {
    store_.drop_snapshot(source_.table());
    auto state = checked(store_.storage().table(table()), "table()");
    RC_ASSERT(state.has_value());
    copy_ = Copy{state->generation, std::nullopt, {}, state->snapshot_done};
    if (state->resume_key) {
      copy_.cursor = id_of(*state->resume_key);
      RC_ASSERT(copy_.cursor.has_value());
    }
    if (!copy_.done) checked(store_.snapshot(source_.table()), "snapshot batch");
  }

  void read_chunk(int rows) {
    if (copy_.done || !copy_.pending.empty()) return;
    copy_.pending = source_.read(copy_.cursor, rows);
    if (copy_.pending.empty()) finish_copy();
  }

  void write_chunk() {
    if (copy_.pending.empty()) return;
    WriteBatch* batch = checked(store_.snapshot(source_.table()), "snapshot batch");
    for (const SourceRow& row : copy_.pending) batch->copy_row(relation(), full_row(row));
    batch->set_resume_key(key_only(copy_.pending.back().id));
    auto copied_before = copied_rows();
    auto result = batch->commit(Lsn::zero());
    if (restarted_copy(result.status())) return;
    check_ok(result.status(), "snapshot commit");
    RC_ASSERT(result->checkpoint_blocked);  // LSN 0 during a copy: never published
    stats_.skipped_copy_rows +=
        static_cast<int>(copy_.pending.size()) - static_cast<int>(copied_rows() - copied_before);
    copy_.cursor = copy_.pending.back().id;
    copy_.pending.clear();
  }

  // The source's position after the last read: the stream must pass it
  // before the copy is consistent.
  void finish_copy() {
    Lsn consistent = source_.lsn();
    Status done =
        store_.storage().mark_table_snapshot_done(table(), consistent, copy_.generation);
    if (restarted_copy(done)) return;
    check_ok(done, "mark table done");
    check_ok(store_.storage().mark_all_snapshot_done(consistent), "mark all done");
    copy_.done = true;
  }

  // A truncate streamed during the copy supersedes it: start again.
  bool restarted_copy(const Status& status) {
    if (status.code() != ErrorCode::kFailedPrecondition) return false;
    stats_.copy_restarts++;
    start_copy();
    return true;
  }

  int64_t copied_rows() {
    auto state = checked(store_.storage().table(table()), "table()");
    return state ? state->rows_copied : 0;
  }

  // The slot resends everything after the acknowledged position; the copy
  // resumes from its stored key.
  void crash(bool lose_ack) {
    store_.restart();
    check_ok(store_.setup_status(), "restart");
    if (lose_ack && acknowledged_ > 0) acknowledged_--;
    applied_ = acknowledged_;
    flushed_changes_ = 0;  // the slot sends an unfinished transaction again
    start_copy();
  }

  const ScenarioSource& source_;
  StoreUnderTest store_;
  size_t applied_ = 0;       // WAL transactions applied and committed
  size_t acknowledged_ = 0;  // of those, acknowledged to the source
  size_t flushed_changes_ = 0;  // of the next transaction, flushed already
  Copy copy_;
  Stats stats_;
};

// Schedules of up to 2x the size: a copy needs room to interleave.
constexpr double kStepScale = 2.0;

void check_scenario(bool unsafe_hard_deletes) {
  const Table table = any_table();
  const auto initial_rows = *rc::gen::container<std::vector<SourceRow>>(
      rc::gen::exec([] { return any_row(kScenarioKeys); }));
  const StepMix mix = *rc::gen::exec(any_mix);
  const auto steps =
      *rc::gen::scale(kStepScale, rc::gen::container<std::vector<Step>>(any_step(mix)));
  ScenarioSource source(table, initial_rows);
  Replication replication(source, unsafe_hard_deletes);
  for (const Step& step : steps) {
    if (step.kind == Step::Kind::kSourceTransaction) source.run(step.intents);
    replication.run(step);
  }
  replication.catch_up();
  const Stats& stats = replication.stats();
  RC_CLASSIFY(stats.checkpoints > 1, "checked a checkpoint before the catch-up");
  RC_CLASSIFY(stats.copy_restarts > 0, "a truncate restarted the copy");
  RC_CLASSIFY(stats.skipped_copy_rows > 0, "the copy skipped rows the stream wrote");
}

RC_GTEST_PROP(StorageScenario, ChunkedCopyWithConcurrentStreamConvergesToTheSource, ()) {
  check_scenario(/*unsafe_hard_deletes=*/false);
}

// The canary: with deletes that leave no tombstone, a row the copy read
// before the stream deleted it comes back. If the property could not find
// that, its passing above would prove little. A case finds it about one
// time in fifty (later source changes often overwrite the row), so this
// allows far more cases than the default; the counterexample is printed.
TEST(StorageScenario, FindsTheUnsafeHardDeletesCanary) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = 2000;
  rc::detail::TestMetadata metadata{"StorageScenario/canary", "scenario with unsafe hard deletes"};
  auto result = rc::detail::checkTestable([] { check_scenario(true); }, metadata, params);
  std::cout << "Expected to fail:\n";
  rc::detail::printResultMessage(result, std::cout);
  std::cout << "\n";
  EXPECT_TRUE(result.is<rc::detail::FailureResult>()) << "the scenario missed the canary";
}

}  // namespace
}  // namespace walsim::model
