#include "engine/write_batch.h"

#include <algorithm>
#include <cassert>

#include "engine/row_codec.h"

namespace walsim {

namespace {

// Bucket ids never contain a raw newline (rules JSON-escape parameter
// values), so '\n' joins them unambiguously.
std::string join_buckets(const std::vector<BucketRow>& rows) {
  std::string joined;
  for (const BucketRow& row : rows) {
    if (!joined.empty()) joined.push_back('\n');
    joined += row.bucket;
  }
  return joined;
}

std::vector<std::string> split_buckets(const std::string& joined) {
  std::vector<std::string> buckets;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    buckets.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return buckets;
}

std::optional<int64_t> max_of(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

bool has_unknown_values(const Row& row) {
  return std::any_of(row.begin(), row.end(),
                     [](const Value& value) { return value.is_unchanged_toast(); });
}

}  // namespace

// A row as current_data holds it.
struct WriteBatch::CurrentRow {
  Row data;
  std::vector<std::string> buckets;
  bool tombstoned = false;
  bool copied = false;  // values came from a table copy, not the stream
};

// Applies buffered changes inside one open transaction. Holds what is only
// valid for that transaction: prepared statements and the last op id.
class WriteBatch::Applier {
 public:
  Applier(WriteBatch& batch) : batch_(batch), db_(batch.storage_.db()) {}

  Status apply(const Change& change) {
    switch (change.type) {
      case Change::Type::kInsert:
      case Change::Type::kUpdate: return apply_write(change);
      case Change::Type::kDelete:
        return delete_row(*change.relation, row_id_of(change.relation->key_of(change.row)));
      case Change::Type::kTruncate: return truncate(*change.relation);
      case Change::Type::kCopy: return copy(*change.relation, change.row);
      case Change::Type::kFill: return fill(*change.relation, change.row);
    }
    return Status::ok();
  }

  // REMOVE for every live row of the table; tombstones are left as they are.
  // Returns the row ids it removed.
  Result<std::vector<std::string>> remove_live_rows(const std::string& table) {
    auto stmt = db_.prepare(
        "SELECT row_id, buckets FROM current_data"
        " WHERE source_table = ?1 AND pending_delete IS NULL ORDER BY row_id");
    if (!stmt.is_ok()) return stmt.status();
    (*stmt)->bind(1, table);
    std::vector<std::pair<std::string, std::string>> live;
    while (true) {
      auto row = (*stmt)->step();
      if (!row.is_ok()) return row.status();
      if (!*row) break;
      live.emplace_back((*stmt)->text(0), (*stmt)->text(1));
    }
    std::vector<std::string> removed;
    for (const auto& [row_id, buckets] : live) {
      for (const std::string& bucket : split_buckets(buckets)) {
        WALSIM_RETURN_IF_ERROR(write_op(OpKind::kRemove, bucket, table, row_id, std::nullopt));
      }
      removed.push_back(row_id);
    }
    return removed;
  }

  std::optional<int64_t> last_written_op() const { return last_written_op_; }

 private:
  // Where an unchanged-TOAST value comes from (docs/design.md, "TOAST"):
  //  * the same key: the stored row, whoever wrote it; anything that changed
  //    the value since reaches this key through the stream later.
  //  * a key change: the live row already under the new key (only a copy
  //    that read the source after this update can have put it there), else
  //    the old key's row if the stream wrote it (a copied old-key row may be
  //    a later row that re-used the key).
  // A value none of these give stays unknown; the row is then incomplete,
  // blocks checkpoints, and a snapshot worker reads it from the source.
  Status apply_write(const Change& change) {
    const Relation& relation = *change.relation;
    Row merged = change.row;
    std::optional<std::string> old_id;
    if (change.old_key) {
      // An 'O' tuple (REPLICA IDENTITY FULL) carries the old values itself.
      fill_unknown_values(merged, *change.old_key);
      old_id = row_id_of(relation.key_of(*change.old_key));
    }
    std::string row_id = row_id_of(relation.key_of(merged));
    bool key_changed = old_id && *old_id != row_id;
    bool copied = false;
    if (has_unknown_values(merged)) {
      auto filled = key_changed ? fill_after_key_change(relation, *old_id, row_id, merged)
                                : fill_from(relation, row_id, merged, Trust::kAnyRow);
      if (!filled.is_ok()) return filled.status();
      copied = *filled;
    }
    if (key_changed) WALSIM_RETURN_IF_ERROR(delete_row(relation, *old_id));
    auto current = load(relation.name, row_id);
    if (!current.is_ok()) return current.status();
    return put_row(relation, row_id, merged, *current, copied);
  }

  enum class Trust { kAnyRow, kLiveRow, kLiveStreamRow };

  Result<bool> fill_after_key_change(const Relation& relation, const std::string& old_id,
                                     const std::string& new_id, Row& row) {
    auto copied = fill_from(relation, new_id, row, Trust::kLiveRow);
    if (!copied.is_ok() || !has_unknown_values(row)) return copied;
    auto from_old = fill_from(relation, old_id, row, Trust::kLiveStreamRow);
    if (!from_old.is_ok()) return from_old;
    return *copied || *from_old;
  }

  // Fills unknown values of `row` from the stored row `row_id` when it is
  // one `trust` accepts. Returns whether a value came from a copied row.
  Result<bool> fill_from(const Relation& relation, const std::string& row_id, Row& row,
                         Trust trust) {
    auto stored = load(relation.name, row_id);
    if (!stored.is_ok()) return stored.status();
    if (!*stored) return false;
    const CurrentRow& known = **stored;
    if (trust != Trust::kAnyRow && known.tombstoned) return false;
    if (trust == Trust::kLiveStreamRow && known.copied) return false;
    Row before = row;
    fill_unknown_values(row, known.data);
    return known.copied && row != before;
  }

  // Unchanged-TOAST values in `row` take the value `known` has there, when
  // it has one. Without one (the update is the first the store sees of the
  // row) they stay unknown until the table copy fills them in; see copy().
  static void fill_unknown_values(Row& row, const Row& known) {
    for (size_t i = 0; i < row.size() && i < known.size(); i++) {
      if (row[i].is_unchanged_toast() && !known[i].is_null() && !known[i].is_unchanged_toast()) {
        row[i] = known[i];
      }
    }
  }

  // Writes REMOVE for buckets the row leaves and PUT for each bucket it is
  // in, then stores the row as live.
  Status put_row(const Relation& relation, const std::string& row_id, const Row& row,
                 const std::optional<CurrentRow>& current, bool copied) {
    auto rules = batch_.table_rules(relation);
    if (!rules.is_ok()) return rules.status();
    std::vector<BucketRow> placed = (*rules)->evaluate(row);
    if (current && !current->tombstoned) {
      for (const std::string& bucket : current->buckets) {
        bool stays = std::any_of(placed.begin(), placed.end(),
                                 [&](const BucketRow& p) { return p.bucket == bucket; });
        if (!stays) {
          WALSIM_RETURN_IF_ERROR(
              write_op(OpKind::kRemove, bucket, relation.name, row_id, std::nullopt));
        }
      }
    }
    for (const BucketRow& p : placed) {
      WALSIM_RETURN_IF_ERROR(write_op(OpKind::kPut, p.bucket, relation.name, row_id, p.data_json));
    }
    auto upsert = db_.prepare(
        "INSERT INTO current_data"
        " (source_table, row_id, data, buckets, pending_delete, copied, incomplete)"
        " VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6) ON CONFLICT (source_table, row_id) DO UPDATE"
        " SET data = excluded.data, buckets = excluded.buckets, pending_delete = NULL,"
        " copied = excluded.copied, incomplete = excluded.incomplete");
    if (!upsert.is_ok()) return upsert.status();
    std::optional<int64_t> incomplete;
    if (has_unknown_values(row)) incomplete = 1;
    return (*upsert)->bind(1, relation.name).bind(2, row_id).bind(3, encode_row(row))
        .bind(4, join_buckets(placed)).bind(5, int64_t{copied}).bind(6, incomplete).run();
  }

  // A delete always leaves a tombstone, even for a key the store has not
  // seen: a table copy may have read the row before the delete and write it
  // after, and the tombstone is what makes that late copy lose. A row that
  // is already a tombstone writes nothing, so a re-applied delete is
  // harmless.
  Status delete_row(const Relation& relation, const std::string& row_id) {
    auto current = load(relation.name, row_id);
    if (!current.is_ok()) return current.status();
    if (*current && (*current)->tombstoned) return Status::ok();
    if (!*current) {
      if (batch_.storage_.options().unsafe_hard_deletes) return Status::ok();
      return bury_unknown(relation.name, row_id);
    }
    for (const std::string& bucket : (*current)->buckets) {
      WALSIM_RETURN_IF_ERROR(write_op(OpKind::kRemove, bucket, relation.name, row_id, std::nullopt));
    }
    return bury(relation.name, {row_id});
  }

  // A truncate REMOVEs the live rows and buries them. Rows a running copy
  // read before the truncate have no key here to bury, so a table still
  // being copied starts its copy again: every read of the new copy happens
  // after the truncate.
  Status truncate(const Relation& relation) {
    auto removed = remove_live_rows(relation.name);
    if (!removed.is_ok()) return removed.status();
    WALSIM_RETURN_IF_ERROR(bury(relation.name, *removed));
    auto state = batch_.storage_.table(relation.name);
    if (!state.is_ok()) return state.status();
    if (*state && !(*state)->snapshot_done) {
      WALSIM_RETURN_IF_ERROR(batch_.storage_.require_snapshot(relation.name));
    }
    return Status::ok();
  }

  Status bury_unknown(const std::string& table, const std::string& row_id) {
    auto tombstone_op = latest_op();
    if (!tombstone_op.is_ok()) return tombstone_op.status();
    auto insert = db_.prepare(
        "INSERT INTO current_data (source_table, row_id, data, buckets, pending_delete)"
        " VALUES (?1, ?2, '[]', '', ?3)");
    if (!insert.is_ok()) return insert.status();
    return (*insert)->bind(1, table).bind(2, row_id).bind(3, *tombstone_op).run();
  }

  // Leaves tombstones (pending_delete = the latest op id) so that a copy of
  // these rows read before the delete is ignored when it arrives later. The
  // unsafe canary mode deletes at once instead.
  Status bury(const std::string& table, const std::vector<std::string>& row_ids) {
    if (batch_.storage_.options().unsafe_hard_deletes) {
      auto erase = db_.prepare("DELETE FROM current_data WHERE source_table = ?1 AND row_id = ?2");
      if (!erase.is_ok()) return erase.status();
      for (const std::string& row_id : row_ids) {
        (*erase)->reset();
        WALSIM_RETURN_IF_ERROR((*erase)->bind(1, table).bind(2, row_id).run());
      }
      return Status::ok();
    }
    auto tombstone_op = latest_op();
    if (!tombstone_op.is_ok()) return tombstone_op.status();
    auto update = db_.prepare(
        "UPDATE current_data SET pending_delete = ?3, buckets = ''"
        " WHERE source_table = ?1 AND row_id = ?2");
    if (!update.is_ok()) return update.status();
    for (const std::string& row_id : row_ids) {
      (*update)->reset();
      WALSIM_RETURN_IF_ERROR(
          (*update)->bind(1, table).bind(2, row_id).bind(3, *tombstone_op).run());
    }
    return Status::ok();
  }

  // A copied row is written only for a key the store does not know: the
  // stream's version (or tombstone) is newer than any copy. That holds for
  // incomplete rows too: a chunk read before the update that left a value
  // unknown may hold an older row's value, so only fill() completes them.
  Status copy(const Relation& relation, const Row& row) {
    auto rules = batch_.table_rules(relation);
    if (!rules.is_ok()) return rules.status();
    std::string row_id = row_id_of(relation.key_of(row));
    std::vector<BucketRow> placed = (*rules)->evaluate(row);
    auto insert = db_.prepare(
        "INSERT INTO current_data (source_table, row_id, data, buckets, pending_delete, copied)"
        " VALUES (?1, ?2, ?3, ?4, NULL, 1) ON CONFLICT (source_table, row_id) DO NOTHING");
    if (!insert.is_ok()) return insert.status();
    WALSIM_RETURN_IF_ERROR((*insert)->bind(1, relation.name).bind(2, row_id)
                               .bind(3, encode_row(row)).bind(4, join_buckets(placed)).run());
    if (sqlite3_changes(db_.handle()) == 0) return Status::ok();
    rows_copied_++;
    for (const BucketRow& p : placed) {
      WALSIM_RETURN_IF_ERROR(write_op(OpKind::kPut, p.bucket, relation.name, row_id, p.data_json));
    }
    return Status::ok();
  }

  // Completes an incomplete row with values read from the source after the
  // update that left them unknown (the worker reads after it saw the row).
  Status fill(const Relation& relation, const Row& copied) {
    std::string row_id = row_id_of(relation.key_of(copied));
    auto current = load(relation.name, row_id);
    if (!current.is_ok()) return current.status();
    if (!*current || (*current)->tombstoned || !has_unknown_values((*current)->data)) {
      return Status::ok();
    }
    Row filled = (*current)->data;
    fill_unknown_values(filled, copied);
    return put_row(relation, row_id, filled, *current, /*copied=*/true);
  }

  Result<std::optional<CurrentRow>> load(const std::string& table, const std::string& row_id) {
    auto stmt = db_.prepare(
        "SELECT data, buckets, pending_delete, copied FROM current_data"
        " WHERE source_table = ?1 AND row_id = ?2");
    if (!stmt.is_ok()) return stmt.status();
    auto found = (*stmt)->bind(1, table).bind(2, row_id).step();
    if (!found.is_ok()) return found.status();
    if (!*found) return std::optional<CurrentRow>();
    auto data = decode_row((*stmt)->text(0));
    if (!data.is_ok()) return data.status();
    return std::optional<CurrentRow>(CurrentRow{std::move(*data),
                                                split_buckets((*stmt)->text(1)),
                                                !(*stmt)->is_null(2), (*stmt)->int64(3) != 0});
  }

  Status write_op(OpKind kind, const std::string& bucket, const std::string& table,
                  const std::string& row_id, const std::optional<std::string>& data) {
    auto op_id = next_op();
    if (!op_id.is_ok()) return op_id.status();
    auto insert = db_.prepare(
        "INSERT INTO bucket_data (bucket, op_id, op, source_table, row_id, checksum, data)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert.is_ok()) return insert.status();
    uint32_t checksum = op_checksum(kind, bucket, table, row_id, data);
    return (*insert)->bind(1, bucket).bind(2, *op_id)
        .bind(3, kind == OpKind::kPut ? "PUT" : "REMOVE")
        .bind(4, table).bind(5, row_id)
        .bind(6, static_cast<int64_t>(checksum)).bind(7, data).run();
  }

  // Op ids come from replication_state.last_op_id, read once per
  // transaction and written back by finish(); the write lock the
  // transaction holds makes the sequence safe between writers.
  Result<int64_t> next_op() {
    auto latest = latest_op();
    if (!latest.is_ok()) return latest.status();
    last_written_op_ = *latest + 1;
    sequence_ = *last_written_op_;
    return *last_written_op_;
  }

  // The newest op id in the store (0 when empty): also a tombstone's op.
  Result<int64_t> latest_op() {
    if (sequence_) return *sequence_;
    auto stmt = db_.prepare("SELECT last_op_id FROM replication_state WHERE id = 1");
    if (!stmt.is_ok()) return stmt.status();
    auto row = (*stmt)->step();
    if (!row.is_ok()) return row.status();
    if (!*row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
    sequence_ = (*stmt)->int64(0);
    return *sequence_;
  }

 public:
  // Stores the op id sequence; call once after the last apply().
  Status finish() {
    if (!last_written_op_) return Status::ok();
    auto update = db_.prepare("UPDATE replication_state SET last_op_id = ?1 WHERE id = 1");
    if (!update.is_ok()) return update.status();
    return (*update)->bind(1, *last_written_op_).run();
  }

 public:
  int64_t rows_copied() const { return rows_copied_; }

 private:
  WriteBatch& batch_;
  SqliteDb& db_;
  std::optional<int64_t> last_written_op_;  // by this transaction
  std::optional<int64_t> sequence_;         // last op id, once read
  int64_t rows_copied_ = 0;
};

WriteBatch::WriteBatch(BucketStorage& storage, Kind kind, std::string snapshot_table,
                       int64_t snapshot_generation)
    : storage_(storage),
      kind_(kind),
      snapshot_table_(std::move(snapshot_table)),
      snapshot_generation_(snapshot_generation) {}

WriteBatch::~WriteBatch() = default;

const Relation* WriteBatch::remember(const Relation& relation) {
  for (auto it = relations_.rbegin(); it != relations_.rend(); ++it) {
    if (**it == relation) return it->get();
  }
  relations_.push_back(std::make_unique<Relation>(relation));
  return relations_.back().get();
}

Result<const TableRules*> WriteBatch::table_rules(const Relation& relation) {
  auto found = table_rules_.find(&relation);
  if (found != table_rules_.end()) return &found->second;
  auto rules = storage_.rules().for_table(relation);
  if (!rules.is_ok()) return rules.status();
  return &table_rules_.emplace(&relation, std::move(*rules)).first->second;
}

void WriteBatch::insert(const Relation& relation, Row row) {
  assert(kind_ == Kind::kStream);
  changes_.push_back({Change::Type::kInsert, remember(relation), std::move(row), std::nullopt});
}

void WriteBatch::update(const Relation& relation, std::optional<Row> old_key, Row row) {
  assert(kind_ == Kind::kStream);
  changes_.push_back({Change::Type::kUpdate, remember(relation), std::move(row), std::move(old_key)});
}

void WriteBatch::remove(const Relation& relation, Row old_key) {
  assert(kind_ == Kind::kStream);
  changes_.push_back({Change::Type::kDelete, remember(relation), std::move(old_key), std::nullopt});
}

void WriteBatch::truncate(const Relation& relation) {
  assert(kind_ == Kind::kStream);
  changes_.push_back({Change::Type::kTruncate, remember(relation), {}, std::nullopt});
}

void WriteBatch::copy_row(const Relation& relation, Row row) {
  assert(kind_ == Kind::kSnapshot);
  assert(relation.name == snapshot_table_);
  assert(!has_unknown_values(row) && "a table copy has every value");
  changes_.push_back({Change::Type::kCopy, remember(relation), std::move(row), std::nullopt});
}

void WriteBatch::raise_no_checkpoint_before(Lsn lsn) {
  assert(kind_ == Kind::kSnapshot);
  consistent_lsn_ = std::max(consistent_lsn_.value_or(Lsn::zero()), lsn);
}

void WriteBatch::fill_row(const Relation& relation, Row row) {
  assert(kind_ == Kind::kSnapshot);
  assert(!has_unknown_values(row) && "a read from the source has every value");
  changes_.push_back({Change::Type::kFill, remember(relation), std::move(row), std::nullopt});
}

void WriteBatch::set_resume_key(Row last_key) {
  assert(kind_ == Kind::kSnapshot);
  resume_key_ = std::move(last_key);
}

void WriteBatch::discard() {
  changes_.clear();
  resume_key_.reset();
  consistent_lsn_.reset();
  table_rules_.clear();
  relations_.clear();
}

Status WriteBatch::flush(std::optional<Lsn> open_transaction_commit_lsn) {
  if (changes_.empty() && !resume_key_) return Status::ok();
  std::optional<int64_t> written;
  Status status = storage_.write_transaction("flush", [&]() -> Status {
    auto result = write_changes();
    if (!result.is_ok()) return result.status();
    written = *result;
    // The flushed ops must reach the next checkpoint even if their
    // transaction is applied again after a crash and then writes nothing
    // (a re-applied delete finds its tombstone): carry them like a blocked
    // commit does.
    if (written) WALSIM_RETURN_IF_ERROR(storage_.raise_keepalive_op(*written));
    if (open_transaction_commit_lsn) {
      return storage_.raise_no_checkpoint_before(*open_transaction_commit_lsn);
    }
    return Status::ok();
  });
  if (status.is_ok()) mark_persisted(written);
  return status;
}

Result<CommitResult> WriteBatch::commit(Lsn lsn, CommitOptions options) {
  return commit_at(lsn, options, /*transaction=*/kind_ == Kind::kStream);
}

Result<CommitResult> WriteBatch::commit_at(Lsn lsn, const CommitOptions& options,
                                           bool transaction) {
  CommitResult result;
  std::optional<int64_t> written;
  Status status = storage_.write_transaction("commit", [&]() -> Status {
    auto wrote = write_changes();
    if (!wrote.is_ok()) return wrote.status();
    written = *wrote;
    if (consistent_lsn_) WALSIM_RETURN_IF_ERROR(storage_.raise_no_checkpoint_before(*consistent_lsn_));
    if (transaction) WALSIM_RETURN_IF_ERROR(storage_.store_last_applied_lsn(lsn));
    auto applied = apply_checkpoint_rules(lsn, max_of(persisted_op_, written), options);
    if (!applied.is_ok()) return applied.status();
    result = *applied;
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  mark_persisted(written);
  return result;
}

Result<CommitResult> WriteBatch::keepalive(Lsn lsn, CommitOptions options) {
  assert(changes_.empty() && "a keepalive arrives between transactions");
  return commit_at(lsn, options, /*transaction=*/false);
}

void WriteBatch::mark_persisted(std::optional<int64_t> written_op) {
  persisted_op_ = max_of(persisted_op_, written_op);
  discard();
}

// The REMOVE ops must reach the next checkpoint even if nothing else is
// ever written (a table re-created empty): carry them in keepalive_op.
Status WriteBatch::write_table_removal(const std::string& table) {
  Applier applier(*this);
  auto removed = applier.remove_live_rows(table);
  if (!removed.is_ok()) return removed.status();
  WALSIM_RETURN_IF_ERROR(applier.finish());
  if (!applier.last_written_op()) return Status::ok();
  return storage_.raise_keepalive_op(*applier.last_written_op());
}

// Runs inside the caller's transaction and returns the last op id it wrote.
// On failure the transaction rolls back, so the buffer and persisted_op_
// stay as they were and the call can be retried.
Result<std::optional<int64_t>> WriteBatch::write_changes() {
  if (kind_ == Kind::kSnapshot) WALSIM_RETURN_IF_ERROR(check_generation());
  Applier applier(*this);
  for (const Change& change : changes_) WALSIM_RETURN_IF_ERROR(applier.apply(change));
  WALSIM_RETURN_IF_ERROR(applier.finish());
  if (kind_ == Kind::kSnapshot) {
    WALSIM_RETURN_IF_ERROR(record_copy_progress(applier.rows_copied()));
  }
  return applier.last_written_op();
}

// A snapshot batch belongs to one copy of its table. If the table was
// queued again since (re-created, new identity), these rows are stale.
Status WriteBatch::check_generation() {
  auto state = storage_.table(snapshot_table_);
  if (!state.is_ok()) return state.status();
  if (!*state || (*state)->generation != snapshot_generation_) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the copy of table '" + snapshot_table_ + "' was superseded by a new one");
  }
  return Status::ok();
}

Status WriteBatch::record_copy_progress(int64_t rows_copied) {
  auto update = storage_.db().prepare(
      "UPDATE source_tables SET rows_copied = rows_copied + ?2,"
      " resume_key = coalesce(?3, resume_key) WHERE name = ?1");
  if (!update.is_ok()) return update.status();
  std::optional<std::string> key;
  if (resume_key_) key = encode_row(*resume_key_);
  return (*update)->bind(1, snapshot_table_).bind(2, rows_copied).bind(3, key).run();
}

// The checkpoint rules, exactly as docs/design.md states them. Runs inside
// the commit's transaction, after this batch's changes are written.
Result<CommitResult> WriteBatch::apply_checkpoint_rules(Lsn lsn,
                                                        std::optional<int64_t> persisted,
                                                        const CommitOptions& options) {
  auto state = storage_.replication_state();
  if (!state.is_ok()) return state.status();
  // Beyond the rules as stated: a row with a value the store has not seen
  // yet (see apply_write) must not be published, so it blocks like a copy
  // in progress until a snapshot worker has read it from the source.
  auto incomplete = storage_.has_incomplete_rows();
  if (!incomplete.is_ok()) return incomplete.status();
  bool can_checkpoint =
      !*incomplete && state->snapshot_done &&
      (!state->last_checkpoint_lsn || *state->last_checkpoint_lsn <= lsn) &&
      (!state->no_checkpoint_before || *state->no_checkpoint_before <= lsn);
  CommitResult result;
  if (!can_checkpoint) {
    result.checkpoint_blocked = true;
    std::optional<int64_t> keepalive_op = max_of(state->keepalive_op, persisted);
    if (keepalive_op == state->keepalive_op) return result;  // nothing changes
    WALSIM_RETURN_IF_ERROR(storage_.store_keepalive_op(*keepalive_op));
    return result;
  }
  int64_t checkpoint =
      max_of(max_of(state->last_checkpoint, persisted), state->keepalive_op).value_or(0);
  bool changes_nothing = !state->keepalive_op && state->last_checkpoint == checkpoint;
  if (changes_nothing && !options.create_empty_checkpoints) return result;
  WALSIM_RETURN_IF_ERROR(storage_.store_checkpoint(checkpoint, lsn));
  result.checkpoint_created = true;
  return result;
}

}  // namespace walsim
