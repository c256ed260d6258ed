#include "sim/simulation.h"

#include <memory>

#include "engine/assert.h"
#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "engine/replicator.h"
#include "engine/sqlite_db.h"
#include "sim/disk_image.h"
#include "sim/oracle.h"
#include "sim/rules_model.h"
#include "sim/scheduler.h"
#include "sim/sim_client.h"
#include "sim/sim_clock.h"
#include "sim/sim_postgres.h"
#include "sim/sim_storage_faults.h"
#include "sim/trace.h"
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
      : params_(params),
        buggify_(derive(params.seed, "faults"), params.faults),
        trace_(trace_file, observer),
        source_(SimPostgresOptions{params.read_mode, params.start_lsn, kKeepaliveIntervalMs},
                clock_, buggify_),
        workload_(params, source_),
        storage_faults_(buggify_, trace_),
        scheduler_(make_schedule_policy(params.scheduler, params.seed)) {
    source_.set_hooks(this);
  }

  ~Simulation() override {
    // Streams and readers belong to the engine; they go before the source.
    stop_engine();
    source_.set_hooks(nullptr);
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
  void run_client(size_t index, Scheduler::TaskId id);
  void run_engine_task(Scheduler::TaskId id, Task* task);
  void report_commit();
  void tell_policy_stream_applied();
  void handle_failure();
  void after_engine_change(bool force_poll);
  void advance_clock();

  void start_engine();
  void stop_engine();
  void crash(const std::string& why, std::unique_ptr<DiskImage> image);

  void begin_healing();
  bool converged() const;
  void final_check();
  std::string stall_reason();

  void fail(Violation violation) {
    if (!violation_) violation_ = std::move(violation);
  }
  RunResult result() const;

  const SimParams params_;
  SimClock clock_;
  Buggify buggify_;
  Trace trace_;
  SimPostgres source_;
  Workload workload_;
  std::unique_ptr<RulesModel> rules_model_;
  std::optional<BucketRules> rules_;
  std::unique_ptr<SqliteDb> db_;
  SimStorageFaults storage_faults_;
  std::unique_ptr<BucketStorage> storage_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<Oracle> oracle_;
  std::vector<SimClient> clients_;
  Scheduler scheduler_;

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
  std::unique_ptr<DiskImage> ack_image_;  // set: crash at this image after the step
  int64_t restarts_ = 0;
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
  auto db = SqliteDb::open(":memory:");
  if (!db.is_ok()) return fail(Violation{"setup", db.status().to_string()});
  db_ = std::move(*db);
  oracle_ = std::make_unique<Oracle>(*rules_model_, source_);

  writer_ = scheduler_.add("writer", params_.scheduler.writer_weight, TaskRole::kWriter);
  for (int i = 0; i < params_.scheduler.clients; i++) {
    clients_.emplace_back(i, derive(params_.seed, "client" + std::to_string(i)));
    client_tasks_.push_back(
        scheduler_.add("client-" + std::to_string(i), params_.scheduler.client_weight,
                       TaskRole::kClient));
  }
  start_engine();
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
  if (buggify_.fire(FaultKind::kEngineCrash)) return crash("fault:crash", nullptr);
  std::optional<Scheduler::TaskId> id = scheduler_.pick(clock_.now());
  if (!id) return advance_clock();
  if (buggify_.fire(FaultKind::kTaskStall)) {
    const int64_t until = clock_.now() + buggify_.range(100, 5000);
    scheduler_.delay(*id, until);
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

void Simulation::run_client(size_t index, Scheduler::TaskId id) {
  SimClient::Outcome outcome = clients_[index].step(*storage_, *oracle_);
  if (outcome.violation) return fail(std::move(*outcome.violation));
  if (!outcome.synced) return scheduler_.park(id);
  trace_.record("sync", oracle_->checkpoint()->lsn, oracle_->checkpoint()->op_id);
}

void Simulation::run_engine_task(Scheduler::TaskId id, Task* task) {
  const StepResult result = task->step();
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
    case StepResult::kFailed: return handle_failure();
  }
  if (ack_image_) return crash("fault:crash_at_ack", std::move(ack_image_));
  after_engine_change(false);
}

// --- what the schedule policy is told ------------------------------------------

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

// A task gave up. Transient causes (the faults this world injects) are
// the operator's to handle: restart the engine, as a supervisor would.
// Anything else, or anything once the faults have healed, is a failure.
void Simulation::handle_failure() {
  const Status error = replicator_->fatal_error();
  if (error.is_transient() && !healing_) return crash("restart after failure: " + error.to_string(), nullptr);
  fail(Violation{"engine_failed", error.is_ok() ? "a task failed without an error"
                                                : error.to_string()});
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
  const int64_t changes = sqlite3_total_changes64(db_->handle());
  if (!force_poll && changes == polled_at_changes_) return;
  polled_at_changes_ = changes;
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

void Simulation::on_acknowledge(Lsn lsn, Lsn sent) {
  if (auto violation = oracle_->on_acknowledge(lsn, sent)) fail(std::move(*violation));
  // The image is what a crash right now would leave: only committed state.
  if (ack_image_ || !sqlite3_get_autocommit(db_->handle())) return;
  if (!buggify_.fire(FaultKind::kCrashAtAck)) return;
  auto image = DiskImage::capture(db_->handle());
  if (!image.is_ok()) return fail(Violation{"setup", image.status().to_string()});
  ack_image_ = std::move(*image);
}

// --- engine lifetime ------------------------------------------------------------

void Simulation::start_engine() {
  WALSIM_ASSERT(!storage_ && !replicator_);
  BucketStorage::Options options;
  options.unsafe_hard_deletes = params_.engine.unsafe_hard_deletes;
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
  replicator_options.commit_options.create_empty_checkpoints = params_.engine.empty_checkpoints;
  replicator_ = std::make_unique<Replicator>(*storage_, source_, replicator_options);
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
}

void Simulation::stop_engine() {
  for (const auto& [id, task] : engine_tasks_) scheduler_.remove(id);
  engine_tasks_.clear();
  streamer_.reset();
  replicator_.reset();
  storage_.reset();
  // Whatever was not committed is lost with the process.
  if (db_) release_connection(db_->handle());
}

// The process dies: engine memory is gone, the SqliteDb (the disk) keeps
// what was committed, or, for a crash at an acknowledgement, exactly what
// was committed at that instant.
void Simulation::crash(const std::string& why, std::unique_ptr<DiskImage> image) {
  // A crash in the step that acknowledged happens at the acknowledgement.
  if (!image) image = std::move(ack_image_);
  trace_.record(why);
  stop_engine();
  if (image) {
    Status restored = image->restore_into(db_->handle());
    if (!restored.is_ok()) return fail(Violation{"setup", restored.to_string()});
  }
  restarts_++;
  start_engine();
  scheduler_.wake(Scheduler::kAll, /*new_input=*/true);
  if (!violation_) after_engine_change(true);  // a restored image changes no row count
}

// --- healing and liveness ------------------------------------------------------

void Simulation::begin_healing() {
  healing_ = true;
  heal_start_ = step_;
  buggify_.heal();
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
  Simulation simulation(params, trace_file, observer);
  return simulation.run(after_step);
}

}  // namespace walsim::sim
