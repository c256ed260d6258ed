#include "tests/engine/storage_model.h"

#include <algorithm>

namespace walsim::model {
namespace {

std::optional<int64_t> max_of(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

bool has_bucket(const std::vector<Placement>& placed, const std::string& bucket) {
  return std::any_of(placed.begin(), placed.end(),
                     [&](const Placement& p) { return p.bucket == bucket; });
}

}  // namespace

void apply_ops(const std::vector<ModelOp>& ops, BucketView& view) {
  for (const ModelOp& op : ops) {
    auto& rows = view[op.bucket];
    RowRef row{op.table, op.row_id};
    if (op.kind == OpKind::kPut) {
      rows[row] = op.data.value_or("<PUT without data>");
    } else {
      rows.erase(row);
    }
  }
  std::erase_if(view, [](const auto& bucket) { return bucket.second.empty(); });
}

StoreModel::StoreModel() {
  for (Table table : kTables) tables_[table].relid = relation_of(table).relid;
}

// --- buffered ---------------------------------------------------------------

void StoreModel::stream(const StreamChange& change) { stream_.changes.push_back(change); }

void StoreModel::discard_stream() { stream_.changes.clear(); }

void StoreModel::copy(Table table, const std::vector<SourceRow>& rows,
                      std::optional<int> resume_key) {
  auto [it, made] = snapshots_.try_emplace(table);
  if (made) it->second.generation = tables_[table].generation;
  Batch& batch = it->second;
  batch.copies.insert(batch.copies.end(), rows.begin(), rows.end());
  if (resume_key) batch.resume_key = resume_key;
}

void StoreModel::raise_no_checkpoint_before(Table table, Lsn lsn) {
  copy(table, {}, std::nullopt);  // makes the batch if there is none
  auto& consistent = snapshots_[table].consistent_lsn;
  consistent = std::max(consistent.value_or(Lsn::zero()), lsn);
}

void StoreModel::drop_snapshot_batch(Table table) { snapshots_.erase(table); }

void StoreModel::crash() {
  stream_ = Batch{};
  snapshots_.clear();
}

// --- storage transactions -----------------------------------------------------

bool StoreModel::take_fault() {
  bool fire = fault_armed_;
  fault_armed_ = false;
  return fire;
}

std::optional<int64_t> StoreModel::written_since(int64_t before) const {
  if (last_op() == before) return std::nullopt;
  return last_op();
}

std::optional<int64_t> StoreModel::persist_stream_buffer() {
  const int64_t before = last_op();
  for (const StreamChange& change : stream_.changes) apply(change);
  stream_.changes.clear();
  return written_since(before);
}

Outcome StoreModel::flush_stream(std::optional<Lsn> open_transaction_commit_lsn) {
  if (stream_.changes.empty()) return {};
  if (take_fault()) return {ErrorCode::kIoError, {}};
  std::optional<int64_t> written = persist_stream_buffer();
  stream_.persisted = max_of(stream_.persisted, written);
  // Carried like a blocked commit's ops, so they reach the next checkpoint
  // even if a crash loses this batch and the replay writes nothing.
  state_.keepalive_op = max_of(state_.keepalive_op, written);
  if (open_transaction_commit_lsn) raise_no_checkpoint_before(*open_transaction_commit_lsn);
  return {};
}

Outcome StoreModel::commit_stream(Lsn lsn, bool empty_checkpoints) {
  return commit(lsn, empty_checkpoints, /*transaction=*/true);
}

Outcome StoreModel::keepalive(Lsn lsn, bool empty_checkpoints) {
  return commit(lsn, empty_checkpoints, /*transaction=*/false);
}

Outcome StoreModel::commit(Lsn lsn, bool empty_checkpoints, bool transaction) {
  last_lsn_ = std::max(last_lsn_, lsn);
  if (take_fault()) return {ErrorCode::kIoError, {}};
  stream_.persisted = max_of(stream_.persisted, persist_stream_buffer());
  if (transaction) {
    state_.last_applied_lsn = std::max(state_.last_applied_lsn.value_or(Lsn::zero()), lsn);
  }
  return {ErrorCode::kOk, apply_checkpoint_rules(lsn, stream_.persisted, empty_checkpoints)};
}

Outcome StoreModel::commit_snapshot(Table table) {
  copy(table, {}, std::nullopt);  // makes the batch if there is none
  Batch& batch = snapshots_[table];
  TableState& state = tables_[table];
  if (take_fault()) return {ErrorCode::kIoError, {}};
  // A batch of a superseded copy writes nothing, now or ever.
  if (batch.generation != state.generation) return {ErrorCode::kFailedPrecondition, {}};
  const int64_t before = last_op();
  for (const SourceRow& row : batch.copies) copy_row(table, row);
  if (batch.resume_key) state.resume_key = batch.resume_key;
  if (batch.consistent_lsn) raise_no_checkpoint_before(*batch.consistent_lsn);
  batch.persisted = max_of(batch.persisted, written_since(before));
  batch.copies.clear();
  batch.resume_key.reset();
  batch.consistent_lsn.reset();
  // A snapshot batch commits at LSN 0, with empty checkpoints allowed.
  return {ErrorCode::kOk, apply_checkpoint_rules(Lsn::zero(), batch.persisted, true)};
}

Outcome StoreModel::mark_table_done(Table table, Lsn lsn) {
  if (take_fault()) return {ErrorCode::kIoError, {}};
  tables_[table].snapshot_done = true;
  raise_no_checkpoint_before(lsn);
  return {};
}

Outcome StoreModel::mark_all_done(Lsn lsn) {
  if (take_fault()) return {ErrorCode::kIoError, {}};
  for (const auto& [table, state] : tables_) {
    if (!state.snapshot_done) return {ErrorCode::kFailedPrecondition, {}};
  }
  state_.snapshot_done = true;
  raise_no_checkpoint_before(lsn);
  return {};
}

Outcome StoreModel::require_snapshot(Table table) {
  if (take_fault()) return {ErrorCode::kIoError, {}};
  bump_generation(table);
  return {};
}

Outcome StoreModel::register_table(Table table, uint32_t relid) {
  if (take_fault()) return {ErrorCode::kIoError, {}};
  TableState& state = tables_[table];
  if (relid == state.relid) return {};
  state.relid = relid;
  const int64_t before = last_op();
  remove_live_rows(table);
  state.rows.clear();
  bump_generation(table);
  state_.keepalive_op = max_of(state_.keepalive_op, written_since(before));
  // The checkpoint not yet published is taken back, as a truncate's and a
  // withdrawal's are (withdraw_unpublished_checkpoint): back to the
  // published one, which this model never has (it makes nothing durable).
  // Its ops, if any, must still reach the next checkpoint.
  if (state_.last_checkpoint.value_or(0) > 0) {
    state_.keepalive_op = max_of(state_.keepalive_op, state_.last_checkpoint);
  }
  state_.last_checkpoint.reset();
  state_.last_checkpoint_lsn.reset();
  return {};
}

// --- the rules ------------------------------------------------------------------

void StoreModel::write_op(OpKind kind, const std::string& bucket, Table table, int id,
                          std::optional<std::string> data) {
  ops_.push_back({last_op() + 1, bucket, kind, table_name(table), row_id(id), std::move(data)});
}

void StoreModel::apply(const StreamChange& change) {
  switch (change.type) {
    case StreamChange::Type::kInsert:
    case StreamChange::Type::kUpdate:
      // A key change deletes the old key first: REMOVEs and a tombstone.
      if (change.old_id && *change.old_id != change.row.id) {
        delete_row(change.table, *change.old_id);
      }
      put_row(change.table, change.row);
      return;
    case StreamChange::Type::kDelete: delete_row(change.table, change.row.id); return;
    case StreamChange::Type::kTruncate: truncate(change.table); return;
  }
}

// REMOVE from the buckets the row leaves, PUT into every bucket it is in
// (also the ones it stays in: the data may have changed), and the row is
// live again even if it was a tombstone.
void StoreModel::put_row(Table table, const SourceRow& row) {
  Entry& entry = tables_[table].rows[row_id(row.id)];
  std::vector<Placement> placed = place(table, row);
  if (entry.live) {
    for (const Placement& old : place(table, *entry.live)) {
      if (!has_bucket(placed, old.bucket)) {
        write_op(OpKind::kRemove, old.bucket, table, row.id, std::nullopt);
      }
    }
  }
  for (const Placement& p : placed) write_op(OpKind::kPut, p.bucket, table, row.id, p.data);
  entry = Entry{row, 0};
}

// Soft delete: REMOVEs, then a tombstone holding the latest op id. A key
// never seen gets a tombstone too (a late copy of it must lose); a
// tombstone stays as it is, so a replayed delete writes nothing.
void StoreModel::delete_row(Table table, int id) {
  auto& rows = tables_[table].rows;
  auto it = rows.find(row_id(id));
  if (it != rows.end() && !it->second.live) return;
  if (it == rows.end()) {
    rows[row_id(id)] = Entry{std::nullopt, last_op()};
    return;
  }
  for (const Placement& p : place(table, *it->second.live)) {
    write_op(OpKind::kRemove, p.bucket, table, id, std::nullopt);
  }
  it->second = Entry{std::nullopt, last_op()};
}

// Tombstones for every live row, after their REMOVEs. A table still being
// copied must be copied again.
void StoreModel::truncate(Table table) {
  for (Entry* entry : remove_live_rows(table)) *entry = Entry{std::nullopt, last_op()};
  if (!tables_[table].snapshot_done) bump_generation(table);
}

std::vector<StoreModel::Entry*> StoreModel::remove_live_rows(Table table) {
  std::vector<Entry*> removed;
  for (auto& [id, entry] : tables_[table].rows) {
    if (!entry.live) continue;
    for (const Placement& p : place(table, *entry.live)) {
      write_op(OpKind::kRemove, p.bucket, table, entry.live->id, std::nullopt);
    }
    removed.push_back(&entry);
  }
  return removed;
}

// A copied row lands only on a key the store does not hold at all.
void StoreModel::copy_row(Table table, const SourceRow& row) {
  TableState& state = tables_[table];
  if (state.rows.count(row_id(row.id))) return;
  state.rows[row_id(row.id)] = Entry{row, 0};
  state.rows_copied++;
  for (const Placement& p : place(table, row)) {
    write_op(OpKind::kPut, p.bucket, table, row.id, p.data);
  }
}

void StoreModel::bump_generation(Table table) {
  TableState& state = tables_[table];
  state.snapshot_done = false;
  state.resume_key.reset();
  state.rows_copied = 0;
  state.generation++;
  state_.snapshot_done = false;
}

void StoreModel::raise_no_checkpoint_before(Lsn lsn) {
  state_.no_checkpoint_before = std::max(state_.no_checkpoint_before.value_or(Lsn::zero()), lsn);
}

CommitResult StoreModel::apply_checkpoint_rules(Lsn lsn, std::optional<int64_t> persisted,
                                                bool empty_checkpoints) {
  const auto& s = state_;
  bool can_checkpoint = s.snapshot_done &&
                        (!s.last_checkpoint_lsn || *s.last_checkpoint_lsn <= lsn) &&
                        (!s.no_checkpoint_before || *s.no_checkpoint_before <= lsn);
  CommitResult result;
  if (!can_checkpoint) {
    result.checkpoint_blocked = true;
    state_.keepalive_op = max_of(s.keepalive_op, persisted);
    return result;
  }
  int64_t checkpoint = max_of(max_of(s.last_checkpoint, persisted), s.keepalive_op).value_or(0);
  bool changes_nothing = !s.keepalive_op && s.last_checkpoint == checkpoint;
  if (changes_nothing && !empty_checkpoints) return result;
  publish(checkpoint, lsn);
  result.checkpoint_created = true;
  return result;
}

// Tombstones the checkpoint covers are dropped: they only exist to stop a
// late copy, and a checkpoint means no copy is running.
void StoreModel::publish(int64_t checkpoint, Lsn lsn) {
  state_.last_checkpoint = checkpoint;
  state_.last_checkpoint_lsn = lsn;
  state_.keepalive_op.reset();
  for (auto& [table, state] : tables_) {
    std::erase_if(state.rows, [&](const auto& item) {
      return !item.second.live && item.second.pending_delete <= checkpoint;
    });
  }
}

BucketView StoreModel::published() const {
  BucketView view;
  if (!state_.last_checkpoint_lsn) return view;
  const int64_t checkpoint = state_.last_checkpoint.value_or(0);
  std::vector<ModelOp> covered;
  for (const ModelOp& op : ops_) {
    if (op.op_id <= checkpoint) covered.push_back(op);
  }
  apply_ops(covered, view);
  return view;
}

TableProgress StoreModel::progress(Table table) const {
  const TableState& state = tables_.at(table);
  int64_t live = std::count_if(state.rows.begin(), state.rows.end(),
                               [](const auto& item) { return item.second.live.has_value(); });
  return {state.snapshot_done, state.generation, state.rows_copied, state.resume_key, live};
}

}  // namespace walsim::model
