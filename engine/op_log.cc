#include "engine/op_log.h"

#include <algorithm>

#include "engine/mutant.h"
#include "engine/row_codec.h"

namespace walsim {

namespace {

// The schema's CHECK allows only these four.
OpKind op_kind_of(const std::string& stored) {
  if (stored == "PUT") return OpKind::kPut;
  if (stored == "REMOVE") return OpKind::kRemove;
  if (stored == "MOVE") return OpKind::kMove;
  WALSIM_ASSERT(stored == "CLEAR", "bucket_data.op is PUT, REMOVE, MOVE or CLEAR");
  return OpKind::kClear;
}

// Reads the rows of a statement selecting
// (op_id, bucket, op, source_table, row_id, checksum, data).
Result<std::vector<StoredOp>> read_op_rows(Statement& stmt) {
  std::vector<StoredOp> ops;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    StoredOp op{stmt.int64(0), stmt.text(1), op_kind_of(stmt.text(2)), stmt.text(3),
                stmt.text(4), static_cast<uint32_t>(stmt.int64(5)), stmt.optional_text(6)};
    ops.push_back(std::move(op));
  }
  return ops;
}

Result<std::vector<std::string>> read_bucket_names(Statement& stmt) {
  std::vector<std::string> buckets;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    buckets.push_back(stmt.text(0));
  }
  return buckets;
}

}  // namespace

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kPut: return "PUT";
    case OpKind::kRemove: return "REMOVE";
    case OpKind::kMove: return "MOVE";
    case OpKind::kClear: return "CLEAR";
  }
  WALSIM_ASSERT(false, "an op kind has a name");
  return "";
}

uint32_t op_checksum(OpKind kind, const std::string& bucket, const std::string& table,
                     const std::string& row_id, const std::optional<std::string>& data) {
  // FNV-1a, 32-bit, over the fields with a separator byte between them so
  // ("ab","c") and ("a","bc") differ.
  uint32_t hash = 2166136261u;
  auto mix = [&hash](std::string_view text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 16777619u;
    }
    hash ^= 0xFF;
    hash *= 16777619u;
  };
  mix(op_kind_name(kind));
  mix(bucket);
  mix(table);
  mix(row_id);
  if (data) mix(*data);
  return hash;
}

std::string row_id_of(const Row& key) { return encode_row(key); }

std::map<std::pair<std::string, std::string>, StoredOp> reduce_ops(
    const std::vector<StoredOp>& ops) {
  std::map<std::pair<std::string, std::string>, StoredOp> latest;
  int64_t previous_op = 0;
  for (const StoredOp& op : ops) {
    WALSIM_ASSERT(op.op_id > previous_op, "reduce_ops needs ops in op id order");
    previous_op = op.op_id;
    if (op.kind == OpKind::kMove) continue;  // superseded: a later op of the row follows
    if (op.kind == OpKind::kClear) {
      latest.clear();
      continue;
    }
    latest[{op.table, op.row_id}] = op;
  }
  return latest;
}

// --- OpLogWriter -------------------------------------------------------------

Status OpLogWriter::load() {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db_.prepare("SELECT last_op_id, op_id_reserved FROM replication_state WHERE id = 1"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  if (!row) return Status(ErrorCode::kCorrupt, "the replication state row is missing");
  stored_op_ = stmt->int64(0);
  stored_reserved_ = reserved_ = stmt->int64(1);
  WALSIM_ASSERT(*stored_op_ >= 0, "op ids start at 1");
  WALSIM_ASSERT(!sequence_.reserving || *stored_op_ <= stored_reserved_,
                "every op id handed out was reserved first");
  // A process that lost power may have handed out ids up to the
  // reservation in commits the disk did not keep: skip them all.
  base_op_ = sequence_.reserving && sequence_.resume_past_reservation &&
                     !WALSIM_MUTANT("op_ids_resume_at_last_stored")
                 ? stored_reserved_
                 : *stored_op_;
  base_op_ = std::max(base_op_, sequence_.burned_through);
  return Status::ok();
}

Result<int64_t> OpLogWriter::latest_op() {
  if (last_written_op_) return *last_written_op_;
  if (!stored_op_) WALSIM_RETURN_IF_ERROR(load());
  return base_op_;
}

Status OpLogWriter::reserve_ahead(int64_t ahead) {
  WALSIM_ASSERT(sequence_.durable, "only a durable transaction reserves op ids");
  if (!sequence_.reserving) return Status::ok();
  WALSIM_ASSERT(ahead > 0);
  WALSIM_ASSIGN_OR_RETURN(int64_t latest, latest_op());
  reserved_ = std::max(reserved_, latest + ahead);
  return Status::ok();
}

Result<int64_t> OpLogWriter::append(OpKind kind, const std::string& bucket,
                                    const std::string& table, const std::string& row_id,
                                    const std::optional<std::string>& data,
                                    bool row_was_in_bucket) {
  WALSIM_ASSERT(!finished_, "no op is written after the sequence was stored");
  WALSIM_ASSERT(kind == OpKind::kPut || kind == OpKind::kRemove,
                "writers append PUT and REMOVE; only compaction leaves MOVE and CLEAR");
  WALSIM_ASSERT((kind == OpKind::kPut) == data.has_value(), "a PUT has data, a REMOVE none");
  WALSIM_ASSERT(kind == OpKind::kPut || row_was_in_bucket,
                "a REMOVE names a bucket the row is in");
  WALSIM_ASSIGN_OR_RETURN(int64_t latest, latest_op());
  const int64_t op_id = latest + 1;
  if (sequence_.reserving && op_id > reserved_) {
    needs_reservation_ = true;
    return Status(ErrorCode::kBusy, "op id " + std::to_string(op_id) +
                                        " is past the durable reservation: reserve, then again");
  }
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement insert,
      db_.prepare("INSERT INTO bucket_data (bucket, op_id, op, source_table, row_id, checksum,"
                  " data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  const uint32_t checksum = op_checksum(kind, bucket, table, row_id, data);
  WALSIM_ASSIGN_OR_RETURN(int64_t inserted,
                          insert->bind(1, bucket).bind(2, op_id).bind(3, op_kind_name(kind))
                              .bind(4, table).bind(5, row_id)
                              .bind(6, static_cast<int64_t>(checksum)).bind(7, data).run());
  WALSIM_ASSERT(inserted == 1, "an op id is never reused: the sequence is past every op");
  last_written_op_ = op_id;
  auto delta = totals_.find(bucket);
  if (delta == totals_.end()) delta = totals_.emplace(bucket, TotalsDelta{}).first;
  delta->second.ops++;
  delta->second.rows += kind == OpKind::kRemove ? -1 : (row_was_in_bucket ? 0 : 1);
  delta->second.checksum += checksum;
  delta->second.last_op_id = op_id;
  return op_id;
}

// One upsert per bucket this transaction touched, in bucket order.
Status OpLogWriter::store_totals() {
  if (totals_.empty()) return Status::ok();
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement upsert,
      db_.prepare("INSERT INTO bucket_totals (bucket, op_count, live_rows, checksum, last_op_id)"
                  " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (bucket) DO UPDATE SET"
                  " op_count = op_count + excluded.op_count,"
                  " live_rows = live_rows + excluded.live_rows,"
                  " checksum = (checksum + excluded.checksum) % 4294967296,"
                  " last_op_id = excluded.last_op_id"));
  for (const auto& [bucket, delta] : totals_) {
    WALSIM_ASSERT(delta.ops > 0 && delta.last_op_id > 0, "a bucket touched has ops");
    upsert->reset();
    WALSIM_ASSIGN_OR_RETURN(int64_t stored,
                            upsert->bind(1, bucket).bind(2, delta.ops).bind(3, delta.rows)
                                .bind(4, static_cast<int64_t>(delta.checksum))
                                .bind(5, delta.last_op_id).run());
    WALSIM_ASSERT(stored == 1, "an upsert stores exactly one row");
  }
  return Status::ok();
}

Status OpLogWriter::finish() {
  WALSIM_ASSERT(!finished_, "the sequence is stored once per transaction");
  finished_ = true;
  WALSIM_RETURN_IF_ERROR(store_totals());
  if (!stored_op_) return Status::ok();  // never read, so never moved
  const int64_t last_op = last_written_op_.value_or(base_op_);
  // Persisted op ids only grow: this transaction read the sequence under
  // the write lock and wrote past it.
  WALSIM_ASSERT(last_op >= *stored_op_, "persisted op ids only grow");
  WALSIM_ASSERT(!sequence_.reserving || (last_op <= reserved_ && reserved_ >= stored_reserved_),
                "ids stay within a reservation that only grows");
  if (last_op == *stored_op_ && reserved_ == stored_reserved_) return Status::ok();
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      db_.prepare("UPDATE replication_state SET last_op_id = ?1, op_id_reserved = ?2"
                  " WHERE id = 1"));
  WALSIM_ASSIGN_OR_RETURN(int64_t updated, update->bind(1, last_op).bind(2, reserved_).run());
  WALSIM_ASSERT(updated == 1, "the replication state row exists");
  return Status::ok();
}

// --- reads ---------------------------------------------------------------------

Result<std::vector<StoredOp>> read_bucket_ops(SqliteDb& db, const std::string& bucket,
                                              int64_t after_op, int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT op_id, bucket, op, source_table, row_id, checksum, data FROM bucket_data"
                 " WHERE bucket = ?1 AND op_id > ?2 AND op_id <= ?3 ORDER BY op_id"));
  stmt->bind(1, bucket).bind(2, after_op).bind(3, up_to_op);
  return read_op_rows(*stmt);
}

Result<std::vector<StoredOp>> read_ops(SqliteDb& db, int64_t after_op, int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT op_id, bucket, op, source_table, row_id, checksum, data FROM bucket_data"
                 " WHERE op_id > ?1 AND op_id <= ?2 ORDER BY op_id"));
  stmt->bind(1, after_op).bind(2, up_to_op);
  return read_op_rows(*stmt);
}

Result<std::vector<std::string>> read_buckets(SqliteDb& db, int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT DISTINCT bucket FROM bucket_data WHERE op_id <= ?1 ORDER BY bucket"));
  stmt->bind(1, up_to_op);
  return read_bucket_names(*stmt);
}

Result<std::vector<std::string>> read_changed_buckets(SqliteDb& db, int64_t after_op,
                                                      int64_t up_to_op) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT DISTINCT bucket FROM bucket_data WHERE op_id > ?1 AND op_id <= ?2"
                 " ORDER BY bucket"));
  stmt->bind(1, after_op).bind(2, up_to_op);
  return read_bucket_names(*stmt);
}

Result<uint32_t> read_bucket_checksum(SqliteDb& db, const std::string& bucket,
                                      int64_t up_to_op) {
  // Summed in C++ so the wrap-around is exactly 32-bit.
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT checksum FROM bucket_data WHERE bucket = ?1 AND op_id <= ?2"));
  stmt->bind(1, bucket).bind(2, up_to_op);
  uint32_t sum = 0;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    sum += static_cast<uint32_t>(stmt->int64(0));
  }
  return sum;
}

Result<std::vector<BucketTotals>> read_bucket_totals(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT bucket, op_count, live_rows, checksum, last_op_id FROM bucket_totals"
                 " ORDER BY bucket"));
  std::vector<BucketTotals> totals;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    totals.push_back({stmt->text(0), stmt->int64(1), stmt->int64(2),
                      static_cast<uint32_t>(stmt->int64(3)), stmt->int64(4)});
    WALSIM_ASSERT(totals.back().rows >= 0 && totals.back().rows <= totals.back().ops,
                  "a bucket holds at most one row per op");
  }
  return totals;
}

Result<std::optional<std::map<std::string, OpsAfter>>> read_ops_after(SqliteDb& db,
                                                                      int64_t after_op,
                                                                      int64_t limit) {
  WALSIM_ASSERT(limit > 0);
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT bucket, checksum FROM bucket_data WHERE op_id > ?1 ORDER BY op_id"
                 " LIMIT ?2"));
  stmt->bind(1, after_op).bind(2, limit + 1);
  std::map<std::string, OpsAfter> after;
  int64_t read = 0;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    if (++read > limit) return std::optional<std::map<std::string, OpsAfter>>();
    OpsAfter& sums = after[stmt->text(0)];
    sums.ops++;
    sums.checksum += static_cast<uint32_t>(stmt->int64(1));
  }
  return std::optional<std::map<std::string, OpsAfter>>(std::move(after));
}

}  // namespace walsim
