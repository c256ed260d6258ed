// RowApplier: how one source change becomes ops and current data, inside
// one write transaction (store_transaction.h).
//
// The rules it applies (docs/design.md, "The rules, exactly"):
//   * a copied row is written only for a key the store does not know, live
//     or tombstoned: the stream's version is newer;
//   * a delete leaves a tombstone, even for a key the store has not seen,
//     so a copy that read the row before the delete loses when it writes;
//     a later write of the key clears it;
//   * a truncate REMOVEs every live row, tombstones them, skips tombstones,
//     and restarts a copy of the table in progress;
//   * an unchanged-TOAST value is merged from the stored row; one with
//     nothing to merge from stays unknown, and the row is incomplete until
//     a fill (a read of that row from the source) completes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/current_data.h"
#include "engine/relation.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

// One buffered source change.
struct RowChange {
  enum class Type { kInsert, kUpdate, kDelete, kTruncate, kCopy, kFill };
  Type type;
  const Relation* relation;  // outlives the change (a batch keeps a copy)
  Row row;                   // new row, or the old key for deletes
  std::optional<Row> old_key;  // updates: set when the key changed ('K') or 'O'
};

// The rules resolved per relation (a name lookup per column, so once per
// relation). Keyed by the relation's address: it must stay alive.
class TableRulesCache {
 public:
  explicit TableRulesCache(const BucketRules& rules) : rules_(rules) {}
  Result<const TableRules*> get(const Relation& relation);
  void clear() { resolved_.clear(); }

 private:
  const BucketRules& rules_;
  std::map<const Relation*, TableRules> resolved_;
};

class RowApplier {
 public:
  // `copy_read_after_op`: for copied rows, the newest op id committed when
  // they were read, if known (write_batch.h); only the rare-path catalog
  // reads it.
  RowApplier(StoreTransaction& txn, TableRulesCache& rules,
             std::optional<int64_t> copy_read_after_op = std::nullopt)
      : txn_(txn), rules_(rules), copy_read_after_op_(copy_read_after_op) {}

  Status apply(const RowChange& change);
  // Copied rows stored so far (keys the store did not know).
  int64_t rows_copied() const { return rows_copied_; }

 private:
  enum class Trust { kAnyRow, kLiveRow, kLiveStreamRow };

  Status apply_write(const RowChange& change);
  Result<bool> fill_after_key_change(const Relation& relation, const std::string& old_id,
                                     const std::string& new_id, Row& row);
  Result<bool> fill_from(const Relation& relation, const std::string& row_id, Row& row,
                         Trust trust);
  Status put_row(const Relation& relation, const std::string& row_id, const Row& row,
                 const std::optional<CurrentPlacement>& current, bool copied);
  Status delete_row(const Relation& relation, const std::string& row_id);
  Status truncate(const Relation& relation);
  Status bury(const std::string& table, const std::vector<std::string>& row_ids);
  Status copy(const Relation& relation, const Row& row);
  Status fill(const Relation& relation, const Row& copied);

  StoreTransaction& txn_;
  TableRulesCache& rules_;
  const std::optional<int64_t> copy_read_after_op_;
  int64_t rows_copied_ = 0;
};

// REMOVE for every live row of `table` (tombstones stay as they are);
// returns the row ids removed.
Result<std::vector<std::string>> remove_live_rows(StoreTransaction& txn, const std::string& table);

// For a table that must be copied afresh (re-created, a new identity or
// columns, a new replication state): REMOVE ops for its live rows, carried
// in keepalive_op so they reach the next checkpoint even if nothing else is
// ever written, and every row forgotten, tombstones too, so the new copy
// writes every key afresh.
Status remove_table_rows(StoreTransaction& txn, const std::string& table);

}  // namespace walsim
