// CheckpointLatencyCheck: while the writer runs, a checkpoint the engine
// created is published within a bound.
//
// Issue 12: live mode's first checkpoint once came 24 s after start, and a
// sync service whose checkpoints stop while its source keeps writing
// serves nothing new. The liveness check (at healing) asks only that a
// checkpoint comes in the end; this one asks it of the running world. Its
// clock is the streamer's own: transactions it applied. Once a checkpoint
// is created (the engine counts them, ReplicatorProgress), so the copies
// were done and the checkpoint rules allowed one, the group commit makes
// it durable, and publishes it, within durable_every_transactions
// transactions (engine/streamer.cc committed_up_to). So
//
//   a created checkpoint that is not published after
//   durable_every_transactions + kSlackTransactions more applied
//   transactions is the violation "checkpoint_starved".
//
// Anything that may take a created checkpoint back legitimately starts the
// count over: a new engine (a restart), a table withdrawn, a copy that
// writes, waits or is required again (not all snapshots done). The check
// reads no store state of its own: only the engine's progress and the
// checkpoint the oracle saw published after each step.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/checkpoint_rules.h"
#include "engine/replicator_options.h"
#include "sim/violation.h"

namespace walsim::sim {

class CheckpointLatencyCheck {
 public:
  // Room for the commit that created the checkpoint and the look before
  // the durable commit, which applies nothing.
  static constexpr int64_t kSlackTransactions = 2;

  explicit CheckpointLatencyCheck(int64_t durable_every_transactions);

  // A new engine process: its progress counts from zero.
  void start_engine();
  // After every engine step while the writer runs.
  std::optional<Violation> after_step(const ReplicatorProgress& progress,
                                      const std::optional<Checkpoint>& published);

 private:
  bool copies_moved(const ReplicatorProgress& progress) const;

  int64_t bound_transactions_;
  std::optional<Checkpoint> published_;
  // What the last step's progress said, for telling what changed.
  ReplicatorProgress seen_;
  // transactions_applied when the oldest unpublished checkpoint was created.
  std::optional<int64_t> created_at_transactions_;
};

}  // namespace walsim::sim
