#include "engine/streamer.h"

#include <algorithm>

#include "engine/mutant.h"
#include "engine/probe.h"
#include "engine/snapshotter.h"

namespace walsim {

Streamer::Streamer(BucketStorage& storage, SourceConnector& source, Snapshotter& snapshotter,
                   const ReplicatorOptions& options, ReplicatorProgress& progress,
                   Status& fatal_error)
    : storage_(storage),
      source_(source),
      snapshotter_(snapshotter),
      options_(options),
      progress_(progress),
      fatal_error_(fatal_error),
      batch_(storage.stream_batch()) {}

StepResult Streamer::step() {
  if (!fatal_error_.is_ok()) return StepResult::kFailed;
  switch (next_) {
    case Next::kOpen: return open();
    case Next::kRead: return read();
    case Next::kFlush: return flush();
    case Next::kCommit: return commit();
    case Next::kKeepalive: return keepalive();
    case Next::kMakeDurable: return make_durable();
    case Next::kAcknowledge: return acknowledge();
  }
  return StepResult::kFailed;
}

StepResult Streamer::open() {
  WALSIM_ASSERT(stream_ == nullptr && !in_transaction_, "a stream opens between sessions");
  // Until start-up has registered the rules' tables, the store may still
  // call a table re-created while walsim was stopped copied: a keepalive
  // now would publish its old rows as a checkpoint.
  if (!snapshotter_.started()) return StepResult::kIdle;
  auto state = storage_.replication_state();
  if (!state.is_ok()) return retry_or_fail(state.status());
  last_applied_lsn_ = state->last_applied_lsn;
  auto stream = source_.open_stream();
  if (!stream.is_ok()) return retry_or_fail(stream.status());
  stream_ = std::move(*stream);
  relations_.clear();  // the source announces them again in a new session
  next_ = Next::kRead;
  return StepResult::kProgress;
}

StepResult Streamer::read() {
  WALSIM_ASSERT(stream_ != nullptr, "a stream is open before it is read");
  WALSIM_ASSERT(!acknowledge_lsn_, "a durable commit is acknowledged before the next read");
  auto message = stream_->next();
  if (!message.is_ok()) return retry_or_fail(message.status());
  if (!*message) {
    // Nothing to read right now: between transactions, the moment to make
    // what waits durable, and to tell the source.
    if (in_transaction_) return StepResult::kIdle;
    if (committed_lsn_ > durable_lsn_) {
      next_ = Next::kMakeDurable;
      return StepResult::kProgress;
    }
    if (durable_lsn_ > acknowledged_lsn_) {
      acknowledge_lsn_ = durable_lsn_;
      next_ = Next::kAcknowledge;
      return StepResult::kProgress;
    }
    return StepResult::kIdle;
  }
  on_message(std::move(**message));
  return fatal_error_.is_ok() ? StepResult::kProgress : StepResult::kFailed;
}

void Streamer::on_message(ChangeMessage message) {
  if (auto* begin = std::get_if<BeginMessage>(&message)) {
    WALSIM_ASSERT(!in_transaction_, "source transactions do not nest");
    WALSIM_ASSERT(batch_->buffered() == 0, "changes are buffered only inside a transaction");
    in_transaction_ = true;
    transaction_commit_lsn_ = begin->final_lsn;
    // The slot may send again what the store already holds (an ack lost
    // in a crash, a rewound slot). Applying it again would rebuild rows
    // from a store that is ahead of it; skip it and only acknowledge.
    skipping_ = last_applied_lsn_ && begin->final_lsn <= *last_applied_lsn_ &&
                !WALSIM_MUTANT("redelivered_transactions_applied");
    if (skipping_) {
      WALSIM_PROBE("redelivered_transaction_skipped");
      progress_.transactions_skipped++;
    }
    progress_.last_received_lsn = std::max(progress_.last_received_lsn, begin->final_lsn);
  } else if (auto* commit = std::get_if<CommitMessage>(&message)) {
    if (!in_transaction_) {
      fail(Status(ErrorCode::kCorrupt, "commit " + commit->commit_lsn.to_string() +
                                           " outside a transaction"));
      return;
    }
    commit_ = *commit;
    next_ = skipping_ ? Next::kRead : Next::kCommit;
    if (skipping_) {
      // Applied before: the store holds it, though maybe not durably (a
      // process that died before its durable commit left it in the page
      // cache), so it waits for the next durable commit like any other.
      in_transaction_ = false;
      skipping_ = false;
      committed_up_to(commit->end_lsn, 0);
      commit_.reset();
    }
  } else if (auto* relation = std::get_if<RelationMessage>(&message)) {
    on_relation(std::move(relation->relation));
  } else if (auto* insert = std::get_if<InsertMessage>(&message)) {
    if (const Relation* table = replicated_relation(insert->relid)) {
      batch_->insert(*table, std::move(insert->new_row));
      after_change();
    }
  } else if (auto* update = std::get_if<UpdateMessage>(&message)) {
    if (const Relation* table = replicated_relation(update->relid)) {
      batch_->update(*table, std::move(update->old_key), std::move(update->new_row));
      after_change();
    }
  } else if (auto* remove = std::get_if<DeleteMessage>(&message)) {
    if (const Relation* table = replicated_relation(remove->relid)) {
      batch_->remove(*table, std::move(remove->old_key));
      after_change();
    }
  } else if (auto* truncate = std::get_if<TruncateMessage>(&message)) {
    for (uint32_t relid : truncate->relids) {
      if (const Relation* table = replicated_relation(relid)) {
        batch_->truncate(*table);
        // A truncate restarts a copy in progress; the new copy needs a
        // place in the queue (a finished table is skipped there).
        truncated_tables_.push_back(table->name);
      }
    }
    after_change();
  } else if (auto* keepalive = std::get_if<KeepaliveMessage>(&message)) {
    // The source seam's contract (change.h): inside a transaction a
    // keepalive would say nothing about commits, so none is sent there.
    WALSIM_ASSERT(!in_transaction_, "a keepalive never arrives inside a transaction");
    progress_.last_received_lsn = std::max(progress_.last_received_lsn, keepalive->lsn);
    keepalive_lsn_ = keepalive->lsn;
    next_ = Next::kKeepalive;
  }
}

void Streamer::on_relation(Relation relation) {
  const auto& tables = storage_.rules().tables();
  bool replicated = std::binary_search(tables.begin(), tables.end(), relation.name);
  uint32_t relid = relation.relid;
  if (!replicated) {
    relations_.erase(relid);
    return;
  }
  Status refused = check_replicable(relation);
  if (!refused.is_ok()) {
    fail(refused);
    return;
  }
  // Issue 10 (DDL): the stream never writes the stored relation. One that
  // is not the registered one is the snapshotter's to look at: the catalog
  // decides (a newer table or shape is registered and copied; an older one,
  // replayed, changes nothing) and its changes meanwhile are not applied.
  const Relation* registered = snapshotter_.registered_relation(relation.name);
  if (!registered || needs_new_copy(*registered, relation)) {
    WALSIM_PROBE("stream_relation_not_registered");
    snapshotter_.recheck(relation.name);
  }
  relations_[relid] = std::move(relation);
}

// Changes decoded with another relation than the registered one are left
// out: of an older incarnation, the copy of the registered one (consistent
// past them) holds the table; of a newer one or a new shape, the recheck
// registers it and copies the table again, reading every change it missed.
const Relation* Streamer::replicated_relation(uint32_t relid) {
  if (skipping_) return nullptr;
  auto found = relations_.find(relid);
  if (found == relations_.end()) return nullptr;
  const Relation* registered = snapshotter_.registered_relation(found->second.name);
  if (!registered) return nullptr;
  if (needs_new_copy(*registered, found->second)) {
    // Left out while other changes of the table, decoded with the stored
    // relation, are applied: a delete left out after an update applied
    // leaves the update's row for good, whatever the copy reads (found by
    // the simulator's identity_changed kind: a stream lagging behind two
    // ALTER TABLE ... REPLICA IDENTITY left out a window between them).
    // So the table is withdrawn at the next look and copied again, waiting
    // for the stream to pass the copy's start.
    if (!WALSIM_MUTANT("left_out_changes_keep_table")) {
      changes_left_out_of_.insert(found->second.name);
      checkpoint_unchecked_ = true;
    }
    return nullptr;
  }
  return &found->second;
}

void Streamer::after_change() {
  progress_.changes_applied++;
  changes_in_transaction_++;
  if (batch_->buffered() >= options_.stream_flush_changes) next_ = Next::kFlush;
}

StepResult Streamer::flush() {
  Status status = batch_->flush(in_transaction_ ? std::optional(transaction_commit_lsn_)
                                                : std::nullopt);
  if (!status.is_ok()) return retry_or_fail(status);
  WALSIM_ASSERT(batch_->buffered() == 0, "a flush persists the whole buffer");
  next_ = Next::kRead;
  return StepResult::kProgress;
}

StepResult Streamer::commit() {
  WALSIM_ASSERT(commit_ && in_transaction_, "a commit closes the open transaction");
  WALSIM_ASSERT(!skipping_, "a transaction applied before is only acknowledged");
  // The other side of the skip in on_message: whatever decided there, what
  // reaches the store is newer than all it applied. Applied again, a resent
  // transaction mostly rebuilds the same rows, so the oracle sees it only
  // in a rare interleaving (one seed in 100); this sees every case. A fatal
  // error, not an assertion: the store is intact, nothing was written, and
  // the simulator reports it as engine_failed without losing the process.
  if (last_applied_lsn_ && commit_->commit_lsn <= *last_applied_lsn_) {
    return fail(Status(ErrorCode::kCorrupt,
                       "commit " + commit_->commit_lsn.to_string() +
                           " is not newer than the applied " + last_applied_lsn_->to_string() +
                           ": a transaction the store applied is never applied again (4c5262c)"));
  }
  if (options_.unsafe_ack_before_commit && !acknowledged_early_) {
    // The canary, on purpose past acknowledge()'s assertion: told before
    // the store holds it.
    Status status = stream_->acknowledge(commit_->end_lsn);
    if (!status.is_ok()) return retry_or_fail(status);
    acknowledged_early_ = true;
    return StepResult::kProgress;
  }
  acknowledged_early_ = false;
  // Tables whose changes this transaction left out are withdrawn before
  // it commits, one store transaction each: a mark kept in memory until the
  // next look died with the process, and the slot's resend of a committed
  // transaction is skipped as applied, so nothing marked the table again
  // and its stale rows were published (found by the simulator's live
  // schedule, seed 1174). Withdrawn and then not committed (a crash between
  // the two), the resent transaction leaves the changes out again.
  if (!WALSIM_MUTANT("left_out_mark_kept_in_memory")) {
    tables_to_withdraw_.insert(tables_to_withdraw_.end(), changes_left_out_of_.begin(),
                               changes_left_out_of_.end());
    changes_left_out_of_.clear();
  }
  if (!tables_to_withdraw_.empty()) return withdraw_table();  // then commit again
  auto result = batch_->commit(commit_->commit_lsn, options_.commit_options);
  if (!result.is_ok()) return retry_or_fail(result.status());
  WALSIM_ASSERT(batch_->buffered() == 0, "a commit persists the whole transaction");
  if (result->checkpoint_created) progress_.checkpoints_created++;
  if (result->checkpoint_created) checkpoint_unchecked_ = true;
  look_again_if_stuck(result->checkpoint_blocked);
  progress_.transactions_applied++;
  last_applied_lsn_ = std::max(last_applied_lsn_.value_or(Lsn::zero()), commit_->commit_lsn);
  for (const std::string& table : truncated_tables_) snapshotter_.enqueue(table);
  truncated_tables_.clear();
  in_transaction_ = false;
  committed_up_to(commit_->end_lsn, changes_in_transaction_);
  changes_in_transaction_ = 0;
  commit_.reset();
  return StepResult::kProgress;
}

void Streamer::committed_up_to(Lsn lsn, int64_t changes) {
  WALSIM_ASSERT(durable_lsn_ <= committed_lsn_, "only what the store holds is made durable");
  committed_lsn_ = std::max(committed_lsn_, lsn);
  if (WALSIM_MUTANT("ack_without_durable_commit")) durable_lsn_ = committed_lsn_;
  transactions_not_durable_++;
  changes_not_durable_ += changes;
  // The planted bug reads the bound in the wrong unit (eight times over).
  const int64_t every = WALSIM_MUTANT("group_commit_waits_eight_times_its_bound")
                            ? 8 * options_.durable_every_transactions
                            : options_.durable_every_transactions;
  const bool transactions_due = transactions_not_durable_ >= every;
  const bool due = transactions_due || changes_not_durable_ >= options_.durable_every_changes;
  next_ = due ? Next::kMakeDurable : Next::kRead;
}

StepResult Streamer::make_durable() {
  WALSIM_ASSERT(committed_lsn_ > durable_lsn_ || transactions_not_durable_ > 0,
                "a durable commit has something to cover");
  if (!tables_to_withdraw_.empty()) return withdraw_table();
  look_again_if_quiet();
  if (checkpoint_unchecked_) return check_publication();
  // The store holds the source up to committed_lsn_: every commit that got
  // it there is in the -wal file before this one, which the sync covers.
  const Lsn covered = committed_lsn_;
  Status status = storage_.make_durable(covered);
  if (!status.is_ok()) return retry_or_fail(status);
  progress_.durable_commits++;
  durable_lsn_ = covered;
  transactions_not_durable_ = 0;
  changes_not_durable_ = 0;
  next_ = Next::kRead;
  if (durable_lsn_ > acknowledged_lsn_) {
    acknowledge_lsn_ = durable_lsn_;
    next_ = Next::kAcknowledge;
  }
  return StepResult::kProgress;
}

// The checkpoint the durable commit would publish was created at an LSN the
// source has passed. A table still the same member of the publication as
// when its copy started was in it all along, so the stream carried every
// change of it the copy did not read. Any other table (dropped from the
// publication, or dropped and added again, so the stream left out its
// changes in between) is withdrawn, with that checkpoint, before the
// durable commit. Tables whose copy has not started are not asked about:
// the copy reads the membership first. The checkpoint was created before
// this read and no other task creates one, so the read covers it.
// The same look compares each table's stored relation with the catalog's:
// a DDL change pgoutput says nothing of until the table's next change
// (ALTER TABLE ... REPLICA IDENTITY, which renames every row) must not
// leave a checkpoint published under the old one (found by the simulator's
// identity_changed kind: rows keyed by an identity the table no longer had).
StepResult Streamer::check_publication() {
  WALSIM_ASSERT(tables_to_withdraw_.empty(), "one check at a time");
  auto members = source_.publication_members(storage_.rules().tables());
  if (!members.is_ok()) return retry_or_fail(members.status());
  auto described = source_.describe_tables(storage_.rules().tables());
  if (!described.is_ok()) return retry_or_fail(described.status());
  auto tables = storage_.tables();
  if (!tables.is_ok()) return retry_or_fail(tables.status());
  for (const TableState& table : *tables) {
    if (!table.snapshot_done && !table.publication_member) continue;
    auto found = members->find(table.table);
    auto relation = std::find_if(described->begin(), described->end(),
                                 [&](const Relation& r) { return r.name == table.table; });
    const bool relation_changed = relation != described->end() &&
                                  needs_new_copy(table.relation, *relation) &&
                                  !WALSIM_MUTANT("checkpoint_ignores_catalog_relation");
    const bool left_out = changes_left_out_of_.contains(table.table);
    // Withdrawn already and not copied since: its rows are gone, its copy
    // is required, and no checkpoint can be created until that copy is
    // done. Withdrawing it again for its membership would only restart the
    // copy, at the head; a copy waiting for the stream to pass its start
    // was restarted so at every look, for good (found by the simulator:
    // tests/regressions/withdrawn-table-copy-restarted-every-look.json).
    // A new relation or changes left out since still withdraw it (its copy
    // must start over under the catalog's relation: skipped for those too,
    // a copy looped on the stored one, a campaign's seed 1093).
    const bool withdrawn_waiting = !table.snapshot_done &&
                                   table.publication_member == kWithdrawnMember && !left_out &&
                                   !relation_changed &&
                                   !WALSIM_MUTANT("withdrawn_table_withdrawn_again");
    if (withdrawn_waiting) continue;
    if (found == members->end() || table.publication_member != found->second ||
        relation_changed || left_out) {
      if (relation_changed) WALSIM_PROBE("catalog_relation_changed_withdrawn");
      if (left_out) WALSIM_PROBE("left_out_changes_withdrawn");
      tables_to_withdraw_.push_back(table.table);
    }
  }
  changes_left_out_of_.clear();
  checkpoint_unchecked_ = false;
  publication_checked_lsn_ = std::max(publication_checked_lsn_, committed_lsn_);
  return StepResult::kProgress;
}

// The source moved on and the stream brought no change since the last
// look: maybe because a table left the publication (pgoutput says nothing
// of that, and nothing of the changes it then leaves out). No checkpoint
// is created from such a range, so without this look a table dropped from
// the publication, changed and added back would stay stale for good. One
// catalog read per durable commit of a quiet range, at a new LSN only.
void Streamer::look_again_if_quiet() {
  WALSIM_ASSERT(tables_to_withdraw_.empty(), "withdrawals found by the last look come first");
  WALSIM_ASSERT(durable_lsn_ <= committed_lsn_, "a quiet range ends where the store is");
  if (changes_not_durable_ == 0 && committed_lsn_ > publication_checked_lsn_) {
    checkpoint_unchecked_ = true;
  }
}

// Every copy is done and still no checkpoint: an incomplete row may wait
// for a delete the stream will never bring, its table having left the
// publication. The catalog is asked at the next durable commit then too.
void Streamer::look_again_if_stuck(bool checkpoint_blocked) {
  if (checkpoint_blocked && progress_.all_snapshots_done) checkpoint_unchecked_ = true;
}

StepResult Streamer::withdraw_table() {
  WALSIM_ASSERT(!tables_to_withdraw_.empty());
  const std::string table = tables_to_withdraw_.back();
  Status status = storage_.withdraw_table(table);
  if (status.code() != ErrorCode::kNotFound && !status.is_ok()) return retry_or_fail(status);
  tables_to_withdraw_.pop_back();
  progress_.tables_withdrawn++;
  snapshotter_.enqueue(table);
  return StepResult::kProgress;
}

StepResult Streamer::keepalive() {
  WALSIM_ASSERT(keepalive_lsn_ && !in_transaction_, "a keepalive comes between transactions");
  auto result = batch_->keepalive(*keepalive_lsn_, options_.commit_options);
  if (!result.is_ok()) return retry_or_fail(result.status());
  if (result->checkpoint_created) progress_.checkpoints_created++;
  if (result->checkpoint_created) checkpoint_unchecked_ = true;
  look_again_if_stuck(result->checkpoint_blocked);
  progress_.keepalives++;
  // Every transaction before the keepalive was committed before it was read.
  committed_up_to(*keepalive_lsn_, 0);
  keepalive_lsn_.reset();
  return StepResult::kProgress;
}

StepResult Streamer::acknowledge() {
  WALSIM_ASSERT(acknowledge_lsn_.has_value());
  WALSIM_ASSERT(!in_transaction_, "acknowledgements come between transactions");
  // The slot releases what is acknowledged: never past what the store holds.
  WALSIM_ASSERT(*acknowledge_lsn_ <= durable_lsn_,
                "an acknowledged LSN is never past the last durable commit or keepalive");
  Status status = stream_->acknowledge(*acknowledge_lsn_);
  if (!status.is_ok()) return retry_or_fail(status);
  progress_.last_acknowledged_lsn = std::max(progress_.last_acknowledged_lsn, *acknowledge_lsn_);
  acknowledged_lsn_ = std::max(acknowledged_lsn_, *acknowledge_lsn_);
  acknowledge_lsn_.reset();
  next_ = Next::kRead;
  return StepResult::kProgress;
}

// A broken stream is dropped with everything not yet committed; the slot
// sends it again on the next stream.
void Streamer::reconnect() {
  stream_.reset();
  batch_->discard();
  changes_in_transaction_ = 0;
  truncated_tables_.clear();
  in_transaction_ = false;
  skipping_ = false;
  commit_.reset();
  keepalive_lsn_.reset();
  acknowledge_lsn_.reset();
  acknowledged_lsn_ = Lsn::zero();  // a new session is told again
  acknowledged_early_ = false;
  tables_to_withdraw_.clear();  // the next durable commit looks again
  checkpoint_unchecked_ = true;
  progress_.stream_reconnects++;
  next_ = Next::kOpen;
}

StepResult Streamer::retry_or_fail(const Status& status) {
  if (status.code() == ErrorCode::kDisconnected) {
    reconnect();
    return StepResult::kProgress;
  }
  if (status.is_retryable()) {
    progress_.retries++;
    progress_.last_retried = status;
    return StepResult::kProgress;  // the same step runs again
  }
  return fail(status);
}

StepResult Streamer::fail(const Status& status) {
  if (fatal_error_.is_ok()) fatal_error_ = status;
  return StepResult::kFailed;
}

}  // namespace walsim
