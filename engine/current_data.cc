#include "engine/current_data.h"

#include <algorithm>

#include "engine/mutant.h"
#include "engine/probe.h"
#include "engine/row_codec.h"

namespace walsim {

namespace {

// Bucket ids never contain a raw newline (rules JSON-escape parameter
// values), so '\n' joins them unambiguously.
std::string join_buckets(const std::vector<std::string>& buckets) {
  std::string joined;
  for (const std::string& bucket : buckets) {
    WALSIM_ASSERT(!bucket.empty() && bucket.find('\n') == std::string::npos,
                  "bucket ids are JSON-escaped and never empty");
    if (!joined.empty()) joined.push_back('\n');
    joined += bucket;
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

bool has_unknown_values(const Row& row) {
  return std::any_of(row.begin(), row.end(),
                     [](const Value& value) { return value.is_unchanged_toast(); });
}

}  // namespace

// --- reads ---------------------------------------------------------------------

Result<std::optional<CurrentRow>> read_current_row(SqliteDb& db, const std::string& table,
                                                   const std::string& row_id) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT data, buckets, pending_delete, copied FROM"
                                     " current_data WHERE source_table = ?1 AND row_id = ?2"));
  WALSIM_ASSIGN_OR_RETURN(bool found, stmt->bind(1, table).bind(2, row_id).step());
  if (!found) return std::optional<CurrentRow>();
  WALSIM_ASSIGN_OR_RETURN(Row data, decode_row(stmt->text(0)));
  CurrentRow row{std::move(data), split_buckets(stmt->text(1)), !stmt->is_null(2),
                 stmt->int64(3) != 0};
  WALSIM_ASSERT(!row.tombstoned || row.buckets.empty(), "a tombstone is in no bucket");
  return std::optional<CurrentRow>(std::move(row));
}

Result<std::optional<CurrentPlacement>> read_current_placement(SqliteDb& db,
                                                               const std::string& table,
                                                               const std::string& row_id) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT buckets, pending_delete FROM current_data"
                                     " WHERE source_table = ?1 AND row_id = ?2"));
  WALSIM_ASSIGN_OR_RETURN(bool found, stmt->bind(1, table).bind(2, row_id).step());
  if (!found) return std::optional<CurrentPlacement>();
  CurrentPlacement placement{split_buckets(stmt->text(0)), !stmt->is_null(1)};
  WALSIM_ASSERT(!placement.tombstoned || placement.buckets.empty(), "a tombstone is in no bucket");
  return std::optional<CurrentPlacement>(std::move(placement));
}

Result<std::vector<LiveRowBuckets>> read_live_rows(SqliteDb& db, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT row_id, buckets FROM current_data"
                                     " WHERE source_table = ?1 AND pending_delete IS NULL"
                                     " ORDER BY row_id"));
  stmt->bind(1, table);
  std::vector<LiveRowBuckets> live;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    live.push_back({stmt->text(0), split_buckets(stmt->text(1))});
  }
  return live;
}

Result<int64_t> count_live_rows(SqliteDb& db, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT count(*) FROM current_data"
                                     " WHERE source_table = ?1 AND pending_delete IS NULL"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->bind(1, table).step());
  WALSIM_ASSERT(row, "count(*) returns one row");
  return stmt->int64(0);
}

Result<bool> any_incomplete_rows(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT EXISTS (SELECT 1 FROM current_data"
                                     " WHERE incomplete = 1 AND pending_delete IS NULL)"));
  WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
  WALSIM_ASSERT(row, "EXISTS returns one row");
  return stmt->int64(0) != 0;
}

Result<std::pair<std::string, std::vector<Row>>> read_incomplete_rows(SqliteDb& db,
                                                                      size_t limit) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db.prepare("SELECT source_table, row_id FROM current_data"
                 " WHERE incomplete = 1 AND pending_delete IS NULL ORDER BY source_table"
                 " LIMIT ?1"));
  stmt->bind(1, static_cast<int64_t>(limit));
  std::pair<std::string, std::vector<Row>> result;
  while (true) {
    WALSIM_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) break;
    std::string table = stmt->text(0);
    if (!result.second.empty() && table != result.first) break;
    WALSIM_ASSIGN_OR_RETURN(Row key, decode_row(stmt->text(1)));
    result.first = table;
    result.second.push_back(std::move(key));
  }
  return result;
}

// --- writes ----------------------------------------------------------------------

Status store_live_row(StoreTransaction& txn, const std::string& table, const std::string& row_id,
                      const Row& row, const std::vector<std::string>& buckets, bool copied) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement upsert,
      txn.db().prepare(
          "INSERT INTO current_data"
          " (source_table, row_id, data, buckets, pending_delete, copied, incomplete)"
          " VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6) ON CONFLICT (source_table, row_id) DO UPDATE"
          " SET data = excluded.data, buckets = excluded.buckets, pending_delete = NULL,"
          " copied = excluded.copied, incomplete = excluded.incomplete"));
  std::optional<int64_t> incomplete;
  if (has_unknown_values(row)) incomplete = 1;
  WALSIM_ASSIGN_OR_RETURN(int64_t stored,
                          upsert->bind(1, table).bind(2, row_id).bind(3, encode_row(row))
                              .bind(4, join_buckets(buckets)).bind(5, int64_t{copied})
                              .bind(6, incomplete).run());
  WALSIM_ASSERT(stored == 1, "an upsert stores exactly one row");
  return Status::ok();
}

namespace {

// The op id of the key's tombstone; nullopt for a live row or none.
Result<std::optional<int64_t>> read_tombstone_op(SqliteDb& db, const std::string& table,
                                                 const std::string& row_id) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db.prepare("SELECT pending_delete FROM current_data"
                                     " WHERE source_table = ?1 AND row_id = ?2"));
  WALSIM_ASSIGN_OR_RETURN(bool found, stmt->bind(1, table).bind(2, row_id).step());
  if (!found || stmt->is_null(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt->int64(0));
}

}  // namespace

Result<bool> store_copied_row_if_new(StoreTransaction& txn, const std::string& table,
                                     const std::string& row_id, const Row& row,
                                     const std::vector<std::string>& buckets,
                                     std::optional<int64_t> read_after_op) {
  WALSIM_ASSERT(!has_unknown_values(row), "a table copy has every value");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement insert,
      txn.db().prepare(
          WALSIM_MUTANT("copy_overwrites_tombstone")
              ? "INSERT INTO current_data (source_table, row_id, data, buckets, pending_delete,"
                " copied) VALUES (?1, ?2, ?3, ?4, NULL, 1) ON CONFLICT (source_table, row_id)"
                " DO UPDATE SET data = excluded.data, buckets = excluded.buckets,"
                " pending_delete = NULL, copied = 1 WHERE current_data.pending_delete IS NOT NULL"
              : "INSERT INTO current_data (source_table, row_id, data, buckets, pending_delete,"
                " copied) VALUES (?1, ?2, ?3, ?4, NULL, 1)"
                " ON CONFLICT (source_table, row_id) DO NOTHING"));
  WALSIM_ASSIGN_OR_RETURN(int64_t inserted,
                          insert->bind(1, table).bind(2, row_id).bind(3, encode_row(row))
                              .bind(4, join_buckets(buckets)).run());
  WALSIM_ASSERT(inserted == 0 || inserted == 1);
  if (inserted == 0 && !WALSIM_MUTANT("copy_overwrites_tombstone")) {
    // Which rule kept the row out: counted for the rare-path catalog only.
    WALSIM_ASSIGN_OR_RETURN(std::optional<int64_t> tombstone_op,
                            read_tombstone_op(txn.db(), table, row_id));
    if (tombstone_op) WALSIM_PROBE("copy_row_skipped_for_tombstone");
    // The tombstone is newer than every op committed when the row was
    // read: the stream's delete landed between the copy's read and write.
    if (tombstone_op && read_after_op && *tombstone_op > *read_after_op) {
      WALSIM_PROBE("streamed_delete_between_copy_read_and_write");
    }
  }
  return inserted == 1;
}

Status store_tombstone(StoreTransaction& txn, const std::string& table,
                       const std::string& row_id, int64_t op) {
  WALSIM_ASSERT(!txn.options().unsafe_hard_deletes, "the canary mode leaves no tombstones");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement insert,
      txn.db().prepare("INSERT INTO current_data (source_table, row_id, data, buckets,"
                       " pending_delete) VALUES (?1, ?2, '[]', '', ?3)"));
  WALSIM_ASSIGN_OR_RETURN(int64_t inserted,
                          insert->bind(1, table).bind(2, row_id).bind(3, op).run());
  WALSIM_ASSERT(inserted == 1, "a tombstone for an unknown key is a new row");
  return Status::ok();
}

Status tombstone_rows(StoreTransaction& txn, const std::string& table,
                      const std::vector<std::string>& row_ids, int64_t op) {
  WALSIM_ASSERT(!txn.options().unsafe_hard_deletes, "the canary mode leaves no tombstones");
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement update,
      txn.db().prepare("UPDATE current_data SET pending_delete = ?3, buckets = ''"
                       " WHERE source_table = ?1 AND row_id = ?2"));
  for (const std::string& row_id : row_ids) {
    update->reset();
    WALSIM_ASSIGN_OR_RETURN(int64_t updated,
                            update->bind(1, table).bind(2, row_id).bind(3, op).run());
    WALSIM_ASSERT(updated == 1, "only a stored row becomes a tombstone");
  }
  return Status::ok();
}

Status erase_rows(StoreTransaction& txn, const std::string& table,
                  const std::vector<std::string>& row_ids) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement erase,
      txn.db().prepare("DELETE FROM current_data WHERE source_table = ?1 AND row_id = ?2"));
  for (const std::string& row_id : row_ids) {
    erase->reset();
    WALSIM_RETURN_IF_ERROR(erase->bind(1, table).bind(2, row_id).run());
  }
  return Status::ok();
}

Status erase_table_rows(StoreTransaction& txn, const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(ScopedStatement erase,
                          txn.db().prepare("DELETE FROM current_data WHERE source_table = ?1"));
  return erase->bind(1, table).run().status();
}

Status purge_tombstones(StoreTransaction& txn, int64_t checkpoint) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement erase,
      txn.db().prepare("DELETE FROM current_data"
                       " WHERE pending_delete IS NOT NULL AND pending_delete <= ?1"));
  return erase->bind(1, checkpoint).run().status();
}

}  // namespace walsim
