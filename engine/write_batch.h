// WriteBatch: a writer's buffer of source changes, and the protocol that
// persists it: one storage transaction per flush() or commit().
//
// Two kinds, same code: the streamer's batch buffers inserts, updates,
// deletes and truncates and commits at transaction boundaries; a snapshot
// batch buffers rows of one table copy and commits at LSN 0, which while
// its table is being copied is always blocked, so its ops reach the next
// checkpoint through keepalive_op. How a change is applied is the row
// applier's (row_applier.h); what a commit publishes is the checkpoint
// rules' (checkpoint_rules.h).
//
// A failed flush or commit writes nothing and keeps the buffer, so the same
// call can be retried. The only field that outlives a flush is
// persisted_op_, the largest op id this batch wrote: the checkpoint rules
// use it, and it is also stored in the database (keepalive_op or
// last_checkpoint) before anything relies on it across a restart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/checkpoint_rules.h"
#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/row_applier.h"
#include "engine/status.h"
#include "engine/store_transaction.h"

namespace walsim {

class WriteBatch {
 public:
  enum class Kind { kStream, kSnapshot };

  // Made by BucketStorage::stream_batch() and snapshot_batch(). A snapshot
  // batch belongs to one copy of `snapshot_table`, the one whose generation
  // is `snapshot_generation`.
  WriteBatch(StoreWriter& writer, const BucketRules& rules, Kind kind,
             std::string snapshot_table, int64_t snapshot_generation);
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // --- buffered, no I/O --------------------------------------------------
  void insert(const Relation& relation, Row row);
  // `old_key`: set when the key changed ('K') or under FULL identity ('O').
  void update(const Relation& relation, std::optional<Row> old_key, Row row);
  void remove(const Relation& relation, Row old_key);
  void truncate(const Relation& relation);
  // Snapshot batches: a copied row, and how far the copy got.
  void copy_row(const Relation& relation, Row row);
  void set_resume_key(Row last_key);
  // Snapshot batches: a row read by key to complete an incomplete row (one
  // whose unchanged-TOAST value the store never saw); fills only those
  // values, and only of such a row.
  void fill_row(const Relation& relation, Row row);
  // Snapshot batches: the commit raises no_checkpoint_before to `lsn`, for
  // rows read outside a table copy (filling incomplete rows).
  void raise_no_checkpoint_before(Lsn lsn);

  size_t buffered() const { return changes_.size(); }
  // Drops buffered changes (e.g. the stream broke mid-transaction).
  void discard();

  // --- one storage transaction each ---------------------------------------
  // Persists the buffer. `open_transaction_commit_lsn` is set when the
  // buffer holds part of a source transaction (its Begin's final LSN): the
  // flush then raises no_checkpoint_before to that LSN in the same storage
  // transaction, so no checkpoint can cover half a transaction, not even a
  // replayed earlier commit after a crash.
  Status flush(std::optional<Lsn> open_transaction_commit_lsn = std::nullopt);
  // Persists the buffer and applies the checkpoint rules at `lsn`: publish
  // if allowed, else carry ops in keepalive_op. A stream batch's commit is a
  // source transaction's and also records `lsn` as the last transaction
  // applied; a snapshot batch commits at LSN 0.
  Result<CommitResult> commit(Lsn lsn, CommitOptions options = {});
  // A keepalive is a stream commit with nothing of its own to persist and
  // no transaction to record.
  Result<CommitResult> keepalive(Lsn lsn, CommitOptions options = {});

  std::optional<int64_t> persisted_op() const { return persisted_op_; }
  Kind kind() const { return kind_; }

 private:
  const Relation* remember(const Relation& relation);
  void buffer(RowChange::Type type, const Relation& relation, Row row,
              std::optional<Row> old_key);
  Result<CommitResult> commit_at(CommitPoint::Kind kind, Lsn lsn, const CommitOptions& options);
  // Inside the caller's transaction: writes the buffer; returns the last op
  // id written. A snapshot batch also checks its copy is current and
  // records its progress; `table_done` is then its table's done flag.
  Result<std::optional<int64_t>> write_changes(StoreTransaction& txn, bool* table_done);
  void mark_persisted(std::optional<int64_t> written_op);

  StoreWriter& writer_;
  Kind kind_;
  std::string snapshot_table_;  // snapshot batches only
  int64_t snapshot_generation_ = 0;
  std::vector<RowChange> changes_;
  std::optional<Row> resume_key_;
  std::optional<Lsn> consistent_lsn_;
  // Snapshot batches: the newest op id committed when the first buffered
  // row was read (StoreWriter::committed_op_max). A tombstone above it was
  // written by a stream delete that landed between the read and the write
  // (counted for the rare-path catalog only).
  std::optional<int64_t> copy_read_after_op_;
  // Copies of the relations the buffered changes point at, so a relation
  // the caller passed in may go away; a changed schema adds a new copy.
  std::vector<std::unique_ptr<Relation>> relations_;
  // Resolved rules per relation copy above; cleared with it.
  TableRulesCache table_rules_;
  std::optional<int64_t> persisted_op_;
};

}  // namespace walsim
