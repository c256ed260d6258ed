// The model-based test of the storage batches, as commands for rc::state:
// each command does one thing to StoreModel and the same to the real store
// (StoreUnderTest), and then the whole store must match the model: the
// call's outcome, the replication state, every op, each table's copy
// progress, and what clients see at the published checkpoint.
// check_against_model() runs a generated sequence of them.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/engine/storage_model.h"
#include "tests/engine/storage_model_checks.h"
#include "tests/engine/storage_model_gen.h"
#include "tests/engine/storage_model_probe.h"
#include "tests/engine/storage_model_show.h"
#include "tests/engine/storage_model_store.h"

namespace walsim::model {

using Model = StoreModel;
using Sut = StoreUnderTest;

// ---- helpers ---------------------------------------------------------------

// Stream LSNs never go back; snapshot-done LSNs may be ahead of the stream.
inline Lsn lsn_from(const Model& s, int max_step) {
  return Lsn(s.last_lsn().value() + *rc::gen::inRange(0, max_step + 1));
}

inline Outcome outcome_of(const Status& status) { return {status.code(), {}}; }

inline Outcome outcome_of(const Result<CommitResult>& result) {
  return result.is_ok() ? Outcome{ErrorCode::kOk, *result} : outcome_of(result.status());
}

// ---- the comparison after every command ------------------------------------

inline void check_tables(const Model& model, Sut& sut) {
  for (Table table : kTables) {
    auto stored = checked(sut.storage().table(table_name(table)), "table()");
    RC_ASSERT(stored.has_value());
    TableProgress actual{stored->snapshot_done, stored->generation, stored->rows_copied,
                         std::nullopt,
                         checked(sut.storage().live_row_count(table_name(table)), "live rows")};
    if (stored->resume_key) {
      actual.resume_key = id_of(*stored->resume_key);
      RC_ASSERT(actual.resume_key.has_value());
    }
    check_same(difference(table_name(table), actual, model.progress(table)));
  }
}

inline void check_published(const Model& model, Sut& sut) {
  if (!model.state().last_checkpoint_lsn) return;
  check_clients(sut, model.state().last_checkpoint.value_or(0), model.published());
}

inline void check_store(const Model& model, Sut& sut) {
  auto state = checked(sut.storage().replication_state(), "replication_state()");
  check_same(difference("replication state", state, model.state()));
  auto ops = checked(all_ops(sut.storage()), "ops");
  check_same(difference("op log", ops, model.ops()));
  check_tables(model, sut);
  check_published(model, sut);
}

// ---- commands ----------------------------------------------------------------

// Every command does one thing to the model and the same to the store; the
// outcomes must match, and then the whole store must match the model.
struct StoreCommand : rc::state::Command<Model, Sut> {
  virtual Outcome on_model(Model& model) const = 0;
  virtual Outcome on_store(Sut& sut) const = 0;

  void apply(Model& model) const override { on_model(model); }

  void run(const Model& before, Sut& sut) const override {
    Model after = before;
    Outcome expected = on_model(after);
    Outcome actual = on_store(sut);
    check_same(difference("outcome", actual, expected));
    check_ok(sut.setup_status(), "restart");
    check_store(after, sut);
  }
};

struct StreamInsert : StoreCommand {
  Table table = any_table();
  SourceRow row = any_row();
  Outcome on_model(Model& m) const override {
    m.stream({StreamChange::Type::kInsert, table, row, std::nullopt});
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.stream().insert(relation_of(table), full_row(row));
    return {};
  }
  void show(std::ostream& os) const override { os << "insert " << table << row; }
};

// An update; one in three changes the key ('K' tuple), which may also move
// the row to another owner's bucket.
struct StreamUpdate : StoreCommand {
  Table table = any_table();
  SourceRow row = any_row();
  std::optional<int> old_id =
      *rc::gen::inRange(0, 3) == 0 ? std::optional<int>(any_key()) : std::nullopt;
  Outcome on_model(Model& m) const override {
    m.stream({StreamChange::Type::kUpdate, table, row, old_id});
    return {};
  }
  Outcome on_store(Sut& s) const override {
    std::optional<Row> old_key;
    if (old_id) old_key = key_tuple(*old_id);
    s.stream().update(relation_of(table), old_key, full_row(row));
    return {};
  }
  void show(std::ostream& os) const override {
    os << "update " << table;
    if (old_id) os << " key " << *old_id << "->";
    os << row;
  }
};

struct StreamDelete : StoreCommand {
  Table table = any_table();
  int id = any_key();
  Outcome on_model(Model& m) const override {
    m.stream({StreamChange::Type::kDelete, table, SourceRow{id, 0, 'x'}, std::nullopt});
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.stream().remove(relation_of(table), key_tuple(id));
    return {};
  }
  void show(std::ostream& os) const override { os << "delete " << table << " " << id; }
};

struct StreamTruncate : StoreCommand {
  Table table = any_table();
  Outcome on_model(Model& m) const override {
    m.stream({StreamChange::Type::kTruncate, table, {}, std::nullopt});
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.stream().truncate(relation_of(table));
    return {};
  }
  void show(std::ostream& os) const override { os << "truncate " << table; }
};

// The stream broke mid-transaction: the buffered changes are dropped.
struct StreamDiscard : StoreCommand {
  Outcome on_model(Model& m) const override {
    m.discard_stream();
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.stream().discard();
    return {};
  }
  void show(std::ostream& os) const override { os << "discard stream buffer"; }
};

struct StreamCommit : StoreCommand {
  explicit StreamCommit(const Model& m) : lsn(lsn_from(m, 3)) {}
  Lsn lsn;
  bool empty_checkpoints = *rc::gen::arbitrary<bool>();
  Outcome on_model(Model& m) const override { return m.commit_stream(lsn, empty_checkpoints); }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.stream().commit(lsn, CommitOptions{empty_checkpoints}));
  }
  void show(std::ostream& os) const override {
    os << "commit " << lsn.to_string() << (empty_checkpoints ? "" : " (no empty checkpoints)");
  }
};

// A long transaction is persisted in pieces; half the time the flush says
// which commit LSN the open transaction will have.
struct StreamFlush : StoreCommand {
  explicit StreamFlush(const Model& m) {
    if (*rc::gen::arbitrary<bool>()) open_transaction_commit_lsn = lsn_from(m, 3);
  }
  std::optional<Lsn> open_transaction_commit_lsn;
  Outcome on_model(Model& m) const override {
    return m.flush_stream(open_transaction_commit_lsn);
  }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.stream().flush(open_transaction_commit_lsn));
  }
  void show(std::ostream& os) const override {
    os << "flush stream";
    if (open_transaction_commit_lsn) {
      os << " (open transaction commits at " << open_transaction_commit_lsn->to_string() << ")";
    }
  }
};

// A keepalive arrives only between transactions.
struct StreamKeepalive : StoreCommand {
  explicit StreamKeepalive(const Model& m) : lsn(lsn_from(m, 3)) {
    RC_PRE(m.stream_buffer_empty());
  }
  Lsn lsn;
  bool empty_checkpoints = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.stream_buffer_empty()); }
  Outcome on_model(Model& m) const override { return m.keepalive(lsn, empty_checkpoints); }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.stream().keepalive(lsn, CommitOptions{empty_checkpoints}));
  }
  void show(std::ostream& os) const override {
    os << "keepalive " << lsn.to_string() << (empty_checkpoints ? "" : " (no empty checkpoints)");
  }
};

// Rows a table copy read, buffered in the table's snapshot batch, with the
// last key as the resume key (as a chunk of a keyset read would set it).
// Sometimes the rows were read outside a copy (to fill incomplete rows),
// and the commit must raise no_checkpoint_before to the read's LSN.
struct SnapshotCopy : StoreCommand {
  explicit SnapshotCopy(const Model& m) {
    if (*rc::gen::inRange(0, 4) == 0) read_at = lsn_from(m, 6);
  }
  Table table = any_table();
  std::vector<SourceRow> rows = *rc::gen::container<std::vector<SourceRow>>(
      *rc::gen::inRange(1, 4), rc::gen::exec([] { return any_row(); }));
  bool set_resume_key = *rc::gen::arbitrary<bool>();
  std::optional<Lsn> read_at;
  Outcome on_model(Model& m) const override {
    m.copy(table, rows, set_resume_key ? std::optional<int>(rows.back().id) : std::nullopt);
    if (read_at) m.raise_no_checkpoint_before(table, *read_at);
    return {};
  }
  Outcome on_store(Sut& s) const override {
    auto batch = s.snapshot(table);
    if (!batch.is_ok()) return outcome_of(batch.status());
    for (const SourceRow& row : rows) (*batch)->copy_row(relation_of(table), full_row(row));
    if (set_resume_key) (*batch)->set_resume_key(key_only(rows.back().id));
    if (read_at) (*batch)->raise_no_checkpoint_before(*read_at);
    return {};
  }
  void show(std::ostream& os) const override {
    os << "copy " << table;
    for (const SourceRow& row : rows) os << " " << row;
    if (set_resume_key) os << " resume at " << rows.back().id;
    if (read_at) os << " read at " << read_at->to_string();
  }
};

struct SnapshotCommit : StoreCommand {
  Table table = any_table();
  Outcome on_model(Model& m) const override { return m.commit_snapshot(table); }
  Outcome on_store(Sut& s) const override {
    auto batch = s.snapshot(table);
    if (!batch.is_ok()) return outcome_of(batch.status());
    return outcome_of((*batch)->commit(Lsn::zero()));
  }
  void show(std::ostream& os) const override { os << "commit snapshot batch of " << table; }
};

// The copy gives up its batch (its worker restarts the table).
struct SnapshotDrop : StoreCommand {
  Table table = any_table();
  Outcome on_model(Model& m) const override {
    m.drop_snapshot_batch(table);
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.drop_snapshot(table);
    return {};
  }
  void show(std::ostream& os) const override { os << "drop snapshot batch of " << table; }
};

struct MarkTableDone : StoreCommand {
  explicit MarkTableDone(const Model& m) : lsn(lsn_from(m, 6)) {}
  Table table = any_table();
  Lsn lsn;
  Outcome on_model(Model& m) const override { return m.mark_table_done(table, lsn); }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.storage().mark_table_snapshot_done(table_name(table), lsn));
  }
  void show(std::ostream& os) const override {
    os << "mark " << table << " snapshot done at " << lsn.to_string();
  }
};

struct MarkAllDone : StoreCommand {
  explicit MarkAllDone(const Model& m) : lsn(lsn_from(m, 6)) {}
  Lsn lsn;
  Outcome on_model(Model& m) const override { return m.mark_all_done(lsn); }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.storage().mark_all_snapshot_done(lsn));
  }
  void show(std::ostream& os) const override { os << "mark all done at " << lsn.to_string(); }
};

struct RequireSnapshot : StoreCommand {
  Table table = any_table();
  Outcome on_model(Model& m) const override { return m.require_snapshot(table); }
  Outcome on_store(Sut& s) const override {
    return outcome_of(s.storage().mark_table_snapshot_required(table_name(table)));
  }
  void show(std::ostream& os) const override { os << "require snapshot of " << table; }
};

// The source re-created the table: register_table with a new relid.
struct RecreateTable : StoreCommand {
  explicit RecreateTable(const Model& m) : table(any_table()), relid(m.relid(table) + 1) {}
  Table table;
  uint32_t relid;
  Outcome on_model(Model& m) const override { return m.register_table(table, relid); }
  Outcome on_store(Sut& s) const override {
    Relation relation = relation_of(table);
    relation.relid = relid;
    return outcome_of(s.storage().register_table(relation).status());
  }
  void show(std::ostream& os) const override {
    os << "re-create " << table << " as relid " << relid;
  }
};

struct Crash : StoreCommand {
  Outcome on_model(Model& m) const override {
    m.crash();
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.restart();
    return {};
  }
  void show(std::ostream& os) const override { os << "crash and restart"; }
};

struct FailNextWrite : StoreCommand {
  Outcome on_model(Model& m) const override {
    m.fail_next_write();
    return {};
  }
  Outcome on_store(Sut& s) const override {
    s.faults().arm();
    return {};
  }
  void show(std::ostream& os) const override { os << "fail the next write"; }
};

// The distribution RapidCheck prints says whether the sequences reach the
// interesting states at all: a model test that never publishes proves little.
inline void classify_run(Sut& sut) {
  auto state = checked(sut.storage().replication_state(), "replication_state()");
  auto ops = checked(all_ops(sut.storage()), "ops");
  RC_CLASSIFY(state.last_checkpoint_lsn.has_value(), "published");
  RC_CLASSIFY(state.last_checkpoint.value_or(0) >= 10, "published >= 10 ops");
  RC_CLASSIFY(state.keepalive_op.has_value(), "ends with a keepalive_op");
  RC_CLASSIFY(ops.size() >= 30, ">= 30 ops");
}

constexpr double kSequenceScale = 3.0;

// Half the runs start with every table copied and marked done at 0/0, so
// most of their commits may publish; the other half start before any copy.
inline void maybe_activate(Model& model, Sut& sut) {
  if (!*rc::gen::arbitrary<bool>()) return;
  for (Table table : kTables) {
    model.mark_table_done(table, Lsn::zero());
    RC_ASSERT(sut.storage().mark_table_snapshot_done(table_name(table), Lsn::zero()).is_ok());
  }
  model.mark_all_done(Lsn::zero());
  RC_ASSERT(sut.storage().mark_all_snapshot_done(Lsn::zero()).is_ok());
}

// Runs one generated command sequence on the model and the store. Listing
// a command twice doubles its weight: changes and commits are what most
// sequences should be made of.
inline void check_against_model() {
  Model model;
  Sut sut;
  RC_ASSERT(sut.setup_status().is_ok());
  maybe_activate(model, sut);
  auto next_command = rc::state::gen::execOneOfWithArgs<
      StreamInsert, StreamInsert, StreamUpdate, StreamUpdate, StreamDelete, StreamTruncate,
      StreamDiscard, StreamFlush, StreamCommit, StreamCommit, StreamCommit, StreamKeepalive,
      SnapshotCopy, SnapshotCopy, SnapshotCommit, SnapshotCommit, SnapshotDrop, MarkTableDone,
      MarkTableDone, MarkAllDone, MarkAllDone, RequireSnapshot, RecreateTable, Crash,
      FailNextWrite>();
  // Sequences of up to 3x the size (RapidCheck's default is 1x): the
  // interesting states need a store with a history.
  auto commands =
      *rc::gen::scale(kSequenceScale, rc::state::gen::commands(model, next_command));
  rc::state::runAll(commands, model, sut);
  classify_run(sut);
}

}  // namespace walsim::model
