// WriteBatch: a writer's buffer of source changes, persisted into the bucket
// store in one SQLite transaction per flush() or commit().
//
// Two kinds, same code: the streamer's batch applies inserts, updates,
// deletes and truncates and commits at transaction boundaries; a snapshot
// batch copies rows of one table (skipping any key the store already holds,
// live or tombstoned) and commits at LSN 0, which is always blocked, so its
// ops reach the next checkpoint through keepalive_op.
//
// A failed flush or commit writes nothing and keeps the buffer, so the same
// call can be retried. The only field that outlives a flush is
// persisted_op_, the largest op id this batch wrote: the checkpoint rules
// use it, and it is also stored in the database (keepalive_op or
// last_checkpoint) before anything relies on it across a restart.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"

namespace walsim {

class WriteBatch {
 public:
  enum class Kind { kStream, kSnapshot };

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
  ~WriteBatch();

  // --- one storage transaction each ---------------------------------------
  // Persists the buffer. `open_transaction_commit_lsn` is set when the
  // buffer holds part of a source transaction (its Begin's final LSN): the
  // flush then raises no_checkpoint_before to that LSN in the same storage
  // transaction, so no checkpoint can cover half a transaction, not even a
  // replayed earlier commit after a crash.
  Status flush(std::optional<Lsn> open_transaction_commit_lsn = std::nullopt);
  // Flushes and applies the checkpoint rules at `lsn` (see bucket_storage.h
  // and docs/design.md): publish if allowed, else carry ops in keepalive_op.
  // A stream batch's commit also records `lsn` as the last transaction
  // applied (see ReplicationState::last_applied_lsn).
  Result<CommitResult> commit(Lsn lsn, CommitOptions options = {});
  // A keepalive is a commit with nothing of its own to persist.
  Result<CommitResult> keepalive(Lsn lsn, CommitOptions options = {});

  std::optional<int64_t> persisted_op() const { return persisted_op_; }
  Kind kind() const { return kind_; }

 private:
  friend class BucketStorage;
  WriteBatch(BucketStorage& storage, Kind kind, std::string snapshot_table,
             int64_t snapshot_generation);

  struct Change {
    enum class Type { kInsert, kUpdate, kDelete, kTruncate, kCopy, kFill };
    Type type;
    const Relation* relation;  // points into relations_
    Row row;                   // new row, or the old key for deletes
    std::optional<Row> old_key;
  };
  struct CurrentRow;
  class Applier;

  const Relation* remember(const Relation& relation);
  Result<const TableRules*> table_rules(const Relation& relation);
  Result<std::optional<int64_t>> write_changes();
  Status check_generation();
  Status record_copy_progress(int64_t rows_copied);
  void mark_persisted(std::optional<int64_t> written_op);
  Result<CommitResult> commit_at(Lsn lsn, const CommitOptions& options, bool transaction);
  Result<CommitResult> apply_checkpoint_rules(Lsn lsn, std::optional<int64_t> persisted,
                                              const CommitOptions& options);
  // For BucketStorage::register_table, inside its transaction: REMOVE ops
  // for every live row of `table`.
  Status write_table_removal(const std::string& table);

  BucketStorage& storage_;
  Kind kind_;
  std::string snapshot_table_;  // snapshot batches only
  int64_t snapshot_generation_ = 0;
  std::vector<Change> changes_;
  std::optional<Row> resume_key_;
  std::optional<Lsn> consistent_lsn_;
  // Copies of the relations the buffered changes point at, so a relation
  // the caller passed in may go away; a changed schema adds a new copy.
  std::vector<std::unique_ptr<Relation>> relations_;
  // Resolved rules per relation copy above; cleared with it.
  std::map<const Relation*, TableRules> table_rules_;
  std::optional<int64_t> persisted_op_;
};

}  // namespace walsim
