#include "engine/row_applier.h"

#include <algorithm>

#include "engine/checkpoint_rules.h"
#include "engine/mutant.h"
#include "engine/op_log.h"
#include "engine/probe.h"
#include "engine/source_tables.h"

namespace walsim {

namespace {

bool has_unknown_values(const Row& row) {
  return std::any_of(row.begin(), row.end(),
                     [](const Value& value) { return value.is_unchanged_toast(); });
}

// Unchanged-TOAST values in `row` take the value `known` has there, when it
// has one. Without one (the update is the first the store sees of the row)
// they stay unknown until a fill reads them from the source.
void fill_unknown_values(Row& row, const Row& known) {
  for (size_t i = 0; i < row.size() && i < known.size(); i++) {
    if (row[i].is_unchanged_toast() && !known[i].is_null() && !known[i].is_unchanged_toast()) {
      row[i] = known[i];
    }
  }
}

std::vector<std::string> bucket_ids(const std::vector<BucketRow>& placed) {
  std::vector<std::string> ids;
  for (const BucketRow& row : placed) ids.push_back(row.bucket);
  return ids;
}

bool contains(const std::vector<std::string>& buckets, const std::string& bucket) {
  return std::find(buckets.begin(), buckets.end(), bucket) != buckets.end();
}

// `in_buckets`: the buckets the row is in before these PUTs.
Status write_puts(StoreTransaction& txn, const std::vector<BucketRow>& placed,
                  const std::string& table, const std::string& row_id,
                  const std::vector<std::string>& in_buckets) {
  for (const BucketRow& p : placed) {
    WALSIM_RETURN_IF_ERROR(txn.op_log().append(OpKind::kPut, p.bucket, table, row_id, p.data_json,
                                               contains(in_buckets, p.bucket)));
  }
  return Status::ok();
}

}  // namespace

Result<const TableRules*> TableRulesCache::get(const Relation& relation) {
  auto found = resolved_.find(&relation);
  if (found != resolved_.end()) return &found->second;
  WALSIM_ASSIGN_OR_RETURN(TableRules rules, rules_.for_table(relation));
  return &resolved_.emplace(&relation, std::move(rules)).first->second;
}

Status RowApplier::apply(const RowChange& change) {
  WALSIM_ASSERT(change.relation != nullptr);
  switch (change.type) {
    case RowChange::Type::kInsert:
    case RowChange::Type::kUpdate: return apply_write(change);
    case RowChange::Type::kDelete:
      return delete_row(*change.relation, row_id_of(change.relation->key_of(change.row)));
    case RowChange::Type::kTruncate: return truncate(*change.relation);
    case RowChange::Type::kCopy: return copy(*change.relation, change.row);
    case RowChange::Type::kFill: return fill(*change.relation, change.row);
  }
  WALSIM_ASSERT(false, "every change type is handled above");
  return Status::ok();
}

// Where an unchanged-TOAST value comes from:
//  * the same key: the stored row, whoever wrote it; anything that changed
//    the value since reaches this key through the stream later.
//  * a key change: the live row already under the new key (only a copy
//    that read the source after this update can have put it there), else
//    the old key's row if the stream wrote it (a copied old-key row may be
//    a later row that re-used the key).
// A value none of these give stays unknown; the row is then incomplete,
// blocks checkpoints, and a snapshot worker reads it from the source.
Status RowApplier::apply_write(const RowChange& change) {
  const Relation& relation = *change.relation;
  Row merged = change.row;
  std::optional<std::string> old_id;
  if (change.old_key) {
    // An 'O' tuple (REPLICA IDENTITY FULL) carries the old values itself.
    fill_unknown_values(merged, *change.old_key);
    old_id = row_id_of(relation.key_of(*change.old_key));
  }
  const std::string row_id = row_id_of(relation.key_of(merged));
  const bool key_changed = old_id && *old_id != row_id;
  bool copied = false;
  if (has_unknown_values(merged)) {
    auto filled = key_changed ? fill_after_key_change(relation, *old_id, row_id, merged)
                              : fill_from(relation, row_id, merged, Trust::kAnyRow);
    WALSIM_ASSIGN_OR_RETURN(copied, std::move(filled));
  }
  if (key_changed) WALSIM_RETURN_IF_ERROR(delete_row(relation, *old_id));
  // Only the row's buckets and tombstone: its stored values are not decoded.
  WALSIM_ASSIGN_OR_RETURN(auto current, read_current_placement(txn_.db(), relation.name, row_id));
  return put_row(relation, row_id, merged, current, copied);
}

Result<bool> RowApplier::fill_after_key_change(const Relation& relation,
                                               const std::string& old_id,
                                               const std::string& new_id, Row& row) {
  const Trust new_row_trust =
      WALSIM_MUTANT("toast_key_change_trusts_any_new_key_row") ? Trust::kAnyRow : Trust::kLiveRow;
  WALSIM_ASSIGN_OR_RETURN(bool copied, fill_from(relation, new_id, row, new_row_trust));
  if (!has_unknown_values(row)) return copied;
  WALSIM_ASSIGN_OR_RETURN(bool from_old, fill_from(relation, old_id, row, Trust::kLiveStreamRow));
  return copied || from_old;
}

// Fills unknown values of `row` from the stored row `row_id` when it is one
// `trust` accepts. Returns whether a value came from a copied row.
Result<bool> RowApplier::fill_from(const Relation& relation, const std::string& row_id, Row& row,
                                   Trust trust) {
  WALSIM_ASSIGN_OR_RETURN(auto stored, read_current_row(txn_.db(), relation.name, row_id));
  if (!stored) return false;
  const CurrentRow& known = *stored;
  if (trust != Trust::kAnyRow && known.tombstoned) return false;
  if (trust == Trust::kLiveStreamRow && known.copied) return false;
  const Row before = row;
  fill_unknown_values(row, known.data);
  return known.copied && row != before;
}

// Writes REMOVE for buckets the row leaves and PUT for each bucket it is
// in, then stores the row as live.
Status RowApplier::put_row(const Relation& relation, const std::string& row_id, const Row& row,
                           const std::optional<CurrentPlacement>& current, bool copied) {
  WALSIM_ASSIGN_OR_RETURN(const TableRules* rules, rules_.get(relation));
  const std::vector<BucketRow> placed = rules->evaluate(row);
  static const std::vector<std::string> kNoBuckets;
  const std::vector<std::string>& in_buckets =
      current && !current->tombstoned ? current->buckets : kNoBuckets;
  for (const std::string& bucket : in_buckets) {
    const bool stays = std::any_of(placed.begin(), placed.end(),
                                   [&](const BucketRow& p) { return p.bucket == bucket; });
    if (!stays && !WALSIM_MUTANT("bucket_move_keeps_old_bucket")) {
      WALSIM_RETURN_IF_ERROR(txn_.op_log().append(OpKind::kRemove, bucket, relation.name, row_id,
                                                  std::nullopt, /*row_was_in_bucket=*/true));
    }
  }
  WALSIM_RETURN_IF_ERROR(write_puts(txn_, placed, relation.name, row_id, in_buckets));
  return store_live_row(txn_, relation.name, row_id, row, bucket_ids(placed), copied);
}

// A delete always leaves a tombstone, even for a key the store has not
// seen: a table copy may have read the row before the delete and write it
// after, and the tombstone is what makes that late copy lose. A row that is
// already a tombstone writes nothing, so a re-applied delete is harmless.
Status RowApplier::delete_row(const Relation& relation, const std::string& row_id) {
  WALSIM_ASSIGN_OR_RETURN(auto current, read_current_placement(txn_.db(), relation.name, row_id));
  if (current && current->tombstoned) return Status::ok();
  if (!current) {
    if (txn_.options().unsafe_hard_deletes) return Status::ok();
    if (WALSIM_MUTANT("delete_of_unseen_key_leaves_no_tombstone")) return Status::ok();
    WALSIM_ASSIGN_OR_RETURN(int64_t tombstone_op, txn_.op_log().latest_op());
    return store_tombstone(txn_, relation.name, row_id, tombstone_op);
  }
  for (const std::string& bucket : current->buckets) {
    WALSIM_RETURN_IF_ERROR(txn_.op_log().append(OpKind::kRemove, bucket, relation.name, row_id,
                                                std::nullopt, /*row_was_in_bucket=*/true));
  }
  return bury(relation.name, {row_id});
}

// A truncate REMOVEs the live rows and buries them. Rows a running copy
// read before the truncate have no key here to bury, so a table still
// being copied starts its copy again: every read of the new copy happens
// after the truncate.
Status RowApplier::truncate(const Relation& relation) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> removed,
                          remove_live_rows(txn_, relation.name));
  WALSIM_RETURN_IF_ERROR(bury(relation.name, removed));
  WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn_.db(), relation.name));
  if (state && !state->snapshot_done && !WALSIM_MUTANT("truncate_leaves_copy_running")) {
    WALSIM_PROBE("truncate_restarted_copy");
    WALSIM_RETURN_IF_ERROR(require_copy(txn_, relation.name));
  }
  return Status::ok();
}

// Leaves tombstones (pending_delete = the latest op id) so that a copy of
// these rows read before the delete is ignored when it arrives later. The
// unsafe canary mode forgets the rows at once instead.
Status RowApplier::bury(const std::string& table, const std::vector<std::string>& row_ids) {
  if (txn_.options().unsafe_hard_deletes) return erase_rows(txn_, table, row_ids);
  WALSIM_ASSIGN_OR_RETURN(int64_t tombstone_op, txn_.op_log().latest_op());
  return tombstone_rows(txn_, table, row_ids, tombstone_op);
}

// A copied row is written only for a key the store does not know: the
// stream's version (or tombstone) is newer than any copy. That holds for
// incomplete rows too: a chunk read before the update that left a value
// unknown may hold an older row's value, so only fill() completes them.
Status RowApplier::copy(const Relation& relation, const Row& row) {
  WALSIM_ASSIGN_OR_RETURN(const TableRules* rules, rules_.get(relation));
  const std::string row_id = row_id_of(relation.key_of(row));
  const std::vector<BucketRow> placed = rules->evaluate(row);
  WALSIM_ASSIGN_OR_RETURN(bool stored,
                          store_copied_row_if_new(txn_, relation.name, row_id, row,
                                                  bucket_ids(placed), copy_read_after_op_));
  if (!stored) {
    WALSIM_PROBE("copy_row_skipped");
    return Status::ok();
  }
  rows_copied_++;
  return write_puts(txn_, placed, relation.name, row_id, /*in_buckets=*/{});
}

// Completes an incomplete row with values read from the source after the
// update that left them unknown (the worker reads after it saw the row).
Status RowApplier::fill(const Relation& relation, const Row& copied) {
  const std::string row_id = row_id_of(relation.key_of(copied));
  WALSIM_ASSIGN_OR_RETURN(auto current, read_current_row(txn_.db(), relation.name, row_id));
  if (!current || current->tombstoned || !has_unknown_values(current->data)) {
    return Status::ok();
  }
  Row filled = current->data;
  fill_unknown_values(filled, copied);
  WALSIM_PROBE("toast_value_filled_from_source");
  return put_row(relation, row_id, filled, CurrentPlacement{current->buckets, false},
                 /*copied=*/true);
}

Result<std::vector<std::string>> remove_live_rows(StoreTransaction& txn,
                                                  const std::string& table) {
  // Read in full before any op is written.
  WALSIM_ASSIGN_OR_RETURN(std::vector<LiveRowBuckets> live, read_live_rows(txn.db(), table));
  std::vector<std::string> removed;
  for (const LiveRowBuckets& row : live) {
    for (const std::string& bucket : row.buckets) {
      WALSIM_RETURN_IF_ERROR(txn.op_log().append(OpKind::kRemove, bucket, table, row.row_id,
                                                 std::nullopt, /*row_was_in_bucket=*/true));
    }
    removed.push_back(row.row_id);
  }
  return removed;
}

Status remove_table_rows(StoreTransaction& txn, const std::string& table) {
  const std::optional<int64_t> before = txn.op_log().last_written_op();
  WALSIM_RETURN_IF_ERROR(remove_live_rows(txn, table));
  const std::optional<int64_t> after = txn.op_log().last_written_op();
  if (after != before && !WALSIM_MUTANT("removed_rows_miss_keepalive_op")) {
    WALSIM_RETURN_IF_ERROR(raise_keepalive_op(txn, *after));
  }
  return erase_table_rows(txn, table);
}

}  // namespace walsim
