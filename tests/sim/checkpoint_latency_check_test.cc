// The check that a created checkpoint is published within the group
// commit's bound while the writer runs (sim/checkpoint_latency_check.h).
#include "sim/checkpoint_latency_check.h"

#include <gtest/gtest.h>

namespace walsim::sim {
namespace {

// A stream past its copies: every step applies a transaction, and the
// first one creates a checkpoint.
ReplicatorProgress after(int64_t transactions, int64_t created) {
  ReplicatorProgress progress;
  progress.all_snapshots_done = true;
  progress.transactions_applied = transactions;
  progress.checkpoints_created = created;
  return progress;
}

TEST(CheckpointLatencyCheck, ACheckpointNotPublishedPastTheBoundIsStarved) {
  CheckpointLatencyCheck check(/*durable_every_transactions=*/8);
  const std::optional<Checkpoint> none;
  EXPECT_FALSE(check.after_step(after(1, 1), none));
  for (int64_t t = 2; t <= 1 + 8 + CheckpointLatencyCheck::kSlackTransactions; t++) {
    EXPECT_FALSE(check.after_step(after(t, 1), none)) << t;
  }
  std::optional<Violation> starved = check.after_step(after(12, 1), none);
  ASSERT_TRUE(starved.has_value());
  EXPECT_EQ(starved->invariant, "checkpoint_starved");
}

TEST(CheckpointLatencyCheck, APublicationOrACopyStartsTheCountOver) {
  CheckpointLatencyCheck check(8);
  EXPECT_FALSE(check.after_step(after(1, 1), std::nullopt));
  // Published at transaction 9: the count starts again at the next creation.
  const std::optional<Checkpoint> published = Checkpoint{5, Lsn(0x100)};
  EXPECT_FALSE(check.after_step(after(9, 1), published));
  for (int64_t t = 10; t < 40; t++) EXPECT_FALSE(check.after_step(after(t, 1), published)) << t;
  // A new checkpoint, then a copy's chunk: no count runs while copies move.
  EXPECT_FALSE(check.after_step(after(40, 2), published));
  ReplicatorProgress copying = after(41, 2);
  copying.snapshot_chunks = 1;
  EXPECT_FALSE(check.after_step(copying, published));
  for (int64_t t = 42; t < 60; t++) {
    copying.transactions_applied = t;
    copying.all_snapshots_done = false;
    EXPECT_FALSE(check.after_step(copying, published)) << t;
  }
  // A restart forgets the old engine's counters.
  check.start_engine();
  EXPECT_FALSE(check.after_step(after(1, 1), published));
}

}  // namespace
}  // namespace walsim::sim
