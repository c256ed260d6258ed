// Replicator: the engine assembled. One streamer task applies the change
// stream from the start; N snapshot worker tasks copy the queued tables
// concurrently; both write through their own WriteBatch into one store.
//
// Restart = construct a new Replicator over the same store: finished tables
// are skipped, partial tables resume from their stored key, and the stream
// resumes after the slot's acknowledged position. The Replicator holds no
// state that matters across a crash; losing it loses nothing durable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/source.h"
#include "engine/task.h"

namespace walsim {

class Streamer;
class Snapshotter;

struct ReplicatorOptions {
  int snapshot_workers = 2;
  size_t snapshot_chunk_rows = 1000;
  // A source transaction with more changes than this is persisted in pieces
  // (without a commit) so memory stays bounded.
  size_t stream_flush_changes = 1000;
  CommitOptions commit_options;
};

// Counters for progress displays and sim metrics; not used for decisions.
struct ReplicatorProgress {
  int64_t transactions_applied = 0;
  int64_t transactions_skipped = 0;  // delivered again, already applied
  int64_t changes_applied = 0;
  int64_t keepalives = 0;
  int64_t checkpoints_created = 0;
  int64_t stream_reconnects = 0;
  int64_t snapshot_rows_copied = 0;
  int64_t snapshot_chunks = 0;
  int64_t tables_snapshotted = 0;
  int64_t retries = 0;  // retryable errors seen and retried
  Lsn last_acknowledged_lsn;
  Lsn last_received_lsn;
  bool all_snapshots_done = false;
};

class Replicator {
 public:
  // `storage` and `source` must outlive the Replicator.
  Replicator(BucketStorage& storage, SourceConnector& source,
             ReplicatorOptions options);
  ~Replicator();

  // The streamer first, then each snapshot worker. Owned by the Replicator.
  // Steps may run in any order; each step does one source call or one
  // storage transaction.
  std::vector<Task*> tasks();

  // The first error no retry can fix (a table walsim refuses, a store that
  // breaks its own rules); ok while running normally.
  const Status& fatal_error() const;
  const ReplicatorProgress& progress() const;

 private:
  ReplicatorOptions options_;
  ReplicatorProgress progress_;
  Status fatal_error_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<Streamer> streamer_;
};

}  // namespace walsim
