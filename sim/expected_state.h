// ExpectedState: the bucket rules applied to the source, as of an LSN.
//
// Built only from the simulated source's own history (the true before and
// after images of each committed transaction) and the oracle's own rules
// model; it never looks at the engine or its storage. Advances forward
// only, as published checkpoints do.
#pragma once

#include <optional>

#include "engine/lsn.h"
#include "sim/bucket_state.h"
#include "sim/rules_model.h"
#include "sim/sim_postgres.h"

namespace walsim::sim {

class ExpectedState {
 public:
  ExpectedState(const RulesModel& rules, const SimPostgres& source);

  // Applies, in order, every committed transaction with commit LSN <= lsn
  // not applied yet; adds each bucket row it touches to `dirty`.
  void advance_to(Lsn lsn, DirtyRows* dirty);

  const BucketMap& buckets() const { return buckets_; }
  // Whether the transaction changes any bucket's contents.
  bool changes_buckets(const SourceTxn& txn) const;
  // The transaction that last wrote a row, for failure reports.
  const SourceTxn* last_writer(const std::string& table, const std::string& row_id) const;

 private:
  void apply(const SourceChange& change, DirtyRows* dirty);
  // Issue 10 (DDL): the identity changes at or before `lsn` not applied
  // yet. The row ids of a table follow its identity as of the checkpoint
  // (the engine withdraws a table whose stored relation is not the
  // catalog's before it publishes), so its rows are keyed anew.
  void change_identities_through(Lsn lsn, DirtyRows* dirty);
  void rekey_table(size_t table, ReplicaIdentity identity, DirtyRows* dirty);

  const RulesModel& rules_;
  const SimPostgres& source_;
  size_t next_txn_ = 0;
  BucketMap buckets_;
  // Per table: its identity as of the last applied change, the next of
  // its identity changes to apply, and its rows now by id (for re-keying).
  std::vector<ReplicaIdentity> identity_;
  std::vector<size_t> next_identity_change_;
  std::vector<std::map<std::string, Row>> rows_;
};

}  // namespace walsim::sim
