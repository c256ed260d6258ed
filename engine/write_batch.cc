#include "engine/write_batch.h"

#include <algorithm>

#include "engine/source_tables.h"

namespace walsim {

namespace {

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

WriteBatch::WriteBatch(StoreWriter& writer, const BucketRules& rules, Kind kind,
                       std::string snapshot_table, int64_t snapshot_generation)
    : writer_(writer),
      kind_(kind),
      snapshot_table_(std::move(snapshot_table)),
      snapshot_generation_(snapshot_generation),
      table_rules_(rules) {
  WALSIM_ASSERT((kind == Kind::kSnapshot) == !snapshot_table_.empty(),
                "a snapshot batch, and only one, belongs to a table");
}

WriteBatch::~WriteBatch() = default;

const Relation* WriteBatch::remember(const Relation& relation) {
  for (auto it = relations_.rbegin(); it != relations_.rend(); ++it) {
    if (**it == relation) return it->get();
  }
  relations_.push_back(std::make_unique<Relation>(relation));
  return relations_.back().get();
}

void WriteBatch::buffer(RowChange::Type type, const Relation& relation, Row row,
                        std::optional<Row> old_key) {
  changes_.push_back({type, remember(relation), std::move(row), std::move(old_key)});
}

void WriteBatch::insert(const Relation& relation, Row row) {
  WALSIM_ASSERT(kind_ == Kind::kStream, "only the stream inserts");
  buffer(RowChange::Type::kInsert, relation, std::move(row), std::nullopt);
}

void WriteBatch::update(const Relation& relation, std::optional<Row> old_key, Row row) {
  WALSIM_ASSERT(kind_ == Kind::kStream, "only the stream updates");
  buffer(RowChange::Type::kUpdate, relation, std::move(row), std::move(old_key));
}

void WriteBatch::remove(const Relation& relation, Row old_key) {
  WALSIM_ASSERT(kind_ == Kind::kStream, "only the stream deletes");
  buffer(RowChange::Type::kDelete, relation, std::move(old_key), std::nullopt);
}

void WriteBatch::truncate(const Relation& relation) {
  WALSIM_ASSERT(kind_ == Kind::kStream, "only the stream truncates");
  buffer(RowChange::Type::kTruncate, relation, {}, std::nullopt);
}

void WriteBatch::copy_row(const Relation& relation, Row row) {
  WALSIM_ASSERT(kind_ == Kind::kSnapshot, "only a snapshot batch copies");
  WALSIM_ASSERT(relation.name == snapshot_table_, "a snapshot batch copies its own table");
  WALSIM_ASSERT(!has_unknown_values(row), "a table copy has every value");
  if (changes_.empty()) copy_read_after_op_ = writer_.committed_op_max();
  buffer(RowChange::Type::kCopy, relation, std::move(row), std::nullopt);
}

void WriteBatch::raise_no_checkpoint_before(Lsn lsn) {
  WALSIM_ASSERT(kind_ == Kind::kSnapshot, "only a snapshot batch reads rows at an LSN");
  consistent_lsn_ = std::max(consistent_lsn_.value_or(Lsn::zero()), lsn);
}

void WriteBatch::fill_row(const Relation& relation, Row row) {
  WALSIM_ASSERT(kind_ == Kind::kSnapshot, "only a snapshot batch fills rows");
  WALSIM_ASSERT(!has_unknown_values(row), "a read from the source has every value");
  buffer(RowChange::Type::kFill, relation, std::move(row), std::nullopt);
}

void WriteBatch::set_resume_key(Row last_key) {
  WALSIM_ASSERT(kind_ == Kind::kSnapshot, "only a table copy resumes");
  resume_key_ = std::move(last_key);
}

void WriteBatch::discard() {
  changes_.clear();
  resume_key_.reset();
  consistent_lsn_.reset();
  copy_read_after_op_.reset();
  table_rules_.clear();
  relations_.clear();
}

Status WriteBatch::flush(std::optional<Lsn> open_transaction_commit_lsn) {
  if (changes_.empty() && !resume_key_) return Status::ok();
  std::optional<int64_t> written;
  Status status = writer_.write("flush", [&](StoreTransaction& txn) -> Status {
    bool table_done = true;
    WALSIM_ASSIGN_OR_RETURN(written, write_changes(txn, &table_done));
    // The flushed ops must reach the next checkpoint even if their
    // transaction is applied again after a crash and then writes nothing
    // (a re-applied delete finds its tombstone): carry them like a blocked
    // commit does.
    if (written) WALSIM_RETURN_IF_ERROR(raise_keepalive_op(txn, *written));
    if (open_transaction_commit_lsn) {
      return walsim::raise_no_checkpoint_before(txn, *open_transaction_commit_lsn);
    }
    return Status::ok();
  });
  if (status.is_ok()) mark_persisted(written);
  return status;
}

Result<CommitResult> WriteBatch::commit(Lsn lsn, CommitOptions options) {
  return commit_at(kind_ == Kind::kStream ? CommitPoint::Kind::kTransaction
                                          : CommitPoint::Kind::kSnapshot,
                   lsn, options);
}

Result<CommitResult> WriteBatch::keepalive(Lsn lsn, CommitOptions options) {
  WALSIM_ASSERT(kind_ == Kind::kStream, "keepalives come through the stream");
  WALSIM_ASSERT(changes_.empty(), "a keepalive arrives between transactions");
  return commit_at(CommitPoint::Kind::kKeepalive, lsn, options);
}

Result<CommitResult> WriteBatch::commit_at(CommitPoint::Kind kind, Lsn lsn,
                                           const CommitOptions& options) {
  CommitResult result;
  std::optional<int64_t> written;
  bool table_done = true;
  Status status = writer_.write("commit", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(written, write_changes(txn, &table_done));
    CommitPoint point{kind, lsn, max_of(persisted_op_, written), consistent_lsn_, table_done};
    WALSIM_ASSIGN_OR_RETURN(result, commit_checkpoint(txn, point, options));
    return Status::ok();
  });
  WALSIM_RETURN_IF_ERROR(status);
  // The other side of checkpoint_rules' snapshot_done check: the rows of a
  // copy in progress are never published by the copy's own commit.
  WALSIM_ASSERT(kind != CommitPoint::Kind::kSnapshot || table_done || result.checkpoint_blocked,
                "a snapshot commit during its table's copy is always blocked");
  mark_persisted(written);
  return result;
}

void WriteBatch::mark_persisted(std::optional<int64_t> written_op) {
  WALSIM_ASSERT(!written_op || !persisted_op_ || *written_op > *persisted_op_,
                "persisted op ids only grow");
  persisted_op_ = max_of(persisted_op_, written_op);
  discard();
}

// On failure the caller's transaction rolls back, so the buffer and
// persisted_op_ stay as they were and the call can be retried.
Result<std::optional<int64_t>> WriteBatch::write_changes(StoreTransaction& txn,
                                                         bool* table_done) {
  if (kind_ == Kind::kSnapshot) {
    // A snapshot batch belongs to one copy of its table. If the table was
    // queued again since (re-created, truncated, new identity), these rows
    // are stale.
    WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn.db(), snapshot_table_));
    if (!state || state->generation != snapshot_generation_) {
      return Status(ErrorCode::kFailedPrecondition,
                    "the copy of table '" + snapshot_table_ + "' was superseded by a new one");
    }
    *table_done = state->snapshot_done;
  }
  RowApplier applier(txn, table_rules_, copy_read_after_op_);
  for (const RowChange& change : changes_) WALSIM_RETURN_IF_ERROR(applier.apply(change));
  if (kind_ == Kind::kSnapshot) {
    WALSIM_RETURN_IF_ERROR(
        record_copy_progress(txn, snapshot_table_, applier.rows_copied(), resume_key_));
  }
  return txn.op_log().last_written_op();
}

}  // namespace walsim
