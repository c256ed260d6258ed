// SimPostgres: a simulated Postgres with one publication and one logical
// replication slot, implementing the engine's SourceConnector.
//
// Method: (in the manner of SQLite's test6.c, which simulates a disk that
// loses unsynced writes) the simulated source keeps, for every table, each
// committed row version with its commit LSN, and keeps the WAL as a list of
// committed transactions, each with two views of the same change: the
// messages pgoutput would send (key-only old tuples under DEFAULT identity,
// the whole old row under FULL, unchanged-TOAST markers for a body an
// update did not touch) and the true before/after row images. The engine
// sees only the first view; the oracle reads only the second. The slot
// keeps confirmed_flush: a stream opened on it sends every transaction
// whose end LSN is past confirmed_flush, with Relation messages before a
// table's first change in the session, and keepalives at the WAL head when
// idle. Table readers serve chunks either from one snapshot taken at a
// known LSN or from the current head, chosen per seed; like a live reader
// on its own connection, a read may answer "not ready" a seeded number of
// times before its answer (read at the first ask) comes. Faults (a broken
// connection, a stall, a lost acknowledgement, a slot that rewinds as after
// a source crash, failing reads) fire at the call sites the engine uses, so
// the engine meets them exactly where a real Postgres would fail.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/source.h"
#include "sim/buggify.h"
#include "sim/prng.h"
#include "sim/sim_clock.h"
#include "sim/sim_table.h"

namespace walsim::sim {

// What a committed transaction did to one row, with whole images.
struct SourceChange {
  size_t table = 0;
  std::optional<Row> before;  // nullopt: the row did not exist
  std::optional<Row> after;   // nullopt: the row is gone
};

struct SourceTxn {
  uint32_t xid = 0;
  Lsn commit_lsn;
  Lsn end_lsn;
  // Insert/Update/Delete/Truncate messages as pgoutput sends them; Begin,
  // Relation and Commit are added by the stream.
  std::vector<ChangeMessage> messages;
  std::vector<SourceChange> changes;
  // Issue 10 (DDL): each table's relation as of this transaction, by the
  // relids its messages name. pgoutput decodes a change with the catalog
  // as of its WAL position, so a stream that replays WAL from before a
  // re-created table's drop announces the old relid.
  std::map<uint32_t, Relation> relations;
};

enum class ReadMode : uint8_t {
  kSnapshot,       // every chunk of a copy reads one snapshot at a known LSN
  kReadCommitted,  // each chunk reads the current head
};
const char* read_mode_name(ReadMode mode);

// How the source reports to the simulation: trace events, and the
// acknowledgements the oracle and the crash-at-ack fault look at.
class SourceHooks {
 public:
  virtual ~SourceHooks() = default;
  virtual void on_source_event(std::string action, std::optional<Lsn> lsn) = 0;
  // Before the slot moves. `sent`: the furthest LSN the slot ever
  // delivered in any session (a commit's end or a keepalive), or its start.
  virtual void on_acknowledge(Lsn lsn, Lsn sent) = 0;
};

struct SimPostgresOptions {
  ReadMode read_mode = ReadMode::kSnapshot;
  Lsn start_lsn = Lsn(0x1000000);
  int64_t keepalive_interval_ms = 10000;
  // Seeds how often table reads answer "not ready" before their answer
  // (see SimTableReader). Unset: derived from start_lsn, which the seed draws.
  std::optional<uint64_t> read_delay_seed;
};

class SimChangeStream;
class SimTableReader;

class SimPostgres : public SourceConnector {
 public:
  SimPostgres(SimPostgresOptions options, SimClock& clock, Buggify& buggify);
  ~SimPostgres() override;

  void set_hooks(SourceHooks* hooks) { hooks_ = hooks; }

  // --- schema --------------------------------------------------------------
  // Columns id (key), owner, title, and with `with_body` a toastable body.
  size_t create_table(const std::string& name, ReplicaIdentity identity, bool with_body);
  size_t table_count() const { return tables_.size(); }
  const SimTable& table(size_t index) const { return tables_[index]; }
  static constexpr size_t kOwnerColumn = 1;
  static constexpr size_t kTitleColumn = 2;
  static constexpr size_t kBodyColumn = 3;
  bool has_body(size_t table) const;

  // --- the publication (issue 10 part A) -------------------------------------
  // Every table starts in the publication. ALTER PUBLICATION ... DROP TABLE
  // or ADD TABLE at the WAL head, between transactions: the transactions
  // committed after it stream the table's changes or leave them out (the
  // oracle's true view keeps them), and a table added again gets a new
  // membership identity (publication_members). pgoutput sends nothing for
  // either.
  void set_published(size_t table, bool published);
  bool published(size_t table) const { return memberships_[table].back().member.has_value(); }
  // Whether `lsn` lies strictly inside a time the table was out of the
  // publication (a change at the head where it left or came back is on the
  // edge: the state as of that head needs no change the stream left out).
  bool out_of_publication_at(size_t table, Lsn lsn) const;
  // The server restarts: the replication session and every reader
  // connection die at once (what is committed stays).
  void restart_server();

  // --- schema changes (issue 10, DDL) -----------------------------------------
  // DROP TABLE t; CREATE TABLE t (same columns); ALTER PUBLICATION ... ADD
  // TABLE t; INSERT `rows`: one transaction at the WAL head. The table gets
  // a new relid and a new membership identity; the drop sends nothing (its
  // old rows leave only the true view), the inserts stream with a Relation
  // of the new relid. A copy reading the old relid finds it gone.
  const SourceTxn& recreate_table(size_t table, std::vector<Row> rows);
  // ALTER TABLE t REPLICA IDENTITY FULL, or DEFAULT again, at the WAL head,
  // between transactions: same relid, rows and membership. pgoutput sends
  // nothing for it; a transaction committed after it carries the new
  // relation (SourceTxn::relations), so the stream announces it before the
  // table's next change, and its old tuples follow the new identity.
  void change_identity(size_t table);
  struct IdentityChange {
    Lsn from;  // the head it changed at: it covers the commits after it
    ReplicaIdentity identity;
  };
  // Every identity change of the table, in order (none: as created).
  const std::vector<IdentityChange>& identity_changes(size_t table) const {
    return identity_changes_[table];
  }

  // --- writing -------------------------------------------------------------
  // A transaction being built. Its writes are visible to the writer at once
  // (pending versions) and to everyone else from commit().
  class Txn {
   public:
    void insert(size_t table, Row row);
    // `toast_body`: send an unchanged body as an unchanged-TOAST marker.
    void update(size_t table, const std::string& id, Row new_row, bool toast_body);
    void remove(size_t table, const std::string& id);
    void truncate(const std::vector<size_t>& tables);
    size_t size() const { return txn_.messages.size(); }

   private:
    friend class SimPostgres;
    explicit Txn(SimPostgres& source) : source_(source) {}
    SimPostgres& source_;
    SourceTxn txn_;
  };
  Txn begin();
  const SourceTxn& commit(Txn txn);
  // WAL written outside the publication (other tables, vacuum): moves the
  // head, so idle keepalives report a position past the last commit.
  void advance_wal(uint64_t bytes);

  // The slot's consistent point is the head now; the stream starts there.
  void create_slot();
  // Every table's publication membership now, with no fault: what live's
  // slot pairing reads just before it creates a slot (set_slot_members).
  std::map<std::string, std::string> members_now() const;
  // Issue 10 part B: the slot is gone (dropped while the engine was down,
  // or the cluster replaced); create_slot() makes a new one at the head.
  void drop_slot();
  bool has_slot() const { return slot_created_; }

  Lsn head() const { return head_; }
  Lsn slot_start() const { return slot_start_; }
  Lsn confirmed_flush() const { return confirmed_flush_; }
  const std::vector<SourceTxn>& transactions() const { return wal_; }
  const SourceTxn* last_transaction() const { return wal_.empty() ? nullptr : &wal_.back(); }

  // --- facts for the oracle and the workload --------------------------------
  // The smallest consistent LSN of a chunk that ended a copy of the table.
  std::optional<Lsn> copy_complete_lsn(size_t table) const { return copy_complete_[table]; }
  // Ids of the last chunk read from the table: the rows a copy is holding.
  const std::vector<std::string>& recent_read_ids(size_t table) const {
    return recent_read_ids_[table];
  }
  int64_t sessions_opened() const { return sessions_opened_; }
  // "update t1 00000020 old 00000019 toast": a change with its table and keys.
  std::string describe_message(const ChangeMessage& message) const;
  std::string table_name(uint32_t relid) const;

  // --- SourceConnector -----------------------------------------------------
  Result<std::unique_ptr<ChangeStream>> open_stream() override;
  Result<std::unique_ptr<TableReader>> open_table_reader() override;
  Result<std::vector<Relation>> describe_tables(const std::vector<std::string>& names) override;
  Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>& names) override;

 private:
  friend class SimChangeStream;
  friend class SimTableReader;

  std::optional<size_t> find_table(const std::string& name) const;
  // Index of the first transaction whose end LSN is past `lsn`.
  size_t first_txn_after(Lsn lsn) const;
  void event(std::string action, std::optional<Lsn> lsn = std::nullopt);
  void note_chunk(size_t table, const SimTable::Chunk& chunk, Lsn consistent_lsn);
  void drop_unpublished(std::vector<ChangeMessage>& messages) const;
  // How many times a table read answers "not ready" before its answer:
  // 0 to read_delay_max_, which the run draws once (0, 1 or 2; 0 = never).
  uint64_t draw_read_delay();

  SimPostgresOptions options_;
  SimClock& clock_;
  Buggify& buggify_;
  SourceHooks* hooks_ = nullptr;

  std::vector<SimTable> tables_;
  std::vector<SourceTxn> wal_;
  Lsn head_;
  uint32_t next_xid_ = 700;
  bool txn_open_ = false;

  Lsn slot_start_;
  Lsn confirmed_flush_;
  bool slot_created_ = false;
  Lsn sent_max_;  // see SourceHooks::on_acknowledge
  SimChangeStream* active_stream_ = nullptr;
  int64_t sessions_opened_ = 0;

  Prng read_delay_prng_;
  uint64_t read_delay_max_ = 0;

  // Per table, its publication membership from each change on: the head
  // it changed at (it covers commits after it) and the membership's
  // identity, nullopt while out of the publication.
  struct Membership {
    Lsn from;
    std::optional<uint64_t> member;
  };
  std::vector<std::vector<Membership>> memberships_;
  std::set<SimTableReader*> readers_;  // open readers, for restart_server()
  uint64_t next_member_ = 1;
  uint32_t next_recreated_relid_ = 40000;  // issue 10 (DDL): re-created tables

  std::vector<std::vector<IdentityChange>> identity_changes_;  // per table
  std::vector<std::optional<Lsn>> copy_complete_;
  std::vector<std::vector<std::string>> recent_read_ids_;
};

}  // namespace walsim::sim
