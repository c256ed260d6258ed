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
  ExpectedState(const RulesModel& rules, const SimPostgres& source)
      : rules_(rules), source_(source) {}

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

  const RulesModel& rules_;
  const SimPostgres& source_;
  size_t next_txn_ = 0;
  BucketMap buckets_;
};

}  // namespace walsim::sim
