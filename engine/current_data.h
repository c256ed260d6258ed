// Current data: the current_data table (DDL in engine/storage_schema.cc).
//
// The store's copy of every source row it knows, per (table, row id): the
// full row (what an unchanged-TOAST value is merged from), the buckets the
// row is in (what its REMOVE ops name), whether a table copy wrote its
// values, whether a value is still unknown (an incomplete row, which blocks
// checkpoints), and its tombstone (pending_delete, the op id of its delete;
// NULL while the row is live). This file holds every statement against the
// table; the rules for using them are the row applier's (row_applier.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/relation.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

// A row as current_data holds it.
struct CurrentRow {
  Row data;
  std::vector<std::string> buckets;  // empty for a tombstone
  bool tombstoned = false;
  bool copied = false;  // values came from a table copy, not the stream
};

// What a write or delete needs of a stored row when no value is to be
// merged: its buckets and tombstone, without decoding its values.
struct CurrentPlacement {
  std::vector<std::string> buckets;  // empty for a tombstone
  bool tombstoned = false;
};

// A live row's id and buckets, for REMOVE ops.
struct LiveRowBuckets {
  std::string row_id;
  std::vector<std::string> buckets;
};

// --- reads ---------------------------------------------------------------------

Result<std::optional<CurrentRow>> read_current_row(SqliteDb& db, const std::string& table,
                                                   const std::string& row_id);
Result<std::optional<CurrentPlacement>> read_current_placement(SqliteDb& db,
                                                               const std::string& table,
                                                               const std::string& row_id);
// Every live (not tombstoned) row of `table`, in row id order.
Result<std::vector<LiveRowBuckets>> read_live_rows(SqliteDb& db, const std::string& table);
Result<int64_t> count_live_rows(SqliteDb& db, const std::string& table);
// Whether a live row has a value the store has not seen (an unchanged-TOAST
// value with nothing to merge from).
Result<bool> any_incomplete_rows(SqliteDb& db);
// Up to `limit` keys of one table's incomplete rows (the first table in name
// order that has any).
Result<std::pair<std::string, std::vector<Row>>> read_incomplete_rows(SqliteDb& db,
                                                                      size_t limit);

// --- writes, inside a transaction ------------------------------------------------

// Stores `row` as live in `buckets`, clearing any tombstone; marks it
// incomplete when it holds an unchanged-TOAST value.
Status store_live_row(StoreTransaction& txn, const std::string& table, const std::string& row_id,
                      const Row& row, const std::vector<std::string>& buckets, bool copied);
// Stores a copied row unless the key is known (live or tombstoned); returns
// whether it was stored. `read_after_op`: the newest op id committed when
// the row was read, if known (for the rare-path catalog only).
Result<bool> store_copied_row_if_new(StoreTransaction& txn, const std::string& table,
                                     const std::string& row_id, const Row& row,
                                     const std::vector<std::string>& buckets,
                                     std::optional<int64_t> read_after_op = std::nullopt);
// A tombstone at `op` for a key the store holds no row for.
Status store_tombstone(StoreTransaction& txn, const std::string& table,
                       const std::string& row_id, int64_t op);
// Turns stored rows into tombstones at `op` (they leave every bucket).
Status tombstone_rows(StoreTransaction& txn, const std::string& table,
                      const std::vector<std::string>& row_ids, int64_t op);
// Forgets rows entirely (the unsafe canary mode's "delete").
Status erase_rows(StoreTransaction& txn, const std::string& table,
                  const std::vector<std::string>& row_ids);
// Forgets every row of `table`, tombstones too.
Status erase_table_rows(StoreTransaction& txn, const std::string& table);
// Hard-deletes the tombstones with pending_delete <= `checkpoint`.
Status purge_tombstones(StoreTransaction& txn, int64_t checkpoint);

}  // namespace walsim
