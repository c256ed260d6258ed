#include "sim/simulation.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>

#include "engine/assert.h"
#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/probe.h"
#include "engine/replicator.h"
#include "engine/sqlite_db.h"
#include "sim/checkpoint_latency_check.h"
#include "sim/compaction.h"
#include "sim/oracle.h"
#include "sim/rules_model.h"
#include "sim/runtime_schedule_check.h"
#include "sim/scheduler.h"
#include "sim/sim_client.h"
#include "sim/sim_cluster.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_disk_faults.h"
#include "sim/sim_postgres.h"
#include "sim/sim_storage_faults.h"
#include "sim/sim_store_locks.h"
#include "sim/sim_vfs.h"
#include "sim/trace.h"
#include "sim/version_check.h"
#include "sim/workload.h"

namespace walsim::sim {

namespace {

const char* step_result_name(StepResult result) {
  switch (result) {
    case StepResult::kProgress: return "progress";
    case StepResult::kIdle: return "idle";
    case StepResult::kDone: return "done";
    case StepResult::kFailed: return "failed";
  }
  return "unknown";
}

std::string optional_text(const std::optional<int64_t>& value) {
  return value ? std::to_string(*value) : "null";
}

std::string optional_text(const std::optional<Lsn>& value) {
  return value ? value->to_string() : "null";
}

constexpr int64_t kKeepaliveIntervalMs = 10000;

// The store on the simulated disk; SQLite names its -wal after it.
constexpr const char* kStorePath = "/store.db";
constexpr const char* kStoreWalPath = "/store.db-wal";
// The -wal file may reach SQLite's automatic checkpoint threshold plus the
// transaction that crossed it (a big snapshot chunk, a truncate's
// REMOVEs); four times the threshold (frames of a 4 KiB page and a 24-byte
// header) is far past what a working store needs here, and far below where
// a -wal that is never checkpointed ends up.
constexpr int64_t kWalBytesMax = 4 * int64_t{StoreSettings::kWalAutocheckpointPages} * (4096 + 24);

// A name no other SimVfs in this process has (SQLite's VFS list is global).
std::string unique_vfs_name(uint64_t seed) {
  static uint64_t runs = 0;
  return "walsim-sim-" + std::to_string(seed) + "-" + std::to_string(++runs);
}

}  // namespace

class Simulation;

namespace {

// The run an assertion failure describes. A process runs one simulation at
// a time (a campaign runs seeds in separate worker processes).
const Simulation* g_running = nullptr;

void describe_running(std::FILE* out);

}  // namespace

class Simulation : public SourceHooks {
 public:
  Simulation(const SimParams& params, std::FILE* trace_file, TraceObserver* observer)
      : vfs_(disk_, unique_vfs_name(params.seed), {.seed = derive(params.seed, "vfs")}),
        params_(params),
        buggify_(derive(params.seed, "faults"), params.faults),
        trace_(trace_file, observer),
        source_(SimPostgresOptions{params.read_mode, params.start_lsn, kKeepaliveIntervalMs},
                clock_, buggify_),
        cluster_(source_),
        workload_(params, source_),
        disk_faults_(buggify_, trace_),
        power_prng_(derive(params.seed, "power")),
        storage_faults_(buggify_, trace_),
        scheduler_(make_schedule_policy(params.scheduler, params.seed)),
        checkpoint_latency_check_(params.engine.durable_every_transactions) {
    source_.set_hooks(this);
    disk_.set_faults(&disk_faults_);
  }

  ~Simulation() override {
    // Streams and readers belong to the engine; they go before the source,
    // and the connection before the disk it is on.
    stop_engine();
    db_.reset();
    source_.set_hooks(nullptr);
    disk_.set_faults(nullptr);
    if (g_running == this) {
      set_assertion_context(nullptr);
      g_running = nullptr;
    }
  }

  RunResult run(const StepHook& after_step);
  // For a failed assertion: the seed, the step and the last events.
  void describe(std::FILE* out) const;

  // --- SourceHooks -----------------------------------------------------------
  void on_source_event(std::string action, std::optional<Lsn> lsn) override;
  void on_acknowledge(Lsn lsn, Lsn sent) override;

 private:
  void setup();
  void step();
  void dispatch(Scheduler::TaskId id);
  void dispatch_to(Scheduler::TaskId id);
  void run_writer();
  // Issue 10 part A: the world changes.
  void change_publication();
  void heal_world();
  // Issue 10, DDL: a table dropped and re-created with other rows.
  void recreate_table(const char* why);
  void change_identity();
  void run_client(size_t index, Scheduler::TaskId id);
  void run_engine_task(Scheduler::TaskId id, Task* task);
  void report_commit();
  void tell_policy_stream_applied();
  std::optional<Violation> tell_policy_step(Scheduler::TaskId id, StepResult result,
                                            int64_t changes_before);
  void handle_failure();
  void after_engine_change(bool force_poll);
  void advance_clock();

  bool open_store();
  void start_engine();
  void stop_engine();
  // The process dies (and with `power_loss` the power goes too); the engine
  // restarts on what the disk kept.
  void crash(const std::string& why, bool power_loss = false);
  void restart_after_failure(const Status& error);
  // --- issue 10 part B: events between engine runs
  void change_world_while_down();
  bool pair_new_slot();
  void record_slot_members(const std::map<std::string, std::string>& members);
  bool lock_store();
  void start_second_writer();
  void start_with_edited_rules();
  void check_connection(const char* after);
  // Issue 11 item 3: the engine's background compaction runs once; at the
  // end, once more, and every client syncs incrementally across it.
  void compact();
  void compact_at_end();
  void count_retries(Scheduler::TaskId id, int64_t retries_before, int64_t changes_before);

  void begin_healing();
  bool converged() const;
  void final_check();
  std::string stall_reason();

  void fail(Violation violation) {
    if (!violation_) violation_ = std::move(violation);
  }
  RunResult result() const;

  // First, so SQLite's PRNG is seeded from the run before anything uses it,
  // and last to go, after every connection on it.
  SimDisk disk_;
  SimVfs vfs_;
  const SimParams params_;
  SimClock clock_;
  Buggify buggify_;
  Trace trace_;
  SimPostgres source_;
  SimCluster cluster_;  // the source as the engine sees it (issue 10 part B)
  Workload workload_;
  SimDiskFaults disk_faults_;
  Prng power_prng_;  // which sectors of a torn write keep their new bytes
  std::unique_ptr<RulesModel> rules_model_;
  std::optional<BucketRules> rules_;
  SimStoreLocks store_locks_;            // the machine's (issue 10 part B)
  std::unique_ptr<StoreLock> store_lock_;  // the engine process's
  int processes_ = 0;                     // engine processes started so far
  std::unique_ptr<SqliteDb> db_;
  SimStorageFaults storage_faults_;
  std::unique_ptr<BucketStorage> storage_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<Oracle> oracle_;
  std::deque<SimClient> clients_;  // deque: a client's view points back at it
  SimCompaction compaction_;       // issue 11 item 3
  Scheduler scheduler_;
  RuntimeScheduleCheck runtime_schedule_check_;  // issue 12, under ScheduleMode::kLive
  CheckpointLatencyCheck checkpoint_latency_check_;  // issue 12, while the writer runs

  std::optional<Scheduler::TaskId> writer_;
  std::optional<Scheduler::TaskId> running_;   // the task whose step runs now
  std::optional<Scheduler::TaskId> streamer_;  // of the engine running now
  int64_t stream_transactions_seen_ = 0;       // applied + skipped, this engine
  std::vector<std::pair<Scheduler::TaskId, Task*>> engine_tasks_;
  std::vector<Scheduler::TaskId> client_tasks_;
  std::vector<std::string> world_;

  int64_t step_ = 0;
  bool finished_ = false;
  bool healing_ = false;
  int64_t heal_start_ = 0;
  std::optional<Violation> violation_;
  // Set when the process died in the middle of a step (at an
  // acknowledgement, at a disk I/O): the engine restarts after the step.
  std::optional<SimDiskFaults::Death> died_;
  // The furthest the slot was ever confirmed to (a rewound slot forgets).
  Lsn confirmed_max_;
  // Retries in a row with no store write between them, per task name:
  // the count goes on across crashes (the new engine retries the same).
  std::map<std::string, int64_t> retries_in_a_row_;
  int64_t wal_bytes_max_ = 0;
  int64_t restarts_ = 0;
  int64_t ambiguous_commits_at_restart_ = 0;
  int64_t transactions_at_slot_ = 0;
  int64_t polled_at_changes_ = -1;
  // What convergence means, fixed when healing begins.
  std::optional<Lsn> need_checkpoint_lsn_;
  Lsn need_flush_lsn_;
};

// --- the main loop ----------------------------------------------------------
//
// Safety contract. The engine may be crashed between any two steps and at
// the instant it acknowledges; its stream may break, stall, lose an
// acknowledgement or be rewound to an acknowledged position; its table
// reads and storage writes may fail. Through all of that, whatever it
// publishes must be right: every checkpoint, the moment it appears, shows
// every bucket exactly as the rules make it from the source as of the
// checkpoint's LSN, never before every table was copied, never behind an
// earlier checkpoint; a client that syncs from any earlier checkpoint ends
// up where a fresh client does, with checksums that add up; and the engine
// acknowledges nothing it has not received, so the slot never releases
// what the store could lose (a crash at each acknowledgement proves it).
// Liveness contract. Once the writer stops and the faults heal, the engine
// must publish the source's final state and acknowledge the whole WAL
// within a bounded number of steps.
//
// One step is one scheduler decision: a fault, a clock jump, or one step
// of one task (the writer commits a transaction, an engine task makes one
// source call or storage transaction, a client syncs). After every engine
// step the oracle polls the published checkpoint, so every checkpoint is
// checked in the state it was published in.
RunResult Simulation::run(const StepHook& after_step) {
  WALSIM_ASSERT(g_running == nullptr, "one simulation at a time per process");
  g_running = this;
  set_assertion_context(describe_running);
  setup();
  while (!violation_ && !finished_) {
    step();
    if (after_step) after_step(step_);
  }
  return result();  // the context stays until the destructor: teardown is part of the run
}

// Must not assert: it runs inside a failed assertion.
void Simulation::describe(std::FILE* out) const {
  std::fprintf(out, "  simulation: seed=%llu step=%lld\n",
               static_cast<unsigned long long>(params_.seed), static_cast<long long>(step_));
  std::fprintf(out, "  last events:\n");
  for (const std::string& event : trace_.recent()) std::fprintf(out, "    %s\n", event.c_str());
}

namespace {
void describe_running(std::FILE* out) {
  if (g_running != nullptr) g_running->describe(out);
}
}  // namespace

void Simulation::setup() {
  trace_.set_context(0, "sim");
  workload_.load_initial();
  transactions_at_slot_ = static_cast<int64_t>(source_.transactions().size());
  const std::map<std::string, std::string> members_before_slot = source_.members_now();
  source_.create_slot();

  std::vector<Relation> relations;
  for (size_t t = 0; t < source_.table_count(); t++) {
    const Relation& relation = source_.table(t).relation();
    relations.push_back(relation);
    world_.push_back("table " + relation.name + " identity=" +
                     replica_identity_name(relation.identity) +
                     " columns=" + std::to_string(relation.columns.size()) +
                     " rows=" + std::to_string(source_.table(t).live_count()));
  }
  Prng rules_prng(derive(params_.seed, "rules"));
  RulesSpec spec = draw_rules(relations, rules_prng);
  const std::string yaml = rules_yaml(spec);
  for (const DefinitionSpec& definition : spec.definitions) {
    for (const QuerySpec& query : definition.queries) {
      std::string line = "rule " + definition.name + ": ";
      world_.push_back(line + query.table + (query.select_all ? " *" : "") +
                       (query.parameter_column ? " by " + *query.parameter_column : " global") +
                       (query.not_null_column ? " where " + *query.not_null_column + " not null"
                                              : ""));
    }
  }
  rules_model_ = std::make_unique<RulesModel>(std::move(spec), relations);
  auto parsed = BucketRules::parse(yaml);
  if (!parsed.is_ok()) {
    return fail(Violation{"rules_rejected", parsed.status().to_string() + "\n" + yaml});
  }
  rules_.emplace(std::move(*parsed));
  if (!lock_store() || !open_store()) return;
  oracle_ = std::make_unique<Oracle>(*rules_model_, source_);

  writer_ = scheduler_.add("writer", params_.scheduler.writer_weight, TaskRole::kWriter);
  for (int i = 0; i < params_.scheduler.clients; i++) {
    clients_.emplace_back(i, derive(params_.seed, "client" + std::to_string(i)));
    client_tasks_.push_back(
        scheduler_.add("client-" + std::to_string(i), params_.scheduler.client_weight,
                       TaskRole::kClient));
  }
  start_engine();
  if (storage_ != nullptr) record_slot_members(members_before_slot);
}

void Simulation::step() {
  step_++;
  trace_.set_context(step_, "sim");
  if (!healing_ && (workload_.done() || step_ > params_.safety_steps_max)) begin_healing();
  if (healing_) {
    if (converged()) {
      final_check();
      finished_ = true;
      return;
    }
    if (step_ - heal_start_ > params_.heal_steps_max) {
      return fail(Violation{"liveness", stall_reason()});
    }
  }
  if (buggify_.fire(FaultKind::kEngineCrash)) return crash("fault:crash");
  if (buggify_.fire(FaultKind::kPowerLoss)) return crash("fault:power_loss", true);
  if (buggify_.fire(FaultKind::kSecondWriter)) return start_second_writer();
  // Issue 10 part A: every connection to the source dies at once.
  if (buggify_.fire(FaultKind::kServerRestart)) {
    source_.restart_server();
    trace_.record("fault:server_restart", source_.head());
    scheduler_.wake(Scheduler::kEngine, /*new_input=*/true);
    return;
  }
  if (buggify_.fire(FaultKind::kCompaction)) return compact();  // issue 11 item 3
  std::optional<Scheduler::TaskId> id = scheduler_.pick(clock_.now());
  if (!id) return advance_clock();
  if (buggify_.fire(FaultKind::kTaskStall)) {
    const int64_t until = clock_.now() + buggify_.range(100, 5000);
    scheduler_.delay(*id, until);
    if (streamer_ && *id == *streamer_) runtime_schedule_check_.on_streamer_stalled();
    trace_.record("fault:task_stall " + scheduler_.name(*id) + " until_ms=" +
                  std::to_string(until));
    return;
  }
  dispatch(*id);
}

void Simulation::dispatch(Scheduler::TaskId id) {
  trace_.set_context(step_, scheduler_.name(id));
  running_ = id;
  dispatch_to(id);
  running_.reset();
}

void Simulation::dispatch_to(Scheduler::TaskId id) {
  if (writer_ && id == *writer_) return run_writer();
  for (size_t i = 0; i < client_tasks_.size(); i++) {
    if (client_tasks_[i] == id) return run_client(i, id);
  }
  for (const auto& [task_id, task] : engine_tasks_) {
    if (task_id == id) return run_engine_task(id, task);
  }
  WALSIM_ASSERT(false, "a picked task is the writer, a client or an engine task");
}

void Simulation::run_writer() {
  // --- issue 10 part A: the publication changes under the engine. ---------
  if (buggify_.fire(FaultKind::kPublicationChange)) return change_publication();
  // --- end of issue 10 part A. ----------------------------------------------
  // --- issue 10, DDL: a table dropped and re-created under the engine. -----
  if (buggify_.fire(FaultKind::kTableRecreated)) return recreate_table("fault:table_recreated");
  if (buggify_.fire(FaultKind::kIdentityChanged)) return change_identity();
  // --- end of issue 10, DDL. -------------------------------------------------
  const size_t committed_before = source_.transactions().size();
  std::string what = workload_.step();
  trace_.record(std::move(what), source_.head());
  if (source_.transactions().size() > committed_before) report_commit();
  scheduler_.wake(Scheduler::kEngine, /*new_input=*/true);
  if (workload_.done()) {
    scheduler_.remove(*writer_);
    writer_.reset();
  }
}

// --- issue 10 part A: the world changes ----------------------------------------

// ALTER PUBLICATION ... DROP TABLE of a published table, ADD TABLE of a
// dropped one: pgoutput sends nothing for either (sim_postgres.h).
void Simulation::change_publication() {
  const size_t table = static_cast<size_t>(
      buggify_.range(0, static_cast<int64_t>(source_.table_count()) - 1));
  const bool add = !source_.published(table);
  source_.set_published(table, add);
  trace_.record(std::string(add ? "fault:publication_add " : "fault:publication_drop ") +
                    source_.table(table).name(),
                source_.head());
  scheduler_.wake(Scheduler::kEngine, /*new_input=*/true);
}

// ALTER TABLE ... REPLICA IDENTITY of one table (sim_postgres.h): the engine
// must notice the new relation in the stream and copy the table again.
void Simulation::change_identity() {
  const size_t table = static_cast<size_t>(
      buggify_.range(0, static_cast<int64_t>(source_.table_count()) - 1));
  source_.change_identity(table);
  trace_.record(std::string("fault:identity_changed ") + source_.table(table).name() + " " +
                    replica_identity_name(source_.table(table).relation().identity),
                source_.head());
  scheduler_.wake(Scheduler::kEngine, /*new_input=*/true);
}

// Healing puts every table back in the publication: a table left out for
// good could never be published again, and the run could not converge.
void Simulation::heal_world() {
  for (size_t t = 0; t < source_.table_count(); t++) {
    if (source_.published(t)) continue;
    source_.set_published(t, true);
    trace_.record("heal:publication_add " + source_.table(t).name(), source_.head());
  }
}

// --- end of issue 10 part A -----------------------------------------------------

// --- issue 10, DDL -------------------------------------------------------------

// DROP TABLE and CREATE TABLE of the same name with other rows, one
// transaction (SimPostgres::recreate_table): a new relid and membership.
void Simulation::recreate_table(const char* why) {
  const size_t table = static_cast<size_t>(
      buggify_.range(0, static_cast<int64_t>(source_.table_count()) - 1));
  trace_.record(std::string(why) + " " + source_.table(table).name(), source_.head());
  trace_.record(workload_.recreate_table(table), source_.head());
  report_commit();
  scheduler_.wake(Scheduler::kEngine, /*new_input=*/true);
}

// --- end of issue 10, DDL ---------------------------------------------------------

void Simulation::run_client(size_t index, Scheduler::TaskId id) {
  SimClient::Outcome outcome = clients_[index].step(*storage_, *oracle_);
  if (outcome.violation) return fail(std::move(*outcome.violation));
  check_connection("a client's sync");
  if (!outcome.synced) return scheduler_.park(id);
  trace_.record("sync", oracle_->checkpoint()->lsn, oracle_->checkpoint()->op_id);
}

void Simulation::run_engine_task(Scheduler::TaskId id, Task* task) {
  const int64_t retries_before = replicator_->progress().retries;
  const int64_t changes_before = sqlite3_total_changes64(db_->handle());
  disk_faults_.arm(true);
  const StepResult result = task->step();
  disk_faults_.arm(false);
  if (auto death = disk_faults_.take_death()) died_ = std::move(death);
  if (auto starved = tell_policy_step(id, result, changes_before)) return fail(std::move(*starved));
  trace_.record(step_result_name(result), replicator_->progress().last_received_lsn,
                oracle_->checkpoint() ? std::optional<int64_t>(oracle_->checkpoint()->op_id)
                                      : std::nullopt);
  if (streamer_ && id == *streamer_) tell_policy_stream_applied();
  switch (result) {
    case StepResult::kProgress:
      scheduler_.reset_backoff(id);
      scheduler_.wake(Scheduler::kEngine, /*new_input=*/false);
      break;
    case StepResult::kIdle: scheduler_.park(id); break;
    case StepResult::kDone:
      scheduler_.remove(id);
      std::erase_if(engine_tasks_, [id](const auto& entry) { return entry.first == id; });
      break;
    case StepResult::kFailed:
      if (!died_) return handle_failure();
      break;  // the process died in the step; its failure is the crash's
  }
  if (died_) {
    const SimDiskFaults::Death death = *std::exchange(died_, std::nullopt);
    return crash(death.why, death.power_loss);
  }
  count_retries(id, retries_before, changes_before);
  after_engine_change(false);
  if (violation_ || healing_) return;
  if (auto starved =
          checkpoint_latency_check_.after_step(replicator_->progress(), oracle_->checkpoint())) {
    fail(std::move(*starved));
  }
}

// --- what the schedule policy is told ------------------------------------------

// An engine step's result and cost (rows it changed in the store, plus
// one), for a policy that orders the engine's tasks as live mode does; and,
// under that policy, the check that its order starves no stream.
std::optional<Violation> Simulation::tell_policy_step(Scheduler::TaskId id, StepResult result,
                                                      int64_t changes_before) {
  const int64_t cost = 1 + sqlite3_total_changes64(db_->handle()) - changes_before;
  WALSIM_ASSERT(cost >= 1, "the store's change count only grows");
  scheduler_.policy().on_step(id, result, cost);
  if (params_.scheduler.mode != ScheduleMode::kLive || healing_ || !streamer_) return std::nullopt;
  const bool streamer = id == *streamer_;
  const bool streamer_ready = streamer || scheduler_.ready_at_last_pick(*streamer_);
  return runtime_schedule_check_.on_step(id, streamer, streamer_ready, result, cost);
}

// The source reports through here. A chunk read by a snapshot worker
// ("read tK rows=N ids=A..B", sim_postgres.cc) is what a targeted policy
// waits on: the worker's next step writes that chunk.
void Simulation::on_source_event(std::string action, std::optional<Lsn> lsn) {
  const bool chunk_read = action.rfind("read t", 0) == 0 && running_ &&
                          scheduler_.role(*running_) == TaskRole::kSnapshotWorker;
  if (chunk_read) {
    const std::string name = action.substr(5, action.find(' ', 5) - 5);
    for (size_t t = 0; t < source_.table_count(); t++) {
      if (source_.table(t).name() != name) continue;
      scheduler_.policy().on_chunk_read(*running_, t, source_.recent_read_ids(t));
      break;
    }
  }
  trace_.record(std::move(action), lsn);
}

// The writer's commit, with the rows it touched: for the policy, and for
// the observer (the timeline), whose trace line names no rows.
void Simulation::report_commit() {
  const SourceTxn& txn = *source_.last_transaction();
  CommittedKeys committed{txn.commit_lsn, {}};
  for (const SourceChange& change : txn.changes) {
    for (const std::optional<Row>* image : {&change.before, &change.after}) {
      if (*image) committed.rows.push_back({change.table, (**image)[0].text});
    }
  }
  scheduler_.policy().on_source_commit(committed);
  if (TraceObserver* observer = trace_.observer()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [table, id] : committed.rows) rows.push_back({source_.table(table).name(), id});
    observer->on_commit(step_, txn.xid, rows);
  }
}

// A commit (or a skip of a transaction the store holds already) moves the
// streamer's transaction counters; the transaction is the one it received
// last. After a rewound stream that position may be ahead of what is
// applied, which only ends a targeted hold early.
void Simulation::tell_policy_stream_applied() {
  const ReplicatorProgress& progress = replicator_->progress();
  const int64_t seen = progress.transactions_applied + progress.transactions_skipped;
  if (seen == stream_transactions_seen_) return;
  stream_transactions_seen_ = seen;
  scheduler_.policy().on_stream_applied(progress.last_received_lsn);
}

// A transient error is retried; one that no retry mends must end the run.
// A task that retries step after step and writes nothing to the store in
// between is retrying a deterministic error (or waiting on a fault that
// never heals). Steps that neither retry nor write (a source read between
// two attempts) do not count as progress.
void Simulation::count_retries(Scheduler::TaskId id, int64_t retries_before,
                               int64_t changes_before) {
  constexpr int64_t kRetriesInARowMax = 500;
  const ReplicatorProgress& progress = replicator_->progress();
  int64_t& in_a_row = retries_in_a_row_[scheduler_.name(id)];
  if (progress.retries > retries_before) {
    in_a_row++;
  } else if (sqlite3_total_changes64(db_->handle()) > changes_before) {
    in_a_row = 0;
  }
  if (in_a_row <= kRetriesInARowMax) return;
  fail(Violation{"retry_unbounded",
                 scheduler_.name(id) + " retried " + std::to_string(in_a_row) +
                     " steps in a row and did nothing else; last error: " +
                     progress.last_retried.to_string() +
                     "; an error no retry mends must end the run with its message"});
}

// A task gave up. Transient causes (the faults this world injects) are
// the operator's to handle: restart the engine, as a supervisor would.
// Anything else, or anything once the faults have healed, is a failure.
void Simulation::handle_failure() {
  const Status error = replicator_->fatal_error();
  if (error.is_transient() && !healing_) return crash("restart after failure: " + error.to_string());
  if (storage_faults_.refusal() && !error.is_transient()) return restart_after_failure(error);
  fail(Violation{"engine_failed", error.is_ok() ? "a task failed without an error"
                                                : error.to_string()});
}

// The storage refused a statement (storage_refused) and the engine stopped,
// as it must: the message must say which store and which statement, so an
// operator can act. Then the operator mends it and starts the engine again.
void Simulation::restart_after_failure(const Status& error) {
  const std::string& sql = storage_faults_.refusal()->sql;
  const std::string& message = error.message();
  const bool names_store = message.find(std::string("'") + kStorePath + "'") != std::string::npos;
  const bool names_statement = message.find(sql) != std::string::npos;
  if (!names_store || !names_statement) {
    return fail(Violation{"storage_error_unclear",
                          "the engine stopped on '" + error.to_string() + "', which does not name " +
                              (names_store ? "the statement '" + sql + "'"
                                           : std::string("the store ") + kStorePath)});
  }
  // What refused the statement is mended: it is the operator's restart.
  storage_faults_.clear_refusal();
  retries_in_a_row_.clear();
  crash("stopped on a refused statement, restarted by the operator: " + error.to_string());
}

// After anything that may have changed the store: it must hold no open
// transaction between steps, and a new checkpoint is checked right away.
// A step that changed no row cannot have published one (the count of rows
// changed on the connection says so), which saves a read per idle step.
void Simulation::after_engine_change(bool force_poll) {
  if (violation_) return;
  if (!sqlite3_get_autocommit(db_->handle())) {
    db_->rollback();
    return fail(Violation{"transaction_across_steps",
                          "a storage transaction was still open after an engine step"});
  }
  check_connection("an engine step");
  if (violation_) return;
  confirmed_max_ = std::max(confirmed_max_, source_.confirmed_flush());
  const int64_t changes = sqlite3_total_changes64(db_->handle());
  if (!force_poll && changes == polled_at_changes_) return;
  polled_at_changes_ = changes;
  if (auto violation = oracle_->watch_ops(*storage_)) return fail(std::move(*violation));
  const std::optional<Checkpoint> before = oracle_->checkpoint();
  if (auto violation = oracle_->poll(*storage_)) return fail(std::move(*violation));
  const std::optional<Checkpoint>& now = oracle_->checkpoint();
  if (now && now != before) {
    trace_.record("checkpoint", now->lsn, now->op_id);
    scheduler_.wake(Scheduler::kClients, /*new_input=*/true);
  }
}

void Simulation::advance_clock() {
  int64_t next = clock_.now() + kKeepaliveIntervalMs;
  if (auto timer = scheduler_.next_timer(clock_.now())) next = std::min(next, *timer);
  clock_.advance_to(next);
  scheduler_.wake(Scheduler::kAll, /*new_input=*/true);
  trace_.record("clock now_ms=" + std::to_string(next));
}

// Between steps the engine's connection holds no statement mid-read: a
// read left open stops every SQLite checkpoint from passing it, and the
// -wal file grows without bound (it did live, from 694 MB to 1.27 GB in
// 40 s under pgbench). And the -wal file stays within what SQLite's
// automatic checkpoints allow.
void Simulation::check_connection(const char* after) {
  for (sqlite3_stmt* stmt = sqlite3_next_stmt(db_->handle(), nullptr); stmt != nullptr;
       stmt = sqlite3_next_stmt(db_->handle(), stmt)) {
    if (!sqlite3_stmt_busy(stmt)) continue;
    return fail(Violation{"read_left_open",
                          std::string("after ") + after + " the statement '" + sqlite3_sql(stmt) +
                              "' is still mid-read: its read transaction stops SQLite's"
                              " checkpoints, so the -wal file grows without bound"});
  }
  const std::optional<FileStats> wal = disk_.file(kStoreWalPath);
  if (!wal) return;
  wal_bytes_max_ = std::max(wal_bytes_max_, wal->size_bytes);
  if (wal->size_bytes <= kWalBytesMax) return;
  fail(Violation{"wal_unbounded", "after " + std::string(after) + " the -wal file holds " +
                                      std::to_string(wal->size_bytes) + " bytes, more than " +
                                      std::to_string(kWalBytesMax) +
                                      " (SQLite's checkpoints are not keeping up with it)"});
}

void Simulation::on_acknowledge(Lsn lsn, Lsn sent) {
  // A step makes one source call or one storage transaction: a process that
  // died at a disk I/O in this step sends nothing after it.
  WALSIM_ASSERT(!died_, "a dead process does not acknowledge");
  if (auto violation = oracle_->on_acknowledge(lsn, sent)) fail(std::move(*violation));
  // The process dies (or the power goes) the instant the acknowledgement is
  // sent: whatever it would write afterwards never reaches the disk.
  if (buggify_.fire(FaultKind::kCrashAtAck)) {
    died_ = SimDiskFaults::Death{"fault:crash_at_ack", false};
  } else if (buggify_.fire(FaultKind::kPowerLossAtAck)) {
    died_ = SimDiskFaults::Death{"fault:power_loss_at_ack", true};
  } else {
    return;
  }
  disk_.crash_process();
}

// --- engine lifetime ------------------------------------------------------------

// Opens the store's connection on the simulated disk, with the settings
// live mode uses. A new connection after a crash finds what the disk kept
// and recovers the -wal file from it, as after a real restart.
bool Simulation::open_store() {
  WALSIM_ASSERT(db_ == nullptr, "one connection at a time: the dead one is closed first");
  SqliteDb::Options options;
  options.vfs = vfs_.name().c_str();
  options.unsafe_no_sync = params_.engine.unsafe_no_sync;
  options.unsafe_leave_reads_open = params_.engine.unsafe_leave_reads_open;
  options.unsafe_retry_all_errors = params_.engine.unsafe_retry_all_errors;
  auto db = SqliteDb::open(kStorePath, options);
  if (!db.is_ok()) {
    fail(Violation{"engine_restart", "opening the store failed: " + db.status().to_string()});
    return false;
  }
  db_ = std::move(*db);
  return true;
}

void Simulation::start_engine() {
  WALSIM_ASSERT(!storage_ && !replicator_);
  BucketStorage::Options options;
  options.unsafe_hard_deletes = params_.engine.unsafe_hard_deletes;
  options.unsafe_publish_unsynced = params_.engine.unsafe_publish_unsynced;
  options.op_ids_reserved_ahead = params_.engine.op_ids_reserved_ahead;
  options.faults = &storage_faults_;
  auto storage = BucketStorage::open(*db_, *rules_, options);
  if (!storage.is_ok()) {
    return fail(Violation{"engine_restart", "opening the store failed: " +
                                                storage.status().to_string()});
  }
  storage_ = std::move(*storage);
  ReplicatorOptions replicator_options;
  replicator_options.snapshot_workers = params_.engine.workers;
  replicator_options.snapshot_chunk_rows = params_.engine.chunk_rows;
  replicator_options.stream_flush_changes = params_.engine.flush_changes;
  replicator_options.durable_every_transactions = params_.engine.durable_every_transactions;
  replicator_options.unsafe_ack_before_commit = params_.engine.unsafe_ack_before_commit;
  replicator_options.commit_options.create_empty_checkpoints = params_.engine.empty_checkpoints;
  // The slot the store followed is gone (issue 10 part B).
  if (!source_.has_slot() && !pair_new_slot()) return;
  replicator_ = std::make_unique<Replicator>(*storage_, cluster_, replicator_options);
  std::vector<Task*> tasks = replicator_->tasks();
  stream_transactions_seen_ = 0;
  for (size_t i = 0; i < tasks.size(); i++) {
    // Replicator::tasks() lists the streamer first.
    const bool streamer = i == 0;
    const uint32_t weight =
        streamer ? params_.scheduler.streamer_weight : params_.scheduler.snapshot_weight;
    const TaskRole role = streamer ? TaskRole::kStreamer : TaskRole::kSnapshotWorker;
    engine_tasks_.push_back({scheduler_.add(tasks[i]->name(), weight, role), tasks[i]});
    if (streamer) streamer_ = engine_tasks_.back().first;
  }
  runtime_schedule_check_.start_engine();
  checkpoint_latency_check_.start_engine();
}

void Simulation::stop_engine() {
  for (const auto& [id, task] : engine_tasks_) scheduler_.remove(id);
  engine_tasks_.clear();
  streamer_.reset();
  replicator_.reset();
  storage_.reset();
}

// The process dies: engine memory is gone and so is its connection (closing
// a dead connection writes nothing); the disk keeps every write the OS
// accepted, synced or not. A new process opens the store and starts the
// engine on it.
void Simulation::crash(const std::string& why, bool power_loss) {
  trace_.record(why);
  // The rare path "sim_ambiguous_commit_found_committed", counted from
  // what the oracle read anyway (an extra read here would change seeds):
  // an ambiguous commit fired in the dying process, and the store the next
  // one recovers holds ops newer than any the oracle saw it hold.
  const int64_t ambiguous = buggify_.fired(FaultKind::kAmbiguousCommit);
  const bool ambiguous_in_process = ambiguous > ambiguous_commits_at_restart_;
  ambiguous_commits_at_restart_ = ambiguous;
  const int64_t op_seen_before = oracle_->watched_up_to_op();
  confirmed_max_ = std::max(confirmed_max_, source_.confirmed_flush());
  disk_.crash_process();
  stop_engine();
  db_.reset();
  if (power_loss) {
    const bool tear = buggify_.range(0, 1) == 1;
    const PowerLossReport lost = disk_.power_loss(power_prng_, tear);
    trace_.record("power lost: tear=" + std::to_string(tear) +
                  " files_reverted=" + std::to_string(lost.files_reverted) +
                  " files_vanished=" + std::to_string(lost.files_vanished) +
                  " bytes_lost=" + std::to_string(lost.bytes_lost) +
                  " torn_writes=" + std::to_string(lost.torn_writes));
  }
  store_lock_.reset();  // the kernel releases a dead process's lock
  change_world_while_down();
  restarts_++;
  if (!lock_store() || !open_store()) return;
  // A new slot makes the new engine write REMOVE ops before it runs.
  const bool same_slot = source_.has_slot();
  const bool rules_edited = buggify_.fire(FaultKind::kRulesEdited);
  if (rules_edited) start_with_edited_rules();
  if (violation_) return;
  start_engine();
  if (violation_) return;
  if (auto violation = oracle_->after_restart(*storage_, confirmed_max_, power_loss)) {
    return fail(std::move(*violation));
  }
  if (ambiguous_in_process && same_slot && !rules_edited &&
      oracle_->watched_up_to_op() > op_seen_before) {
    WALSIM_PROBE("sim_ambiguous_commit_found_committed");
  }
  scheduler_.wake(Scheduler::kAll, /*new_input=*/true);
  after_engine_change(true);  // a new connection counts changes from 0
}

// --- issue 10 part B: events while the engine is down --------------------------

// What may happen to the source between two engine runs: the slot is
// dropped (an operator, max_slot_wal_keep_size), or the whole cluster is
// replaced by a fresh one restored from a dump, whose LSNs start lower
// than anything the store holds. Either way the store's slot is gone.
void Simulation::change_world_while_down() {
  // Issue 10, DDL: dropped, re-created and refilled while walsim was down.
  if (buggify_.fire(FaultKind::kTableRecreatedWhileDown)) {
    recreate_table("fault:table_recreated_while_down");
  }
  if (!source_.has_slot()) return;
  if (buggify_.fire(FaultKind::kSlotDropped)) {
    trace_.record("fault:slot_dropped", source_.confirmed_flush());
    source_.drop_slot();
    return;
  }
  const Lsn head = cluster_.to_cluster(source_.head());
  if (head.value() <= 0x2000 || !buggify_.fire(FaultKind::kFreshCluster)) return;
  const Lsn start(std::max<uint64_t>(0x1000, head.value() / buggify_.range(2, 8)));
  trace_.record("fault:fresh_cluster start=" + start.to_string() + " was=" + head.to_string(),
                source_.head());
  source_.drop_slot();
  cluster_.replace(start);
}

// What live's slot plan does (live/slot_plan.h) when the slot the store
// follows is gone: reset the store's replication state first, then create
// a new slot at the head. The reset is retried through storage faults, as
// the operator's next start would retry it; it writes a REMOVE per stored
// row in one transaction, which refused statements may fail every time,
// so after a few tries it runs without the statement hook (the operator
// mended the store, as in restart_after_failure).
bool Simulation::pair_new_slot() {
  // A checkpoint the dead process published in its last step is checked
  // first, against the store as it left it (the reset clears snapshot_done).
  if (auto violation = oracle_->poll(*storage_)) {
    fail(std::move(*violation));
    return false;
  }
  constexpr int kAttemptsWithFaults = 10;
  Status reset = Status::ok();
  for (int attempt = 0; attempt <= kAttemptsWithFaults; attempt++) {
    if (attempt == kAttemptsWithFaults) {
      BucketStorage::Options options = storage_->options();
      options.faults = nullptr;
      auto mended = BucketStorage::open(*db_, *rules_, options);
      reset = mended.is_ok() ? (*mended)->start_new_replication_state() : mended.status();
      break;
    }
    reset = storage_->start_new_replication_state();
    if (reset.is_ok()) break;
    if (storage_faults_.refusal()) storage_faults_.clear_refusal();
    else if (!reset.is_transient()) break;
  }
  if (!reset.is_ok()) {
    fail(Violation{"engine_restart", "resetting the store for a new slot failed: " +
                                         reset.to_string()});
    return false;
  }
  trace_.record("store reset for a new slot");
  // A checkpoint published before the reset is in the old cluster's
  // numbering; the reset publishes none, and every later one is the new
  // cluster's.
  oracle_->set_cluster_offset(cluster_.offset());
  const std::map<std::string, std::string> members_before_slot = source_.members_now();
  source_.create_slot();
  record_slot_members(members_before_slot);
  return true;
}

// What live's slot pairing records after it creates a slot
// (BucketStorage::set_slot_members). Tried once: if a storage fault fails
// it, the first copies wait for the stream, as after a live crash between
// the slot and the record.
void Simulation::record_slot_members(const std::map<std::string, std::string>& members) {
  WALSIM_ASSERT(storage_ != nullptr, "the store is open");
  Status recorded = storage_->set_slot_members(members);
  if (recorded.is_ok()) return;
  if (storage_faults_.refusal()) storage_faults_.clear_refusal();
  trace_.record("slot members not recorded: " + recorded.to_string());
}

// One writer per store (engine/store_lock.h): each engine process takes
// the store's lock before it opens the store, as `walsim replicate` does.
bool Simulation::lock_store() {
  store_locks_.set_process(++processes_);
  auto lock = store_locks_.acquire(kStorePath);
  if (!lock.is_ok()) {
    fail(Violation{"engine_restart", "the engine could not lock its store: " +
                                         lock.status().to_string()});
    return false;
  }
  store_lock_ = std::move(*lock);
  return true;
}

// A second `walsim replicate` on the same store, while the engine runs: it
// must be refused before it opens the store, with a message that says the
// store is in use, and the running engine goes on untouched.
void Simulation::start_second_writer() {
  store_locks_.set_process(processes_ + 1);
  auto second = store_locks_.acquire(kStorePath);
  if (second.is_ok()) {
    return fail(Violation{"second_writer", "a second writer got the lock of store " +
                                               std::string(kStorePath) + " while process " +
                                               std::to_string(processes_) + " held it"});
  }
  const std::string& message = second.status().message();
  trace_.record("fault:second_writer refused: " + message);
  const bool clear = second.status().code() == ErrorCode::kFailedPrecondition &&
                     message.find(std::string("'") + kStorePath + "' is in use") != std::string::npos;
  if (!clear) fail(Violation{"second_writer", "the second writer was refused unclearly: " +
                                                   second.status().to_string()});
}

namespace {

// Whether `message` lists `name` after `label` ("changed: a, b; ...").
bool lists(const std::string& message, const std::string& label, const std::string& name) {
  const size_t start = message.find(label);
  if (start == std::string::npos) return false;
  const size_t from = start + label.size();
  const std::string items = message.substr(from, message.find_first_of(";)", from) - from);
  size_t at = 0;
  for (size_t comma; (comma = items.find(", ", at)) != std::string::npos; at = comma + 2) {
    if (items.substr(at, comma - at) == name) return true;
  }
  return items.substr(at) == name;
}

}  // namespace

// The operator starts the engine with an edited rules file on the store
// built with the seed's rules. Until rules versions exist (issue 11) the
// start must be refused, naming each definition the edit added, changed or
// removed; then the operator puts the old rules back, so the rules in
// force (the oracle's) stay the seed's.
void Simulation::start_with_edited_rules() {
  Prng prng(derive(params_.seed, "rules_edit" + std::to_string(restarts_)));
  const RulesEdit edit = edit_rules(rules_model_->spec(), prng);
  const std::string yaml = rules_yaml(edit.spec);
  auto edited = BucketRules::parse(yaml);
  if (!edited.is_ok()) {
    return fail(Violation{"rules_rejected", edited.status().to_string() + "\n" + yaml});
  }
  trace_.record("fault:rules_edited " + edit.description);
  BucketStorage::Options options;
  options.op_ids_reserved_ahead = params_.engine.op_ids_reserved_ahead;
  auto storage = BucketStorage::open(*db_, *edited, options);
  if (storage.is_ok()) {
    return fail(Violation{"rules_change_accepted",
                          "the engine started with edited rules (" + edit.description +
                              ") on a store built with other rules, and accepted them"});
  }
  const std::string& message = storage.status().message();
  trace_.record("rules refused: " + message);
  bool clear = storage.status().code() == ErrorCode::kInvalidArgument;
  for (const std::string& name : edit.added) clear = clear && lists(message, "new definitions: ", name);
  for (const std::string& name : edit.changed) clear = clear && lists(message, "changed: ", name);
  for (const std::string& name : edit.removed) clear = clear && lists(message, "removed: ", name);
  if (!clear) {
    return fail(Violation{"rules_change_unclear", "after the edit (" + edit.description +
                                                      ") the start was refused with '" +
                                                      storage.status().to_string() +
                                                      "', which does not say what changed"});
  }
  // --- issue 11 (rules versions): the refusal recorded nothing, and the
  // store's plan for the edit is the model's (sim/version_check.h).
  // The engine is down: a reader's storage (no rules, so nothing checked
  // or recorded) reads the store.
  static const BucketRules kReader;
  auto reader = BucketStorage::open(*db_, kReader, options);
  if (!reader.is_ok()) return;  // the engine's start will meet the same error
  if (auto violation = check_versions_after_refused_edit(**reader, *rules_, rules_model_->spec(),
                                                         edit, *edited)) {
    fail(std::move(*violation));
  }
  // --- end of issue 11's block
}

// --- issue 11 item 3: compaction ------------------------------------------------

// What replicate's background compaction does between two task steps: every
// bucket compacted up to the published checkpoint, one write transaction
// each, on the engine's connection, with the storage and disk faults on. A
// transient failure ends this round (the next one goes on); a refused
// statement stops the engine as any task's would; a death at a disk I/O is
// a crash. The invariants (sim/compaction.h) are checked on what it left.
void Simulation::compact() {
  if (!storage_ || !replicator_ || !oracle_) return;  // the engine is not running
  std::optional<SimCompaction::Before> before;
  if (auto violation = compaction_.record(*storage_, &before)) return fail(std::move(*violation));
  if (!before) return;  // nothing published: nothing a client may sync to
  disk_faults_.arm(true);
  Result<CompactionStats> stats = storage_->compact(std::nullopt);
  disk_faults_.arm(false);
  trace_.record("fault:" + compaction_.count(stats));
  if (auto death = disk_faults_.take_death()) return crash(death->why, death->power_loss);
  if (!stats.is_ok() && !stats.status().is_transient()) {
    if (storage_faults_.refusal()) return restart_after_failure(stats.status());
    return fail(Violation{"compaction_failed", stats.status().to_string()});
  }
  if (auto violation = compaction_.check(*storage_, *before, *oracle_)) {
    return fail(std::move(*violation));
  }
  after_engine_change(true);
}

// With compaction on for this seed, the converged store is compacted once
// more (the faults have healed) and every client, wherever it last synced,
// syncs incrementally across it to the final checkpoint: it must hold what
// a fresh client holds (client_convergence), with checksums that add up.
void Simulation::compact_at_end() {
  if (params_.faults[static_cast<size_t>(FaultKind::kCompaction)] == 0) return;
  compact();
  for (SimClient& client : clients_) {
    if (violation_) return;
    SimClient::Outcome outcome = client.catch_up(*storage_, *oracle_);
    if (outcome.violation) return fail(std::move(*outcome.violation));
  }
  int64_t across = 0;
  for (const SimClient& client : clients_) across += client.syncs_across_compaction();
  trace_.record("compaction at the end: " + std::to_string(compaction_.runs()) + " runs, " +
                std::to_string(compaction_.ops_moved()) + " ops moved, " +
                std::to_string(compaction_.ops_deleted()) + " folded into CLEARs; " +
                std::to_string(across) + " client syncs across a compaction");
}

// --- end of issue 11 item 3 ---------------------------------------------------------

// --- healing and liveness ------------------------------------------------------

void Simulation::begin_healing() {
  healing_ = true;
  heal_start_ = step_;
  buggify_.heal();
  heal_world();  // issue 10 part A
  scheduler_.policy().on_heal();
  if (writer_) {
    scheduler_.remove(*writer_);
    writer_.reset();
  }
  // Converged means: a checkpoint shows the final state (with empty
  // checkpoints on, one at the last commit at least), and the slot has
  // been acknowledged to the end of the WAL's last transaction.
  const std::vector<SourceTxn>& wal = source_.transactions();
  need_flush_lsn_ = source_.slot_start();
  need_checkpoint_lsn_.reset();
  for (size_t i = wal.size(); i-- > 0;) {
    if (oracle_->expected().changes_buckets(wal[i])) {
      need_checkpoint_lsn_ = wal[i].commit_lsn;
      break;
    }
  }
  if (static_cast<int64_t>(wal.size()) > transactions_at_slot_) {
    need_flush_lsn_ = wal.back().end_lsn;
    if (params_.engine.empty_checkpoints) {
      need_checkpoint_lsn_ = std::max(need_checkpoint_lsn_.value_or(Lsn::zero()),
                                      wal.back().commit_lsn);
    }
  }
  trace_.record("heal need_checkpoint=" + optional_text(need_checkpoint_lsn_) +
                    " need_flush=" + need_flush_lsn_.to_string(),
                source_.head());
  scheduler_.wake(Scheduler::kAll, /*new_input=*/true);
}

bool Simulation::converged() const {
  if (source_.confirmed_flush() < need_flush_lsn_) return false;
  if (!need_checkpoint_lsn_) return true;
  const std::optional<Checkpoint>& checkpoint = oracle_->checkpoint();
  return checkpoint && checkpoint->lsn >= *need_checkpoint_lsn_;
}

// The final state, read the way a brand-new client reads it.
void Simulation::final_check() {
  const std::optional<Checkpoint>& checkpoint = oracle_->checkpoint();
  if (!checkpoint) return;
  compact_at_end();  // issue 11 item 3
  if (violation_) return;
  BucketView fresh;
  if (auto violation = fresh.sync(*storage_, checkpoint->op_id, nullptr)) return fail(*violation);
  if (auto difference = first_difference(oracle_->expected().buckets(), fresh.buckets(), nullptr)) {
    return fail(Violation{"final_state", "at checkpoint op " + std::to_string(checkpoint->op_id) +
                                             " lsn " + checkpoint->lsn.to_string() + ": " +
                                             oracle_->describe(*difference)});
  }
  if (auto violation = check_checksums(*storage_, fresh, nullptr)) fail(std::move(*violation));
}

std::string Simulation::stall_reason() {
  const std::optional<Checkpoint>& checkpoint = oracle_->checkpoint();
  std::string reason = "the engine did not converge within " +
                       std::to_string(params_.heal_steps_max) + " healing steps: need checkpoint lsn >= " +
                       optional_text(need_checkpoint_lsn_) + ", have " +
                       (checkpoint ? "op " + std::to_string(checkpoint->op_id) + " lsn " +
                                         checkpoint->lsn.to_string()
                                   : std::string("no checkpoint")) +
                       "; need slot flush >= " + need_flush_lsn_.to_string() + ", have " +
                       source_.confirmed_flush().to_string() +
                       "; source head " + source_.head().to_string();
  if (auto state = storage_->replication_state(); state.is_ok()) {
    reason += "; store: snapshot_done=" + std::string(state->snapshot_done ? "true" : "false") +
              " last_checkpoint=" + optional_text(state->last_checkpoint) +
              " last_checkpoint_lsn=" + optional_text(state->last_checkpoint_lsn) +
              " no_checkpoint_before=" + optional_text(state->no_checkpoint_before) +
              " keepalive_op=" + optional_text(state->keepalive_op);
  }
  if (auto tables = storage_->tables(); tables.is_ok()) {
    std::string pending;
    for (const TableState& table : *tables) {
      if (table.snapshot_done) continue;
      pending += " " + table.table + "(rows_copied=" + std::to_string(table.rows_copied) +
                 " generation=" + std::to_string(table.generation) + ")";
    }
    reason += "; tables not done:" + (pending.empty() ? std::string(" none") : pending);
  }
  const ReplicatorProgress& progress = replicator_->progress();
  reason += "; engine since last restart: received=" + progress.last_received_lsn.to_string() +
            " acknowledged=" + progress.last_acknowledged_lsn.to_string() +
            " reconnects=" + std::to_string(progress.stream_reconnects) +
            " retries=" + std::to_string(progress.retries) +
            " all_snapshots_done=" + (progress.all_snapshots_done ? "true" : "false") +
            " fatal=" + replicator_->fatal_error().to_string();
  return reason;
}

RunResult Simulation::result() const {
  RunResult result;
  result.violation = violation_;
  RunStats& stats = result.stats;
  stats.steps = step_;
  stats.heal_steps = healing_ ? step_ - heal_start_ : 0;
  stats.transactions = static_cast<int64_t>(source_.transactions().size()) - transactions_at_slot_;
  stats.checkpoints = oracle_ ? oracle_->checkpoints_checked() : 0;
  stats.engine_restarts = restarts_;
  for (const SimClient& client : clients_) stats.client_syncs += client.syncs();
  stats.stream_sessions = source_.sessions_opened();
  stats.sim_time_ms = clock_.now();
  if (oracle_ && oracle_->checkpoint()) {
    stats.final_op = oracle_->checkpoint()->op_id;
    stats.final_lsn = oracle_->checkpoint()->lsn;
  }
  stats.wal_bytes_max = wal_bytes_max_;
  stats.trace_events = trace_.events();
  stats.trace_hash = trace_.hash();
  for (size_t i = 0; i < kFaultKinds; i++) {
    result.faults_fired[i] = buggify_.fired(static_cast<FaultKind>(i));
  }
  result.faults_summary = buggify_.describe_fired();
  result.world = world_;
  result.recent_events = trace_.recent();
  return result;
}

// SQLite keeps memory statistics by default, behind a global mutex taken
// on every allocation it makes; the engine reads none of them, and a run
// allocates for every row. Turned off before SQLite's first use in the
// process; once SQLite is initialized (a test opened a store first) the
// call is refused and nothing changes. A speed-up only: no run sees it.
void skip_sqlite_memory_statistics() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

RunResult run_simulation(const SimParams& params, std::FILE* trace_file,
                         const StepHook& after_step, TraceObserver* observer) {
  skip_sqlite_memory_statistics();
  probe::reset();  // the counts are per process; a run counts its own
  RunResult result;
  {
    Simulation simulation(params, trace_file, observer);
    result = simulation.run(after_step);
  }
  result.probe_hits = probe::counts();
  return result;
}

}  // namespace walsim::sim
