// The op log: the bucket_data table (DDL in engine/storage_schema.cc).
//
// Every change to a bucket is an op, PUT (the row's data in that bucket) or
// REMOVE, with a global op id that only grows. A client downloads a
// bucket's ops up to a published checkpoint and reduces them, latest op per
// row, to the bucket's rows. This file owns the op id sequence
// (replication_state.last_op_id), writing ops, their checksum, the row ids
// they name, and every read of the log.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/relation.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

enum class OpKind : uint8_t { kPut, kRemove };

// "PUT" or "REMOVE", as stored.
const char* op_kind_name(OpKind kind);

struct StoredOp {
  int64_t op_id = 0;
  std::string bucket;
  OpKind kind = OpKind::kPut;
  std::string table;
  std::string row_id;  // JSON array of the replica identity values
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
// op is a PUT. Ops must be in op id order.
std::map<std::pair<std::string, std::string>, StoredOp> reduce_ops(
    const std::vector<StoredOp>& ops);

// Appends ops inside one write transaction (see store_transaction.h, which
// makes one per transaction). The sequence is read from
// replication_state.last_op_id once, on first use, and written back by
// finish() before COMMIT; the write lock the transaction holds makes it safe
// between writers. A rolled-back transaction leaves the stored sequence as
// it was, so its op ids are handed out again.
class OpLogWriter {
 public:
  explicit OpLogWriter(SqliteDb& db) : db_(db) {}

  // Writes one op with the next op id; returns that id.
  Result<int64_t> append(OpKind kind, const std::string& bucket, const std::string& table,
                         const std::string& row_id, const std::optional<std::string>& data);
  // The newest op id in the store, this transaction's included (0 when the
  // log is empty). A tombstone takes it as its op id.
  Result<int64_t> latest_op();
  // The last op id this transaction wrote; nullopt when it wrote none.
  std::optional<int64_t> last_written_op() const { return last_written_op_; }
  // Stores the sequence if this transaction wrote ops. Call once, last.
  Status finish();

 private:
  SqliteDb& db_;
  std::optional<int64_t> stored_op_;  // last_op_id as read, once read
  std::optional<int64_t> last_written_op_;
  bool finished_ = false;
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

}  // namespace walsim
