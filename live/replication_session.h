// ReplicationSession: `walsim replicate` without the command line. It
// checks the source, the rules and the store, pairs the store with its
// replication slot, and runs the engine in a LiveRuntime until told to
// stop. The CLI and the integration tests drive the same object.
//
// Nothing is written, to the store or the source, until every check has
// passed. A slot that is lost while running (dropped, or invalidated by the
// server) starts a new replication state, as at start-up, and the run goes
// on; the notify callback says so.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/replicator.h"
#include "engine/sqlite_db.h"
#include "live/live_runtime.h"
#include "live/observed_source.h"
#include "live/pg_source_connector.h"
#include "live/progress_line.h"
#include "live/slot_plan.h"
#include "live/source_monitor.h"
#include "live/wall_clock.h"

namespace walsim::live {

struct SessionConfig {
  std::string conninfo;  // postgresql:// URI or key=value pairs
  std::string store_path;
  std::string rules_path;
  std::string slot = "walsim";
  std::string publication = "walsim";
  ReplicatorOptions replicator;
  LiveRuntimeOptions runtime;
  ReaderOptions reader;  // table reads: method, statement timeout, read-ahead
  // How long start-up waits for another process to let go of the slot
  // before refusing to run.
  int64_t slot_release_wait_ms = 10'000;
  // A stop request (the stop signal's flag, or nullptr): raised during
  // start-up's wait for the slot, it ends the wait at once.
  const std::atomic<bool>* stop = nullptr;
};

class ReplicationSession {
 public:
  using Notify = std::function<void(const std::string& message)>;

  // Runs every check, then prepares the store and the slot. Errors name the
  // problem in one message; passwords never appear in them. nullptr (and no
  // error) when config.stop was raised while start-up waited for the slot:
  // nothing has been written then.
  static Result<std::unique_ptr<ReplicationSession>> open(SessionConfig config, Notify notify);
  ~ReplicationSession();

  // Runs until `control` ends it. A fatal engine error comes back as the
  // error, unless it was a lost slot, which is recovered from.
  Result<RunOutcome> run(const RunControl& control);

  // The numbers for the progress line (a few small queries).
  ProgressSample sample();

  BucketStorage& storage() { return *storage_; }
  // The current engine (a lost slot replaces it).
  Replicator& replicator() { return *replicator_; }
  const ReplicatorProgress& progress() const { return replicator_->progress(); }
  ObservedSource& source() { return source_; }
  SourceMonitor& monitor() { return monitor_; }
  const SessionConfig& config() const { return config_; }

 private:
  ReplicationSession(SessionConfig config, Notify notify, BucketRules rules);

  // false when a stop request ended start-up before anything was written.
  Result<bool> prepare();
  // nullopt when a stop request ended the wait.
  Result<std::optional<SlotState>> idle_slot_state();
  bool stop_requested() const { return config_.stop != nullptr && config_.stop->load(); }
  Status check_store_location(const std::string& path);
  Status apply_slot_plan(const SlotPlan& plan);
  Status open_storage();
  void build_replicator();
  // After a fatal error: true when the slot was lost and a new replication
  // state has been started.
  Result<bool> recover_lost_slot();

  SessionConfig config_;
  Notify notify_;
  BucketRules rules_;
  WallClock wall_clock_;
  PgSourceConnector connector_;
  SourceMonitor monitor_;
  ObservedSource source_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<BucketStorage> storage_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<LiveRuntime> runtime_;
  std::map<std::string, int64_t> row_estimates_;
  SteadyClock steady_clock_;
};

}  // namespace walsim::live
