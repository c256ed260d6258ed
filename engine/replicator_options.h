// ReplicatorOptions and ReplicatorProgress: what the engine's tasks are
// configured with and what they count. A header of their own so the tasks
// (streamer.h, snapshotter.h) need not include the Replicator that
// assembles them: replicator.h points down at the tasks, never the reverse.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/checkpoint_rules.h"
#include "engine/lsn.h"
#include "engine/status.h"

namespace walsim {

struct ReplicatorOptions {
  int snapshot_workers = 2;
  size_t snapshot_chunk_rows = 1000;
  // A source transaction with more changes than this is persisted in pieces
  // (without a commit) so memory stays bounded.
  size_t stream_flush_changes = 1000;
  // Group commit. Stream commits survive a process crash only; the streamer
  // makes them survive a power loss (BucketStorage::make_durable, one sync)
  // and only then acknowledges them, when the stream has nothing to read or
  // when this many transactions, or changes, wait for it. 1 syncs at every
  // commit.
  int64_t durable_every_transactions = 256;
  int64_t durable_every_changes = 10000;
  // Canary: the streamer acknowledges a transaction's end before its
  // COMMIT, so a crash between the two loses what the source let go of.
  bool unsafe_ack_before_commit = false;
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
  int64_t durable_commits = 0;  // make_durable() calls that succeeded
  // Issue 10 part A: tables found out of the publication, or back in it as a
  // new member, whose rows were withdrawn; and copies that found their
  // table out of the publication and waited.
  int64_t tables_withdrawn = 0;
  int64_t tables_waiting_for_publication = 0;
  int64_t retries = 0;  // retryable errors seen and retried
  Status last_retried;  // the latest of them
  Lsn last_acknowledged_lsn;
  Lsn last_received_lsn;
  bool all_snapshots_done = false;
};

}  // namespace walsim
