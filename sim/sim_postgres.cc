#include "sim/sim_postgres.h"

#include <algorithm>
#include <map>

#include "engine/assert.h"

namespace walsim::sim {

namespace {

// WAL bytes per record: enough to make LSNs look like Postgres's and to
// keep a transaction's commit LSN and end LSN apart.
constexpr uint64_t kBeginBytes = 0x28;
constexpr uint64_t kChangeBytes = 0x48;
constexpr uint64_t kCommitBytes = 0x30;

const std::string kSlotActiveMessage =
    "replication slot \"walsim\" is active for PID 4242";

Status io_error(const std::string& what) {
  return Status(ErrorCode::kIoError, what);
}

}  // namespace

const char* read_mode_name(ReadMode mode) {
  return mode == ReadMode::kSnapshot ? "snapshot" : "read_committed";
}

// ---------------------------------------------------------------------------
// SimChangeStream: one session on the slot (START_REPLICATION ... CopyBoth).

class SimChangeStream : public ChangeStream {
 public:
  SimChangeStream(SimPostgres& source, Lsn start)
      : source_(source),
        next_txn_(source.first_txn_after(start)),
        received_(start),
        last_keepalive_(start),
        next_keepalive_ms_(source.clock_.now() + source.options_.keepalive_interval_ms) {}

  ~SimChangeStream() override { drop(); }

  // The server went away (issue 10 part A): the session is over.
  void kill() { drop(); }

  Result<std::optional<ChangeMessage>> next() override {
    if (gone_) return disconnected();
    if (source_.buggify_.fire(FaultKind::kStreamDisconnect)) {
      source_.event("fault:disconnect");
      drop();
      return disconnected();
    }
    if (pending_index_ < pending_.size()) {
      if (source_.buggify_.fire(FaultKind::kStreamStall)) {
        source_.event("fault:stream_stall");
        return std::optional<ChangeMessage>();
      }
      return std::optional<ChangeMessage>(deliver());
    }
    if (next_txn_ < source_.wal_.size()) {
      load(source_.wal_[next_txn_++]);
      return std::optional<ChangeMessage>(deliver());
    }
    return idle();
  }

  Status acknowledge(Lsn flush_lsn) override {
    if (gone_) return disconnected();
    if (source_.buggify_.fire(FaultKind::kAckLost)) {
      source_.event("fault:ack_lost", flush_lsn);
      drop();
      return disconnected();
    }
    source_.event("ack", flush_lsn);
    if (source_.hooks_) source_.hooks_->on_acknowledge(flush_lsn, source_.sent_max_);
    // Postgres ignores a flush position behind the slot's.
    source_.confirmed_flush_ = std::max(source_.confirmed_flush_, flush_lsn);
    return Status::ok();
  }

 private:
  // Queues the transaction's messages as pgoutput orders them: Begin, a
  // Relation before each table's first change in this session, the
  // changes, Commit.
  void load(const SourceTxn& txn) {
    WALSIM_ASSERT(pending_index_ == pending_.size());
    pending_.clear();
    pending_index_ = 0;
    pending_.push_back(BeginMessage{txn.commit_lsn, txn.xid});
    for (const ChangeMessage& message : txn.messages) {
      for (uint32_t relid : relids_of(message)) announce(txn, relid);
      pending_.push_back(message);
    }
    pending_.push_back(CommitMessage{txn.commit_lsn, txn.end_lsn});
  }

  // The relation as of the transaction (SourceTxn::relations): sent before
  // its first change in the session, and again when it changed.
  void announce(const SourceTxn& txn, uint32_t relid) {
    auto found = txn.relations.find(relid);
    if (found == txn.relations.end()) return;
    auto sent = announced_.find(relid);
    if (sent != announced_.end() && sent->second == found->second) return;
    announced_.insert_or_assign(relid, found->second);
    pending_.push_back(RelationMessage{found->second});
  }

  friend class SimPostgres;
  static std::vector<uint32_t> relids_of(const ChangeMessage& message) {
    if (auto* m = std::get_if<InsertMessage>(&message)) return {m->relid};
    if (auto* m = std::get_if<UpdateMessage>(&message)) return {m->relid};
    if (auto* m = std::get_if<DeleteMessage>(&message)) return {m->relid};
    if (auto* m = std::get_if<TruncateMessage>(&message)) return m->relids;
    return {};
  }

  ChangeMessage deliver() {
    ChangeMessage message = pending_[pending_index_++];
    std::optional<Lsn> lsn;
    if (auto* begin = std::get_if<BeginMessage>(&message)) lsn = begin->final_lsn;
    if (auto* commit = std::get_if<CommitMessage>(&message)) {
      lsn = commit->end_lsn;
      received_ = std::max(received_, commit->end_lsn);
      source_.sent_max_ = std::max(source_.sent_max_, commit->end_lsn);
    }
    source_.event("deliver " + source_.describe_message(message), lsn);
    return message;
  }

  // Caught up: a keepalive when the head moved past what was sent (WAL
  // outside the publication) or the sender's timer ran out, as walsender
  // does; otherwise nothing until the source writes or time passes.
  Result<std::optional<ChangeMessage>> idle() {
    const Lsn head = source_.head_;
    const int64_t now = source_.clock_.now();
    if (head <= std::max(last_keepalive_, received_) && now < next_keepalive_ms_) {
      return std::optional<ChangeMessage>();
    }
    last_keepalive_ = head;
    received_ = std::max(received_, head);
    source_.sent_max_ = std::max(source_.sent_max_, head);
    next_keepalive_ms_ = now + source_.options_.keepalive_interval_ms;
    source_.event("deliver keepalive", head);
    return std::optional<ChangeMessage>(KeepaliveMessage{head});
  }

  Status disconnected() const {
    return Status(ErrorCode::kDisconnected, "could not receive data from WAL stream: "
                                            "server closed the connection unexpectedly");
  }

  // The session ends: the slot is free for the next one.
  void drop() {
    gone_ = true;
    if (source_.active_stream_ == this) source_.active_stream_ = nullptr;
  }

  SimPostgres& source_;
  size_t next_txn_;
  std::vector<ChangeMessage> pending_;
  size_t pending_index_ = 0;
  std::map<uint32_t, Relation> announced_;
  Lsn received_;
  Lsn last_keepalive_;
  int64_t next_keepalive_ms_;
  bool gone_ = false;
};

// ---------------------------------------------------------------------------
// SimTableReader: one connection that copies tables in key-ordered chunks.
//
// A live reader runs its query on its own connection while the engine does
// other work, and answers "not ready" until the result is in. This one reads
// at the first ask (so the source may change before the engine gets the
// rows, as live) and then answers "not ready" a seeded number of times
// (SimPostgres::draw_read_delay) before it hands the answer over. A call
// with other arguments drops the answer it was holding, as live.

class SimTableReader : public TableReader {
 public:
  explicit SimTableReader(SimPostgres& source) : source_(source) {
    source_.readers_.insert(this);
  }
  ~SimTableReader() override { source_.readers_.erase(this); }

  // Issue 10 part A: the connection is gone (pg_terminate_backend, a server
  // restart); every later call answers kDisconnected, as a live reader on a
  // dead connection does, until the engine opens a new reader.
  void kill() {
    dead_ = true;
    held_.reset();
  }

  Result<std::optional<TableChunk>> read_chunk(const Relation& relation,
                                               const std::optional<Row>& after_key,
                                               const std::optional<Row>& until_key,
                                               size_t limit) override {
    return answer(Request{Request::kChunk, relation.relid, after_key, until_key, limit, {}},
                  [&] { return read_chunk_now(relation, after_key, until_key, limit); });
  }
  Result<std::optional<TableChunk>> read_rows(const Relation& relation,
                                              const std::vector<Row>& keys) override {
    return answer(Request{Request::kRows, relation.relid, std::nullopt, std::nullopt, 0, keys},
                  [&] { return read_rows_now(relation, keys); });
  }
  Result<std::optional<Lsn>> current_lsn() override {
    Result<std::optional<TableChunk>> held = answer(
        Request{Request::kLsn, 0, std::nullopt, std::nullopt, 0, {}}, [&]() -> Result<TableChunk> {
          WALSIM_ASSIGN_OR_RETURN(Lsn lsn, current_lsn_now());
          return TableChunk{{}, true, lsn};
        });
    if (!held.is_ok()) return held.status();
    if (!*held) return std::optional<Lsn>();
    return std::optional((*held)->consistent_lsn);
  }

 private:
  // What a call asked for: an answer held back goes only to the same ask.
  struct Request {
    enum Kind { kChunk, kRows, kLsn } kind;
    uint32_t relid;
    std::optional<Row> after_key;
    std::optional<Row> until_key;
    size_t limit;
    std::vector<Row> keys;
    bool operator==(const Request&) const = default;
  };

  // Reads now (at the first ask) or hands over what was read, after the
  // drawn number of "not ready" answers. Errors come at once.
  template <typename Read>
  Result<std::optional<TableChunk>> answer(const Request& request, Read read) {
    if (!dead_ && source_.buggify_.fire(FaultKind::kReaderDisconnect)) {
      source_.event("fault:reader_disconnect");
      kill();
    }
    if (dead_) {
      return Status(ErrorCode::kDisconnected,
                    "server closed the connection unexpectedly (table reader)");
    }
    if (!held_ || held_->request != request) {
      held_.reset();
      Result<TableChunk> result = read();
      if (!result.is_ok()) return result.status();
      held_ = Held{request, std::move(*result), source_.draw_read_delay()};
    }
    if (held_->asks_left > 0) {
      held_->asks_left--;
      return std::optional<TableChunk>();
    }
    WALSIM_ASSERT(held_->request == request, "an answer goes only to the ask it was read for");
    std::optional<TableChunk> chunk = std::move(held_->chunk);
    held_.reset();
    return chunk;
  }

  Result<TableChunk> read_chunk_now(const Relation& relation, const std::optional<Row>& after_key,
                                    const std::optional<Row>& until_key, size_t limit) {
    if (source_.buggify_.fire(FaultKind::kReadError)) {
      source_.event("fault:read_error " + relation.name);
      return io_error("canceling statement due to statement timeout");
    }
    auto index = source_.find_table(relation.name);
    if (!index || source_.tables_[*index].relation().relid != relation.relid) {
      return Status(ErrorCode::kNotFound, "relation \"" + relation.name + "\" does not exist");
    }
    Lsn as_of = source_.head_;
    if (source_.options_.read_mode == ReadMode::kSnapshot) {
      // A copy starts (no key) or resumes on this connection: export a new
      // snapshot; later chunks of the copy read the same one.
      auto found = snapshots_.find(*index);
      if (!after_key || found == snapshots_.end()) {
        found = snapshots_.insert_or_assign(*index, source_.head_).first;
      }
      as_of = found->second;
    }
    SimTable::Chunk read = source_.tables_[*index].read(after_key, limit, as_of);
    if (until_key) {
      // `... AND (key) <= (until)`: rows past the bound end the copy.
      auto past = std::find_if(read.rows.begin(), read.rows.end(), [&](const Row& row) {
        return compare_keys(relation.key_of(row), *until_key) > 0;
      });
      if (past != read.rows.end()) {
        read.rows.erase(past, read.rows.end());
        read.is_last = true;
      }
    }
    source_.note_chunk(*index, read, as_of);
    std::string what = "read " + relation.name + " rows=" + std::to_string(read.rows.size());
    if (!read.rows.empty()) what += " ids=" + read.rows.front()[0].text + ".." + read.rows.back()[0].text;
    source_.event(what + (read.is_last ? " last" : ""), as_of);
    TableChunk chunk{std::move(read.rows), read.is_last, as_of};
    if (!until_key) {
      // The largest key at the head, as `SELECT key ... ORDER BY key DESC
      // LIMIT 1` after the chunk would give.
      SimTable::Chunk all = source_.tables_[*index].read(std::nullopt, SIZE_MAX, source_.head_);
      if (!all.rows.empty()) chunk.bound_key = relation.key_of(all.rows.back());
    }
    return chunk;
  }

  // Rows by key, read at the head (the engine fills unknown TOAST values
  // with them), as `SELECT ... WHERE key IN (...)` would.
  Result<TableChunk> read_rows_now(const Relation& relation, const std::vector<Row>& keys) {
    if (source_.buggify_.fire(FaultKind::kReadError)) {
      source_.event("fault:read_error rows " + relation.name);
      return io_error("canceling statement due to statement timeout");
    }
    auto index = source_.find_table(relation.name);
    if (!index || source_.tables_[*index].relation().relid != relation.relid) {
      return Status(ErrorCode::kNotFound, "relation \"" + relation.name + "\" does not exist");
    }
    std::vector<Row> rows = source_.tables_[*index].read_keys(keys, source_.head_);
    source_.event("read_rows " + relation.name + " keys=" + std::to_string(keys.size()) +
                      " found=" + std::to_string(rows.size()),
                  source_.head_);
    return TableChunk{std::move(rows), true, source_.head_};
  }

  Result<Lsn> current_lsn_now() {
    if (source_.buggify_.fire(FaultKind::kReadError)) {
      source_.event("fault:read_error current_lsn");
      return io_error("could not receive data from server: Connection reset by peer");
    }
    return source_.head_;
  }

  struct Held {
    Request request;
    TableChunk chunk;  // for current_lsn: no rows, the LSN in consistent_lsn
    uint64_t asks_left = 0;
  };

  SimPostgres& source_;
  std::map<size_t, Lsn> snapshots_;  // table index -> snapshot LSN of its copy
  std::optional<Held> held_;
  bool dead_ = false;
};

// ---------------------------------------------------------------------------
// SimPostgres

SimPostgres::SimPostgres(SimPostgresOptions options, SimClock& clock, Buggify& buggify)
    : options_(options),
      clock_(clock),
      buggify_(buggify),
      head_(options.start_lsn),
      // Its own stream, so that no other subsystem's draws move.
      read_delay_prng_(derive(options.read_delay_seed.value_or(options.start_lsn.value()),
                              "source.read_delay")),
      read_delay_max_(read_delay_prng_.below(3)) {}

uint64_t SimPostgres::draw_read_delay() {
  if (read_delay_max_ == 0) return 0;
  uint64_t asks = read_delay_prng_.below(read_delay_max_ + 1);
  WALSIM_ASSERT(asks <= read_delay_max_);
  return asks;
}

SimPostgres::~SimPostgres() {
  WALSIM_ASSERT(active_stream_ == nullptr, "streams must not outlive the source");
}

size_t SimPostgres::create_table(const std::string& name, ReplicaIdentity identity,
                                 bool with_body) {
  WALSIM_ASSERT(!slot_created_, "the sim's schema is fixed before replication starts");
  WALSIM_ASSERT(identity == ReplicaIdentity::kDefault || identity == ReplicaIdentity::kFull);
  const bool full = identity == ReplicaIdentity::kFull;
  Relation relation;
  relation.relid = 16384 + 2 * static_cast<uint32_t>(tables_.size());
  relation.name = name;
  relation.identity = identity;
  relation.columns = {{"id", 25, true}, {"owner", 25, full}, {"title", 25, full}};
  if (with_body) relation.columns.push_back({"body", 25, full});
  tables_.emplace_back(std::move(relation));
  memberships_.push_back({Membership{Lsn::zero(), next_member_++}});
  copy_complete_.emplace_back();
  recent_read_ids_.emplace_back();
  identity_changes_.emplace_back();
  return tables_.size() - 1;
}

bool SimPostgres::has_body(size_t table) const {
  return tables_[table].relation().columns.size() > kBodyColumn;
}

void SimPostgres::set_published(size_t table, bool published) {
  WALSIM_ASSERT(!txn_open_, "ALTER PUBLICATION runs between transactions");
  WALSIM_ASSERT(published != this->published(table), "a change of membership changes it");
  std::vector<Membership>& history = memberships_[table];
  WALSIM_ASSERT(history.back().from <= head_);
  std::optional<uint64_t> member;
  if (published) member = next_member_++;
  if (history.back().from == head_) {
    history.back().member = member;  // no commit saw the one before
  } else {
    history.push_back(Membership{head_, member});
  }
  event(std::string(published ? "publication_add " : "publication_drop ") + tables_[table].name(),
        head_);
}

bool SimPostgres::out_of_publication_at(size_t table, Lsn lsn) const {
  const std::vector<Membership>& history = memberships_[table];
  for (size_t i = 0; i < history.size(); i++) {
    if (history[i].member) continue;
    const bool ended = i + 1 < history.size();
    if (history[i].from < lsn && (!ended || lsn < history[i + 1].from)) return true;
  }
  return false;
}

// --- schema changes (issue 10, DDL) -------------------------------------------

const SourceTxn& SimPostgres::recreate_table(size_t table, std::vector<Row> rows) {
  WALSIM_ASSERT(!txn_open_, "DDL runs between the writer's transactions");
  Txn txn = begin();
  // DROP TABLE: every row goes, and pgoutput sends nothing for it.
  std::vector<std::string> ids = tables_[table].live_ids();
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    txn.txn_.changes.push_back(SourceChange{table, *tables_[table].latest(id), std::nullopt});
  }
  Relation relation = tables_[table].relation();
  const uint32_t old_relid = relation.relid;
  relation.relid = next_recreated_relid_;
  next_recreated_relid_ += 2;
  WALSIM_ASSERT(relation.relid != old_relid, "a re-created table has a new oid");
  tables_[table] = SimTable(std::move(relation));
  recent_read_ids_[table].clear();
  // ADD TABLE of the new table: a membership no copy started under.
  std::vector<Membership>& history = memberships_[table];
  if (history.back().from == head_) {
    history.back().member = next_member_++;
  } else {
    history.push_back(Membership{head_, next_member_++});
  }
  event("recreate_table " + tables_[table].name() + " relid=" + std::to_string(old_relid) + "->" +
            std::to_string(tables_[table].relation().relid),
        head_);
  for (Row& row : rows) txn.insert(table, std::move(row));
  return commit(std::move(txn));
}

void SimPostgres::change_identity(size_t table) {
  WALSIM_ASSERT(!txn_open_, "DDL runs between the writer's transactions");
  SimTable& target = tables_[table];
  const uint32_t relid = target.relation().relid;
  const bool full = target.relation().identity == ReplicaIdentity::kFull;
  target.set_identity(full ? ReplicaIdentity::kDefault : ReplicaIdentity::kFull);
  std::vector<IdentityChange>& history = identity_changes_[table];
  WALSIM_ASSERT(history.empty() || history.back().from <= head_, "changes come in WAL order");
  history.push_back(IdentityChange{head_, target.relation().identity});
  WALSIM_ASSERT(target.relation().relid == relid, "the same table, only its identity changed");
  event(std::string("replica_identity ") + target.name() + " " +
            replica_identity_name(target.relation().identity),
        head_);
}

std::optional<size_t> SimPostgres::find_table(const std::string& name) const {
  for (size_t i = 0; i < tables_.size(); i++) {
    if (tables_[i].name() == name) return i;
  }
  return std::nullopt;
}

// --- writing -----------------------------------------------------------------

SimPostgres::Txn SimPostgres::begin() {
  WALSIM_ASSERT(!txn_open_, "one writer transaction at a time");
  txn_open_ = true;
  return Txn(*this);
}

void SimPostgres::Txn::insert(size_t table, Row row) {
  SimTable& target = source_.tables_[table];
  const std::string id = row[0].text;
  WALSIM_ASSERT(target.latest(id) == nullptr, "insert of a live key");
  txn_.messages.push_back(InsertMessage{target.relation().relid, row});
  txn_.changes.push_back(SourceChange{table, std::nullopt, row});
  target.write(id, std::move(row));
}

void SimPostgres::Txn::update(size_t table, const std::string& id, Row new_row,
                              bool toast_body) {
  SimTable& target = source_.tables_[table];
  const Relation& relation = target.relation();
  const Row* found = target.latest(id);
  WALSIM_ASSERT(found, "update of a missing key");
  const Row old_row = *found;
  const std::string new_id = new_row[0].text;
  UpdateMessage message{relation.relid, std::nullopt, new_row};
  if (relation.identity == ReplicaIdentity::kFull) {
    message.old_key = old_row;  // 'O': the whole old row
  } else if (new_id != id) {
    Row key_tuple(old_row.size(), Value::null());  // 'K': key columns only
    key_tuple[0] = old_row[0];
    message.old_key = std::move(key_tuple);
  }
  if (toast_body && source_.has_body(table) && new_row[kBodyColumn] == old_row[kBodyColumn]) {
    message.new_row[kBodyColumn] = Value::unchanged_toast();
  }
  txn_.messages.push_back(std::move(message));
  txn_.changes.push_back(SourceChange{table, old_row, new_row});
  if (new_id != id) {
    WALSIM_ASSERT(target.latest(new_id) == nullptr, "key change onto a live key");
    target.write(id, std::nullopt);
  }
  target.write(new_id, std::move(new_row));
}

void SimPostgres::Txn::remove(size_t table, const std::string& id) {
  SimTable& target = source_.tables_[table];
  const Relation& relation = target.relation();
  const Row* found = target.latest(id);
  WALSIM_ASSERT(found, "delete of a missing key");
  Row old_key = *found;
  if (relation.identity != ReplicaIdentity::kFull) {
    for (size_t i = 0; i < old_key.size(); i++) {
      if (!relation.columns[i].is_key) old_key[i] = Value::null();
    }
  }
  txn_.messages.push_back(DeleteMessage{relation.relid, std::move(old_key)});
  txn_.changes.push_back(SourceChange{table, *found, std::nullopt});
  target.write(id, std::nullopt);
}

void SimPostgres::Txn::truncate(const std::vector<size_t>& tables) {
  TruncateMessage message;
  for (size_t table : tables) {
    SimTable& target = source_.tables_[table];
    message.relids.push_back(target.relation().relid);
    // Copy the ids: writing removes them from the live list.
    std::vector<std::string> ids = target.live_ids();
    std::sort(ids.begin(), ids.end());
    for (const std::string& id : ids) {
      txn_.changes.push_back(SourceChange{table, *target.latest(id), std::nullopt});
      target.write(id, std::nullopt);
    }
  }
  txn_.messages.push_back(std::move(message));
}

const SourceTxn& SimPostgres::commit(Txn txn) {
  WALSIM_ASSERT(txn_open_);
  txn_open_ = false;
  SourceTxn& committed = txn.txn_;
  committed.xid = next_xid_++;
  committed.commit_lsn =
      Lsn(head_.value() + kBeginBytes + kChangeBytes * committed.messages.size());
  committed.end_lsn = Lsn(committed.commit_lsn.value() + kCommitBytes);
  head_ = committed.end_lsn;
  for (SimTable& table : tables_) table.commit_pending(committed.commit_lsn);
  drop_unpublished(committed.messages);
  for (const ChangeMessage& message : committed.messages) {
    for (uint32_t relid : SimChangeStream::relids_of(message)) {
      for (const SimTable& table : tables_) {
        if (table.relation().relid == relid) committed.relations.emplace(relid, table.relation());
      }
    }
  }
  wal_.push_back(std::move(committed));
  return wal_.back();
}

// pgoutput leaves out the changes of a table not in the publication as of
// the change (issue 10 part A); the true images (`changes`) keep them.
void SimPostgres::drop_unpublished(std::vector<ChangeMessage>& messages) const {
  auto unpublished = [this](uint32_t relid) {
    for (size_t t = 0; t < tables_.size(); t++) {
      if (tables_[t].relation().relid == relid) return !published(t);
    }
    return false;
  };
  std::erase_if(messages, [&](ChangeMessage& message) {
    if (auto* m = std::get_if<TruncateMessage>(&message)) {
      std::erase_if(m->relids, unpublished);
      return m->relids.empty();
    }
    if (auto* m = std::get_if<InsertMessage>(&message)) return unpublished(m->relid);
    if (auto* m = std::get_if<UpdateMessage>(&message)) return unpublished(m->relid);
    if (auto* m = std::get_if<DeleteMessage>(&message)) return unpublished(m->relid);
    return false;
  });
}

void SimPostgres::advance_wal(uint64_t bytes) {
  WALSIM_ASSERT(!txn_open_);
  head_ = Lsn(head_.value() + bytes);
}

void SimPostgres::create_slot() {
  WALSIM_ASSERT(!slot_created_);
  slot_created_ = true;
  slot_start_ = head_;
  confirmed_flush_ = head_;
  sent_max_ = head_;
  event("create_slot", head_);
}

void SimPostgres::drop_slot() {
  WALSIM_ASSERT(slot_created_ && active_stream_ == nullptr,
                "a slot is dropped while no session streams from it");
  slot_created_ = false;
  event("drop_slot", confirmed_flush_);
}

size_t SimPostgres::first_txn_after(Lsn lsn) const {
  auto it = std::upper_bound(wal_.begin(), wal_.end(), lsn,
                             [](Lsn value, const SourceTxn& txn) { return value < txn.end_lsn; });
  return static_cast<size_t>(it - wal_.begin());
}

std::string SimPostgres::table_name(uint32_t relid) const {
  for (const SimTable& table : tables_) {
    if (table.relation().relid == relid) return table.name();
  }
  return "relid " + std::to_string(relid);
}

// Like engine describe(), plus the table and the keys, so a trace says
// which row each change touched.
std::string SimPostgres::describe_message(const ChangeMessage& message) const {
  auto id_of = [](const Row& row) { return row.empty() ? std::string("?") : row[0].text; };
  auto toast = [](const Row& row) {
    for (const Value& value : row) {
      if (value.is_unchanged_toast()) return std::string(" toast");
    }
    return std::string();
  };
  if (auto* m = std::get_if<InsertMessage>(&message)) {
    return "insert " + table_name(m->relid) + " " + id_of(m->new_row);
  }
  if (auto* m = std::get_if<UpdateMessage>(&message)) {
    std::string text = "update " + table_name(m->relid) + " " + id_of(m->new_row);
    if (m->old_key) text += " old " + id_of(*m->old_key);
    return text + toast(m->new_row);
  }
  if (auto* m = std::get_if<DeleteMessage>(&message)) {
    return "delete " + table_name(m->relid) + " " + id_of(m->old_key);
  }
  if (auto* m = std::get_if<TruncateMessage>(&message)) {
    std::string text = "truncate";
    for (uint32_t relid : m->relids) text += " " + table_name(relid);
    return text;
  }
  return describe(message);
}

void SimPostgres::event(std::string action, std::optional<Lsn> lsn) {
  if (hooks_) hooks_->on_source_event(std::move(action), lsn);
}

void SimPostgres::note_chunk(size_t table, const SimTable::Chunk& chunk, Lsn consistent_lsn) {
  std::vector<std::string>& ids = recent_read_ids_[table];
  ids.clear();
  for (const Row& row : chunk.rows) ids.push_back(row[0].text);
  if (chunk.is_last) {
    std::optional<Lsn>& complete = copy_complete_[table];
    complete = complete ? std::min(*complete, consistent_lsn) : consistent_lsn;
  }
}

// --- SourceConnector -----------------------------------------------------------

Result<std::unique_ptr<ChangeStream>> SimPostgres::open_stream() {
  WALSIM_ASSERT(slot_created_);
  if (buggify_.fire(FaultKind::kConnectError)) {
    event("fault:connect_error stream");
    return io_error("could not connect to server: Connection refused");
  }
  if (active_stream_ != nullptr) {
    event("refuse stream: slot active");
    return Status(ErrorCode::kBusy, kSlotActiveMessage);
  }
  // After a source crash the slot comes back at the position it last
  // saved, behind what was acknowledged: those transactions come again.
  const size_t first = first_txn_after(confirmed_flush_);
  const size_t slot_first = first_txn_after(slot_start_);
  if (first > slot_first && buggify_.fire(FaultKind::kRedeliverAcked)) {
    const size_t back = static_cast<size_t>(buggify_.range(1, 8));
    const size_t rewound = first - std::min(back, first - slot_first);
    confirmed_flush_ = rewound == slot_first ? slot_start_ : wal_[rewound - 1].end_lsn;
    event("fault:redeliver_acked", confirmed_flush_);
  }
  sessions_opened_++;
  auto stream = std::make_unique<SimChangeStream>(*this, confirmed_flush_);
  active_stream_ = stream.get();
  event("open_stream", confirmed_flush_);
  return std::unique_ptr<ChangeStream>(std::move(stream));
}

Result<std::unique_ptr<TableReader>> SimPostgres::open_table_reader() {
  if (buggify_.fire(FaultKind::kConnectError)) {
    event("fault:connect_error reader");
    return io_error("could not connect to server: Connection refused");
  }
  return std::unique_ptr<TableReader>(std::make_unique<SimTableReader>(*this));
}

Result<std::vector<Relation>> SimPostgres::describe_tables(const std::vector<std::string>& names) {
  if (buggify_.fire(FaultKind::kConnectError)) {
    event("fault:connect_error describe");
    return io_error("could not connect to server: Connection refused");
  }
  std::vector<Relation> relations;
  for (const std::string& name : names) {
    if (auto index = find_table(name)) relations.push_back(tables_[*index].relation());
  }
  return relations;
}

void SimPostgres::restart_server() {
  WALSIM_ASSERT(!txn_open_, "the server restarts between transactions");
  for (SimTableReader* reader : readers_) reader->kill();
  if (active_stream_ != nullptr) active_stream_->kill();
  WALSIM_ASSERT(active_stream_ == nullptr, "a killed session frees the slot");
  event("server_restart", head_);
}

Result<std::map<std::string, std::string>> SimPostgres::publication_members(
    const std::vector<std::string>& names) {
  if (buggify_.fire(FaultKind::kConnectError)) {
    event("fault:connect_error publication");
    return io_error("could not connect to server: Connection refused");
  }
  std::map<std::string, std::string> members;
  for (const std::string& name : names) {
    auto index = find_table(name);
    if (!index) continue;
    const std::optional<uint64_t>& member = memberships_[*index].back().member;
    if (member) members[name] = std::to_string(*member);
  }
  return members;
}

std::map<std::string, std::string> SimPostgres::members_now() const {
  std::map<std::string, std::string> members;
  for (size_t t = 0; t < memberships_.size(); t++) {
    const std::optional<uint64_t>& member = memberships_[t].back().member;
    if (member) members[tables_[t].name()] = std::to_string(*member);
  }
  WALSIM_ASSERT(members.size() <= memberships_.size());
  return members;
}

}  // namespace walsim::sim
