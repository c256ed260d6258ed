// Oracle: decides whether what the engine published is right.
//
// Its truth comes from the simulated source's own history (ExpectedState)
// and its own reading of the rules (RulesModel); what it checks comes from
// the store's public read API, read as a client reads it (BucketView). It
// shares no code with the engine's rules or storage.
//
// Invariants checked at every newly published checkpoint (polled after
// every engine step):
//   checkpoint_regressed        op id and LSN never go back; a published
//                               checkpoint never disappears.
//   checkpoint_ahead_of_source  the LSN is not past the source's WAL head.
//   published_before_snapshot   the store says snapshot_done, and every
//                               table's copy has read its last chunk at a
//                               consistent LSN <= the checkpoint's LSN.
//   published_outside_publication  every table was in the publication at
//                               the checkpoint's LSN (issue 10 part A).
//   checkpoint_content          every bucket, reduced up to the checkpoint
//                               op id, equals the rules applied to the
//                               source as of the checkpoint LSN.
// and at every acknowledgement:
//   ack_ahead_of_received       the engine acknowledges only positions
//                               the slot has sent (in any session);
// after every engine step that changed the store:
//   op_id_reused                an op id the store once held never comes
//                               back naming a different op (ops beyond the
//                               published checkpoint included: a power
//                               loss may drop them, never rename them);
// and after every restart (a crash, a power loss, a restart after a
// failure), before the new engine runs:
//   acknowledged_lost           the store holds every source transaction
//                               whose end LSN the slot has confirmed: the
//                               source will never send it again.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/bucket_storage.h"
#include "sim/bucket_view.h"
#include "sim/expected_state.h"
#include "sim/violation.h"

namespace walsim::sim {

// The first difference between two bucket states, restricted to `only`
// when given; nullopt when equal. Data that differs only in JSON spelling
// counts as equal.
struct RowDifference {
  std::string bucket;
  RowRef row;
  std::optional<std::string> expected;
  std::optional<std::string> actual;
};
std::optional<RowDifference> first_difference(const BucketMap& expected, const BucketMap& actual,
                                              const DirtyRows* only);

class Oracle {
 public:
  Oracle(const RulesModel& rules, const SimPostgres& source);

  // Checks the published checkpoint if it changed since the last poll.
  std::optional<Violation> poll(BucketStorage& storage);
  std::optional<Violation> on_acknowledge(Lsn lsn, Lsn sent);
  // Records the ops the store gained since the last call.
  std::optional<Violation> watch_ops(BucketStorage& storage);
  // `confirmed` is the furthest the slot was ever confirmed to;
  // `power_lost`: the disk lost what it had not synced (sim_disk.h).
  std::optional<Violation> after_restart(BucketStorage& storage, Lsn confirmed, bool power_lost);
  // Issue 10 part B: the store's LSNs are the cluster's (sim/sim_cluster.h);
  // source LSN = store LSN + offset. Set when a fresh cluster replaces the
  // source, after the store's reset: every checkpoint published from then
  // on is one of the new cluster's. checkpoint() stays in source LSNs.
  void set_cluster_offset(uint64_t offset) { cluster_offset_ = offset; }

  // The last checkpoint checked, and the expected state at its LSN.
  const std::optional<Checkpoint>& checkpoint() const { return checkpoint_; }
  const ExpectedState& expected() const { return expected_; }
  int64_t checkpoints_checked() const { return checkpoints_checked_; }
  // The newest op id the store was seen to hold (since the last restart's
  // re-read from the published checkpoint).
  int64_t watched_up_to_op() const { return watched_up_to_op_; }

  // "bucket by_owner_t0["o1"] row t0 ["00000017"]: expected {...}, actual
  // absent; last source change: xid 812 commit 0/1A0".
  std::string describe(const RowDifference& difference) const;

 private:
  std::optional<Violation> check_gate(BucketStorage& storage, const Checkpoint& checkpoint);

  const SimPostgres& source_;
  ExpectedState expected_;
  BucketView view_;
  std::optional<Checkpoint> checkpoint_;  // in source LSNs
  std::optional<Checkpoint> published_;   // as the store says it
  uint64_t cluster_offset_ = 0;
  int64_t checkpoints_checked_ = 0;
  // Every op the store was ever seen to hold, by id: its checksum, which
  // covers its bucket, kind, table, row and data (engine/op_log.h).
  std::map<int64_t, uint32_t> seen_ops_;
  int64_t watched_up_to_op_ = 0;
};

}  // namespace walsim::sim
