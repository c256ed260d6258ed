// SimTable: one simulated Postgres table with its committed history.
//
// Rows are addressed by their primary key `id` (column 0, always text,
// zero-padded so that text order is numeric order). Every write appends a
// version; versions written by the transaction being built are "pending"
// until commit stamps them with its commit LSN. So the table answers both
// "what does the writer see now" (latest, pending included) and "what did
// the table hold as of LSN X" (committed versions only), which is what a
// snapshot read at a known LSN needs.
//
// Key order is the replica identity key compared value by value: NULL
// before any text, texts by bytes. Because `id` is the first identity
// column under both DEFAULT (id) and FULL (every column) and is unique,
// ordering by identity key is ordering by id, ties broken by the rest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "engine/relation.h"

namespace walsim::sim {

// <0, 0, >0 as `a` sorts before, equal to, after `b`.
int compare_keys(const Row& a, const Row& b);

class SimTable {
 public:
  explicit SimTable(Relation relation);

  const Relation& relation() const { return relation_; }
  const std::string& name() const { return relation_.name; }

  // --- the writer's view (pending versions included) ---------------------
  const Row* latest(const std::string& id) const;
  size_t live_count() const { return live_ids_.size(); }
  // Live ids in no meaningful but deterministic order, for random picks.
  const std::string& live_id(size_t index) const { return live_ids_[index]; }
  const std::vector<std::string>& live_ids() const { return live_ids_; }

  // ALTER TABLE ... REPLICA IDENTITY: DEFAULT (id) or FULL (every column).
  // The rows stay; what later changes carry as old values follows it.
  void set_identity(ReplicaIdentity identity);

  // Writes a pending version: a row, or nullopt for a delete.
  void write(const std::string& id, std::optional<Row> row);
  // Stamps every pending version with the commit LSN.
  void commit_pending(Lsn commit_lsn);

  // --- committed reads ---------------------------------------------------
  struct Chunk {
    std::vector<Row> rows;
    bool is_last = false;
  };
  // Up to `limit` rows with identity key > after_key (all when nullopt), in
  // key order, as committed at `as_of`.
  Chunk read(const std::optional<Row>& after_key, size_t limit, Lsn as_of) const;
  // The rows with these identity keys as committed at `as_of`, in key
  // order; keys without a row are left out.
  std::vector<Row> read_keys(const std::vector<Row>& keys, Lsn as_of) const;

 private:
  struct Version {
    Lsn lsn;  // kPending until committed
    std::optional<Row> row;
  };
  static constexpr Lsn kPending = Lsn(~0ull);

  const std::optional<Row>* visible(const std::vector<Version>& versions, Lsn as_of) const;
  void track_live(const std::string& id, bool live);

  Relation relation_;
  std::map<std::string, std::vector<Version>> history_;  // by id
  std::vector<std::string> pending_ids_;
  std::vector<std::string> live_ids_;
  std::map<std::string, size_t> live_index_;  // id -> index in live_ids_
};

}  // namespace walsim::sim
