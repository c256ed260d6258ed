#include "live/replication_session.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include "live/preflight.h"
#include "live/store_slot.h"

namespace walsim::live {

Result<std::unique_ptr<ReplicationSession>> ReplicationSession::open(SessionConfig config,
                                                                     Notify notify) {
  WALSIM_ASSIGN_OR_RETURN(BucketRules rules, BucketRules::load_file(config.rules_path));
  if (rules.tables().empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  config.rules_path + ": the rules name no tables: nothing to replicate");
  }
  std::unique_ptr<ReplicationSession> session(
      new ReplicationSession(std::move(config), std::move(notify), std::move(rules)));
  WALSIM_ASSIGN_OR_RETURN(bool prepared, session->prepare());
  if (!prepared) return std::unique_ptr<ReplicationSession>();
  return session;
}

ReplicationSession::ReplicationSession(SessionConfig config, Notify notify, BucketRules rules)
    : config_(std::move(config)),
      notify_(notify ? std::move(notify) : [](const std::string&) {}),
      rules_(std::move(rules)),
      // The store is paired with one slot: the stream must never quietly
      // start from a new one (see slot_plan.h).
      connector_(config_.conninfo, config_.slot, config_.publication, &wall_clock_,
                 SlotPolicy::kRequireExisting),
      monitor_(config_.conninfo),
      source_(connector_) {
  connector_.set_reader_options(config_.reader);
}

ReplicationSession::~ReplicationSession() {
  // The runtime and the replicator point into the storage: they go first.
  runtime_.reset();
  replicator_.reset();
  storage_.reset();
  db_.reset();
}

Result<bool> ReplicationSession::prepare() {
  WALSIM_ASSIGN_OR_RETURN(StoreFacts facts, probe_store(config_.store_path));
  if (!facts.slot_name && !facts.has_tables) {
    WALSIM_RETURN_IF_ERROR(check_store_location(config_.store_path));
  }
  WALSIM_RETURN_IF_ERROR(check_source(connector_, monitor_, rules_).status());
  WALSIM_ASSIGN_OR_RETURN(std::optional<SlotState> state, idle_slot_state());
  if (!state) return false;
  WALSIM_ASSIGN_OR_RETURN(SlotPlan plan,
                          plan_slot(facts.slot_name, facts.has_tables, config_.slot, *state));
  // Every check passed: from here on, things are written.
  WALSIM_RETURN_IF_ERROR(apply_slot_plan(plan));
  Result<std::map<std::string, int64_t>> estimates = monitor_.row_estimates(rules_.tables());
  if (estimates.is_ok()) row_estimates_ = std::move(estimates).value();
  build_replicator();
  return true;
}

// A slot in use means another process streams from it: another walsim on
// this store, or the server process of one that just died, which exits
// within moments. Waiting a little tells the two apart.
Result<std::optional<SlotState>> ReplicationSession::idle_slot_state() {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(config_.slot_release_wait_ms);
  bool told = false;
  for (;;) {
    WALSIM_ASSIGN_OR_RETURN(SlotState state, monitor_.slot_state(config_.slot));
    if (!state.active_pid) return std::optional<SlotState>(state);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(ErrorCode::kFailedPrecondition,
                    "replication slot '" + config_.slot + "' is in use by server process " +
                        std::to_string(*state.active_pid) +
                        ": is another walsim replicating through it?");
    }
    if (!told) {
      notify_("replication slot '" + config_.slot + "' is in use by server process " +
              std::to_string(*state.active_pid) + ": waiting up to " +
              std::to_string(config_.slot_release_wait_ms / 1000) + " s for it to be released");
      told = true;
    }
    // A stop request is looked at every 50 ms: Ctrl-C ends the wait at once.
    for (int slice = 0; slice < 4; slice++) {
      if (stop_requested()) return std::optional<SlotState>();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

// A new store is created only after the checks; find out now whether that
// can work, rather than after the slot exists.
Status ReplicationSession::check_store_location(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  if (::access(parent.c_str(), W_OK) == 0) return Status::ok();
  return Status(ErrorCode::kInvalidArgument, "cannot create the store '" + path +
                                                 "': directory '" + parent.string() +
                                                 "' does not exist or is not writable");
}

// Order matters for crashes: the store is reset before the slot changes, and
// records the slot last, so an interrupted start is simply redone.
Status ReplicationSession::apply_slot_plan(const SlotPlan& plan) {
  if (!plan.notice.empty()) notify_(plan.notice);
  if (plan.reset_store) {
    WALSIM_RETURN_IF_ERROR(open_storage());
    WALSIM_RETURN_IF_ERROR(storage_->start_new_replication_state());
  }
  if (plan.action == SlotAction::kRecreate) WALSIM_RETURN_IF_ERROR(connector_.drop_slot());
  // Read before the slot exists: a table still of the same membership when
  // its copy starts was published for all of the new slot's stream
  // (BucketStorage::set_slot_members), so its copy need not wait for it.
  std::optional<std::map<std::string, std::string>> members_before_slot;
  if (plan.action != SlotAction::kResume) {
    WALSIM_ASSIGN_OR_RETURN(members_before_slot, connector_.publication_members(rules_.tables()));
    WALSIM_ASSIGN_OR_RETURN(bool created, connector_.ensure_slot());
    // A slot another process created first may be older than the read.
    if (!created) members_before_slot.reset();
    notify_("created replication slot '" + config_.slot + "'");
  } else {
    notify_("resuming from replication slot '" + config_.slot + "'");
  }
  WALSIM_RETURN_IF_ERROR(open_storage());
  if (members_before_slot) WALSIM_RETURN_IF_ERROR(storage_->set_slot_members(*members_before_slot));
  return storage_->set_slot_name(config_.slot);
}

Status ReplicationSession::open_storage() {
  if (storage_) return Status::ok();
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::open(config_.store_path));
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<BucketStorage> storage,
                          BucketStorage::open(*db, rules_, {}));
  db_ = std::move(db);
  storage_ = std::move(storage);
  return Status::ok();
}

void ReplicationSession::build_replicator() {
  WALSIM_ASSERT(storage_ != nullptr, "the store opens before the engine that writes it");
  runtime_.reset();
  replicator_ = std::make_unique<Replicator>(*storage_, source_, config_.replicator);
  RuntimeIo io{[this] { return source_.stream_socket(); },
               [this] { (void)monitor_.ping().is_ok(); },
               nullptr,
               [this] { return source_.reader_wakeup_fd(); },
               [this] { source_.drain_reader_wakeup(); },
               [this] { source_.keep_stream_alive(); }};
  runtime_ = std::make_unique<LiveRuntime>(*replicator_, std::move(io), config_.runtime);
}

Result<RunOutcome> ReplicationSession::run(const RunControl& control) {
  for (;;) {
    WALSIM_ASSERT(runtime_ != nullptr && replicator_ != nullptr);
    RunOutcome outcome = runtime_->run(control);
    if (outcome != RunOutcome::kFailed) return outcome;
    Status fatal = replicator_->fatal_error();
    WALSIM_ASSERT(!fatal.is_ok(), "a failed run names its error");
    Result<bool> recovered = recover_lost_slot();
    if (!recovered.is_ok() || !*recovered) return fatal;
  }
}

Result<bool> ReplicationSession::recover_lost_slot() {
  WALSIM_ASSIGN_OR_RETURN(SlotState state, monitor_.slot_state(config_.slot));
  WALSIM_ASSIGN_OR_RETURN(SlotPlan plan, plan_slot(config_.slot, true, config_.slot, state));
  if (plan.action == SlotAction::kResume) return false;
  // The engine's objects hold nothing durable: drop them before the reset.
  runtime_.reset();
  replicator_.reset();
  WALSIM_RETURN_IF_ERROR(apply_slot_plan(plan));
  build_replicator();
  return true;
}

ProgressSample ReplicationSession::sample() {
  ProgressSample sample;
  sample.at_ms = steady_clock_.now_ms();
  if (Result<std::vector<TableState>> tables = storage_->tables(); tables.is_ok()) {
    for (const TableState& table : *tables) {
      TableProgress entry{table.table, table.snapshot_done, table.rows_copied, std::nullopt};
      if (auto found = row_estimates_.find(table.table); found != row_estimates_.end()) {
        entry.estimated_rows = found->second;
      }
      sample.tables.push_back(std::move(entry));
    }
  }
  if (Result<ReplicationState> state = storage_->replication_state(); state.is_ok()) {
    sample.snapshots_done = state->snapshot_done;
  }
  if (Result<std::optional<Checkpoint>> checkpoint = storage_->checkpoint(); checkpoint.is_ok()) {
    sample.checkpoint = *checkpoint;
  }
  if (Result<SourcePosition> position = monitor_.position(config_.slot); position.is_ok()) {
    if (position->confirmed && position->current >= *position->confirmed) {
      sample.lag_bytes = position->current.value() - position->confirmed->value();
    }
  }
  sample.snapshot_rows = progress().snapshot_rows_copied;
  sample.changes = progress().changes_applied;
  if (source_.last_error()) sample.waiting = source_.last_error()->message();
  // A full disk shows here, not only as 0 rows/s and a growing lag.
  sample.store_error = storage_->write_error();
  return sample;
}

}  // namespace walsim::live
