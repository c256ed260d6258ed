// StoreModel: a reference implementation of the bucket store's rules
// (docs/design.md "The rules, exactly", engine/bucket_storage.h and
// engine/write_batch.h), small enough to be obviously right, that the
// model-based tests run side by side with the real store.
//
// It keeps what the store must hold: every op in id order, current data
// (live rows and tombstones), per-table copy progress, the replication state,
// and the batches' buffers. It knows nothing of SQLite and shares no code
// with the engine beyond its plain types (Lsn, OpKind, ReplicationState,
// CommitResult).
//
// Values, not references: rc::state copies the model before each command.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/lsn.h"
#include "engine/status.h"
#include "tests/engine/storage_model_domain.h"

namespace walsim::model {

struct ModelOp {
  int64_t op_id = 0;
  std::string bucket;
  OpKind kind = OpKind::kPut;
  std::string table;
  std::string row_id;
  std::optional<std::string> data;
  bool operator==(const ModelOp&) const = default;
};

// What a client does with ops it downloads, in op id order: the latest op
// per row wins, a REMOVE leaves nothing. Buckets left empty are dropped.
void apply_ops(const std::vector<ModelOp>& ops, BucketView& view);

// A change the streamer buffers. Insert and update carry the new row; an
// update's old_id is set for a key change; a delete's key is row.id.
struct StreamChange {
  enum class Type : uint8_t { kInsert, kUpdate, kDelete, kTruncate };
  Type type = Type::kInsert;
  Table table = Table::kTodos;
  SourceRow row;
  std::optional<int> old_id;
};

// What one storage call must return.
struct Outcome {
  ErrorCode code = ErrorCode::kOk;
  CommitResult result;  // commits only
  bool operator==(const Outcome& other) const {
    return code == other.code &&
           result.checkpoint_blocked == other.result.checkpoint_blocked &&
           result.checkpoint_created == other.result.checkpoint_created;
  }
};

// Per table, what BucketStorage::table() and live_row_count() must say.
struct TableProgress {
  bool snapshot_done = false;
  int64_t generation = 0;
  int64_t rows_copied = 0;
  std::optional<int> resume_key;
  int64_t live_rows = 0;
  bool operator==(const TableProgress&) const = default;
};

class StoreModel {
 public:
  // Both tables registered, nothing copied, nothing published.
  StoreModel();

  // --- buffered, no storage call ---------------------------------------
  void stream(const StreamChange& change);
  void discard_stream();
  // Buffers rows into the table's snapshot batch, made on first use: the
  // batch belongs to the table's copy generation at that moment.
  void copy(Table table, const std::vector<SourceRow>& rows, std::optional<int> resume_key);
  // The snapshot batch's commit raises no_checkpoint_before to `lsn`.
  void raise_no_checkpoint_before(Table table, Lsn lsn);
  void drop_snapshot_batch(Table table);

  // --- one storage transaction each ------------------------------------
  // Persists the stream buffer without the checkpoint rules, raising
  // keepalive_op to its ops; with the commit LSN of the transaction the
  // buffer is part of, no checkpoint may come before that LSN. An empty
  // buffer is no storage call at all.
  Outcome flush_stream(std::optional<Lsn> open_transaction_commit_lsn);
  // A commit records its LSN as the last source transaction applied; a
  // keepalive is the same call without a transaction.
  Outcome commit_stream(Lsn lsn, bool empty_checkpoints);
  Outcome keepalive(Lsn lsn, bool empty_checkpoints);
  Outcome commit_snapshot(Table table);
  Outcome mark_table_done(Table table, Lsn lsn);
  Outcome mark_all_done(Lsn lsn);
  Outcome require_snapshot(Table table);
  // register_table with the table's relation under `relid`. A new relid
  // (the source re-created the table) drops the table's rows: REMOVE ops,
  // current data forgotten, tombstones too, and a new copy generation. The
  // REMOVE ops are persisted outside any commit, so they must reach the
  // next checkpoint the way a blocked commit's ops do: via keepalive_op.
  // The checkpoint not yet published is taken back with it.
  Outcome register_table(Table table, uint32_t relid);

  // The engine is rebuilt over the same database: every batch is gone.
  void crash();
  // The next storage transaction fails (kIoError) and writes nothing.
  void fail_next_write() { fault_armed_ = true; }

  // --- what the store must hold ----------------------------------------
  const std::vector<ModelOp>& ops() const { return ops_; }
  const ReplicationState& state() const { return state_; }
  TableProgress progress(Table table) const;
  // Every bucket as of the published checkpoint: the model's ops up to it,
  // reduced as a client does.
  BucketView published() const;

  // --- for generating commands -----------------------------------------
  bool stream_buffer_empty() const { return stream_.changes.empty(); }
  Lsn last_lsn() const { return last_lsn_; }
  uint32_t relid(Table table) const { return tables_.at(table).relid; }

 private:
  // current_data: a live row, or a tombstone (pending_delete set).
  struct Entry {
    std::optional<SourceRow> live;
    int64_t pending_delete = 0;
  };
  struct TableState {
    std::map<std::string, Entry> rows;  // by row id, as SQLite orders them
    bool snapshot_done = false;
    int64_t generation = 0;
    int64_t rows_copied = 0;
    std::optional<int> resume_key;
    uint32_t relid = 0;
  };
  struct Batch {
    std::vector<StreamChange> changes;   // stream batch
    std::vector<SourceRow> copies;       // snapshot batch
    std::optional<int> resume_key;       // snapshot batch
    std::optional<Lsn> consistent_lsn;   // snapshot batch
    int64_t generation = 0;              // snapshot batch
    std::optional<int64_t> persisted;    // largest op id it wrote
  };

  bool take_fault();
  // The last op id, if any op was written after `before` was.
  std::optional<int64_t> written_since(int64_t before) const;
  // Applies and clears the stream buffer; the last op id it wrote.
  std::optional<int64_t> persist_stream_buffer();
  Outcome commit(Lsn lsn, bool empty_checkpoints, bool transaction);
  void write_op(OpKind kind, const std::string& bucket, Table table, int id,
                std::optional<std::string> data);
  void apply(const StreamChange& change);
  void put_row(Table table, const SourceRow& row);
  void delete_row(Table table, int id);
  void truncate(Table table);
  // REMOVEs for every live row, in row id order; returns those rows.
  std::vector<Entry*> remove_live_rows(Table table);
  void copy_row(Table table, const SourceRow& row);
  void bump_generation(Table table);
  void raise_no_checkpoint_before(Lsn lsn);
  CommitResult apply_checkpoint_rules(Lsn lsn, std::optional<int64_t> persisted,
                                      bool empty_checkpoints);
  void publish(int64_t checkpoint, Lsn lsn);
  int64_t last_op() const { return static_cast<int64_t>(ops_.size()); }

  std::vector<ModelOp> ops_;
  std::map<Table, TableState> tables_;
  ReplicationState state_;
  Batch stream_;
  std::map<Table, Batch> snapshots_;
  bool fault_armed_ = false;
  Lsn last_lsn_;  // the largest LSN any call used
};

}  // namespace walsim::model
