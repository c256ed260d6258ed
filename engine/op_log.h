// The op log: the bucket_data table (DDL in engine/storage_schema.cc).
//
// Every change to a bucket is an op, PUT (the row's data in that bucket) or
// REMOVE, with a global op id that only grows. A client downloads a
// bucket's ops up to a published checkpoint and reduces them, latest op per
// row, to the bucket's rows. This file owns the op id sequence
// (replication_state.last_op_id), writing ops, their checksum, the row ids
// they name, and every read of the log. Compaction (engine/compactor.h)
// rewrites history at or below a bound: MOVE and CLEAR ops are written only
// there, never appended here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/relation.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

// PUT and REMOVE are what writers append. MOVE and CLEAR are what
// compaction leaves (engine/compactor.h, docs/design.md "Compaction"): a
// MOVE is a PUT or REMOVE that a later op of the same row superseded (same
// op id and checksum, no data: a client only adds its checksum); a CLEAR
// stands for a run of MOVE/REMOVE ops at the start of a bucket (op id of
// the last, checksum their sum, no table or row: a client drops every row
// of the bucket and takes its checksum as the bucket's).
enum class OpKind : uint8_t { kPut, kRemove, kMove, kClear };

// "PUT", "REMOVE", "MOVE" or "CLEAR", as stored.
const char* op_kind_name(OpKind kind);

struct StoredOp {
  int64_t op_id = 0;
  std::string bucket;
  OpKind kind = OpKind::kPut;
  std::string table;   // "" for a CLEAR
  std::string row_id;  // JSON array of the replica identity values; "" for a CLEAR
  uint32_t checksum = 0;
  std::optional<std::string> data;  // PUT only: the bucket's data JSON
  bool operator==(const StoredOp&) const = default;
};

// Checksum of one op: FNV-1a over its identity and data, so a client can
// verify a bucket by adding op checksums (wrapping 32-bit).
uint32_t op_checksum(OpKind kind, const std::string& bucket,
                     const std::string& table, const std::string& row_id,
                     const std::optional<std::string>& data);

// The row id stored for a key: a JSON array of the key values.
std::string row_id_of(const Row& key);

// Latest op per (table, row id) of one bucket: the bucket's rows when the
// op is a PUT. Ops must be in op id order. A MOVE changes nothing; a CLEAR
// drops every row before it (so the result never holds either).
std::map<std::pair<std::string, std::string>, StoredOp> reduce_ops(
    const std::vector<StoredOp>& ops);

// Appends ops inside one write transaction (see store_transaction.h, which
// makes one per transaction). The sequence is read from
// replication_state.last_op_id once, on first use, and written back by
// finish() before COMMIT; the write lock the transaction holds makes it safe
// between writers. A rolled-back transaction leaves the stored sequence as
// it was, so its op ids are handed out again: no one has seen them.
//
// A power loss may also roll back committed transactions, whose op ids
// readers may have seen. So op ids are handed out only from a reserved
// range, replication_state.op_id_reserved, which only durable transactions
// (Durability::kSurvivesPowerLoss) raise, and an id is used only once a
// reservation covering it has committed durably, in an earlier transaction
// (in the same one, an ambiguous commit could leave the ids visible to the
// next process and the reservation not durable). A process starts its
// sequence past the reservation it finds (Sequence::resume_past_reservation),
// skipping every id a process that lost power may have handed out. An
// append past the reservation fails the transaction with
// needs_reservation() set: the writer then reserves more in a durable
// transaction of its own and runs the first one again.
class OpLogWriter {
 public:
  struct Sequence {
    bool resume_past_reservation = false;  // the first transaction of a process
    bool durable = false;                  // this transaction survives a power loss
    // false: no reservation; ids follow the stored sequence (a store no
    // power loss can reach, such as ":memory:" in tests).
    bool reserving = true;
    // Ids up to here were used by a transaction whose COMMIT failed: it may
    // still come back (an ambiguous commit, recovered after a crash or made
    // durable by a later sync of the -wal and recovered after a power
    // loss), so its ids are never handed out again.
    int64_t burned_through = 0;
  };
  OpLogWriter(SqliteDb& db, Sequence sequence) : db_(db), sequence_(sequence) {}

  // Writes one op with the next op id; returns that id. `row_was_in_bucket`:
  // the row is in `bucket` before this op (a REMOVE always is; a PUT is
  // either a new row of the bucket or new data for one it holds), which is
  // how the bucket's row count in bucket_totals moves.
  Result<int64_t> append(OpKind kind, const std::string& bucket, const std::string& table,
                         const std::string& row_id, const std::optional<std::string>& data,
                         bool row_was_in_bucket);
  // The newest op id in the store, this transaction's included (0 when the
  // log is empty). A tombstone takes it as its op id.
  Result<int64_t> latest_op();
  // The last op id this transaction wrote; nullopt when it wrote none.
  std::optional<int64_t> last_written_op() const { return last_written_op_; }
  // In a durable transaction: reserves the `ahead` ids after the newest,
  // for the transactions after this one.
  Status reserve_ahead(int64_t ahead);
  // An append needed an id past the reservation: reserve more (durably, in
  // another transaction), then run this one again.
  bool needs_reservation() const { return needs_reservation_; }
  // Whether this transaction read the sequence (and, once committed, stored
  // where it resumed).
  bool loaded() const { return stored_op_.has_value(); }
  // Ids still reserved after this transaction's ops (once loaded()).
  int64_t headroom() const { return reserved_ - last_written_op_.value_or(base_op_); }
  // Stores the sequence and the reservation if this transaction moved
  // either, and adds this transaction's ops to bucket_totals, one upsert
  // per bucket it touched. Call once, last.
  Status finish();

 private:
  // What this transaction's ops add to one bucket's totals.
  struct TotalsDelta {
    int64_t ops = 0;
    int64_t rows = 0;
    uint32_t checksum = 0;  // wrapping, as clients add
    int64_t last_op_id = 0;
  };

  Status load();
  Status store_totals();

  SqliteDb& db_;
  Sequence sequence_;
  std::optional<int64_t> stored_op_;  // last_op_id as read, once read
  int64_t stored_reserved_ = 0;       // op_id_reserved as read
  int64_t base_op_ = 0;               // where this transaction's ids continue from
  int64_t reserved_ = 0;              // op_id_reserved as this transaction leaves it
  std::optional<int64_t> last_written_op_;
  bool needs_reservation_ = false;
  bool finished_ = false;
  // Per bucket touched; std::less<> finds a bucket without copying its name.
  std::map<std::string, TotalsDelta, std::less<>> totals_;
};

// --- reads, outside or inside a transaction --------------------------------

// Ops of `bucket` with after_op < op_id <= up_to_op, in op id order.
Result<std::vector<StoredOp>> read_bucket_ops(SqliteDb& db, const std::string& bucket,
                                              int64_t after_op, int64_t up_to_op);
// Ops of every bucket with after_op < op_id <= up_to_op, in op id order.
Result<std::vector<StoredOp>> read_ops(SqliteDb& db, int64_t after_op, int64_t up_to_op);
// Every bucket that has an op <= up_to_op, sorted.
Result<std::vector<std::string>> read_buckets(SqliteDb& db, int64_t up_to_op);
// Every bucket that has an op in (after_op, up_to_op], sorted: a range read
// on the op id, not a scan of the log.
Result<std::vector<std::string>> read_changed_buckets(SqliteDb& db, int64_t after_op,
                                                      int64_t up_to_op);
// Sum of the op checksums of `bucket` up to `up_to_op`, wrapping 32-bit.
Result<uint32_t> read_bucket_checksum(SqliteDb& db, const std::string& bucket, int64_t up_to_op);

// One bucket's totals over every op written so far (the bucket_totals
// table), kept by every write transaction: what `walsim inspect` reads
// instead of scanning the log.
struct BucketTotals {
  std::string bucket;
  int64_t ops = 0;         // ops in the bucket
  int64_t rows = 0;        // rows whose latest op in the bucket is a PUT
  uint32_t checksum = 0;   // sum of the op checksums, wrapping 32-bit
  int64_t last_op_id = 0;  // its newest op
  bool operator==(const BucketTotals&) const = default;
};
// Every bucket's totals, sorted by bucket.
Result<std::vector<BucketTotals>> read_bucket_totals(SqliteDb& db);

// Per bucket, the count and checksum sum of its ops after `after_op`: what
// turns the totals into a checkpoint's checksums. A range read on the op id
// of at most `limit` ops; nullopt when there are more.
struct OpsAfter {
  int64_t ops = 0;
  uint32_t checksum = 0;
};
Result<std::optional<std::map<std::string, OpsAfter>>> read_ops_after(SqliteDb& db,
                                                                      int64_t after_op,
                                                                      int64_t limit);

}  // namespace walsim
