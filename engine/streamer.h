// Streamer: applies the change stream to the store, from the first moment,
// while tables are still being copied.
//
// Each step does one thing: open the stream, read one message, or run one
// storage transaction (flush a long transaction, commit, keepalive, make
// the store durable), or acknowledge. A source
// transaction's changes are buffered in a stream batch and persisted with
// its commit, which survives a process crash but not a power loss. Group
// commit: when the stream has nothing to read, or enough transactions wait,
// one durable commit (BucketStorage::make_durable) makes every earlier
// commit survive a power loss, and only then is the end LSN it covers
// acknowledged. So a crash or a power loss at any step loses nothing the
// source was told: the slot sends again everything after the acknowledged
// position, and applying a transaction again leaves the published result
// unchanged (its commit is below last_checkpoint_lsn, so it is blocked).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/replicator_options.h"
#include "engine/source.h"
#include "engine/task.h"
#include "engine/write_batch.h"

namespace walsim {

class Snapshotter;

class Streamer : public Task {
 public:
  Streamer(BucketStorage& storage, SourceConnector& source, Snapshotter& snapshotter,
           const ReplicatorOptions& options, ReplicatorProgress& progress, Status& fatal_error);

  const std::string& name() const override { return name_; }
  StepResult step() override;

 private:
  // What the next step does, besides reading a message.
  enum class Next {
    kOpen, kRead, kFlush, kCommit, kKeepalive, kMakeDurable, kAcknowledge,
  };

  StepResult open();
  StepResult read();
  StepResult flush();
  StepResult commit();
  StepResult keepalive();
  StepResult make_durable();
  // Issue 10 part A: before a durable commit publishes a checkpoint created
  // since the last look, the catalog is asked whether every table is still
  // the member of the publication its copy started under.
  StepResult check_publication();
  StepResult withdraw_table();
  void look_again_if_stuck(bool checkpoint_blocked);
  void look_again_if_quiet();
  StepResult acknowledge();
  // After a commit, a keepalive or a transaction found applied: the store
  // holds the source up to `lsn`, durably or not yet.
  void committed_up_to(Lsn lsn, int64_t changes);

  // Message handlers: buffer changes, or pick the next step.
  void on_message(ChangeMessage message);
  void on_relation(Relation relation);
  const Relation* replicated_relation(uint32_t relid);
  void after_change();

  StepResult retry_or_fail(const Status& status);
  StepResult fail(const Status& status);
  void reconnect();

  BucketStorage& storage_;
  SourceConnector& source_;
  Snapshotter& snapshotter_;
  const ReplicatorOptions& options_;
  ReplicatorProgress& progress_;
  Status& fatal_error_;
  std::string name_ = "streamer";

  std::unique_ptr<ChangeStream> stream_;
  std::unique_ptr<WriteBatch> batch_;
  Next next_ = Next::kOpen;
  bool in_transaction_ = false;
  Lsn transaction_commit_lsn_;  // the open transaction's, from its Begin
  bool skipping_ = false;       // the open transaction was applied before
  std::optional<Lsn> last_applied_lsn_;  // as stored; read when a stream opens
  // Relations announced in this stream session, by relid. Only tables the
  // rules name are replicated; changes to others are skipped, and so are
  // changes decoded with a relation that is not the one the snapshotter
  // registered (issue 10, DDL: Snapshotter::registered_relation).
  std::map<uint32_t, Relation> relations_;
  std::vector<std::string> truncated_tables_;  // in the open transaction
  std::optional<CommitMessage> commit_;
  std::optional<Lsn> keepalive_lsn_;
  std::optional<Lsn> acknowledge_lsn_;
  // How far the store holds the source: the end LSN of the last transaction
  // this streamer committed (or found applied already), or the LSN of the
  // last keepalive it recorded. Survives a process crash, not a power loss.
  Lsn committed_lsn_;
  // How far a durable commit covers it, surviving a power loss too.
  // acknowledge() never goes past it.
  Lsn durable_lsn_;
  // What this stream session was last told (a new session starts over).
  Lsn acknowledged_lsn_;
  // Commits, and their changes, since the last durable one.
  int64_t changes_in_transaction_ = 0;  // of the open transaction
  bool acknowledged_early_ = false;     // the unsafe_ack_before_commit canary
  int64_t transactions_not_durable_ = 0;
  int64_t changes_not_durable_ = 0;
  // Issue 10 part A. Whether a checkpoint may have been created since the
  // publication was last checked (at start: the store may hold one).
  bool checkpoint_unchecked_ = true;
  // The committed LSN the catalog was last asked at (check_publication).
  Lsn publication_checked_lsn_ = Lsn::zero();
  // Tables the check found out of the publication, or back as a new member.
  std::vector<std::string> tables_to_withdraw_;
  // Tables with changes left out since the last look, decoded with another
  // relation than the stored one (see replicated_relation).
  std::set<std::string> changes_left_out_of_;
};

}  // namespace walsim
