// Workload: the simulated application writing to the source.
//
// Seeded. Creates the tables (id, owner, title and, for DEFAULT identity, a
// toastable body), commits their initial rows before the slot exists (so
// only a table copy can deliver them), then commits one transaction per
// writer step: inserts, updates, deletes, key changes, bucket moves and
// truncates in the seed's mix, across tables, some empty, some long. Hot
// keys aim updates and deletes at the rows a table copy has just read and
// not yet written: the window where a late copy could resurrect a deleted
// row or overwrite a newer version.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/params.h"
#include "sim/prng.h"
#include "sim/sim_postgres.h"

namespace walsim::sim {

class Workload {
 public:
  Workload(const SimParams& params, SimPostgres& source);

  // Creates the tables and commits their initial rows.
  void load_initial();
  bool done() const { return committed_ >= params_.transactions; }
  int committed() const { return committed_; }
  // Commits the next transaction, or moves the WAL only. Returns what it
  // did, for the trace.
  std::string step();
  // Issue 10 (DDL): drops `table` and creates it again with other rows
  // (keys from 1 again, so old keys come back with new values), in one
  // transaction (SimPostgres::recreate_table). Returns what it did.
  std::string recreate_table(size_t table);

 private:
  void add_change(SimPostgres::Txn& txn);
  void insert(SimPostgres::Txn& txn, size_t table);
  void update(SimPostgres::Txn& txn, size_t table, const std::string& id);
  void remove(SimPostgres::Txn& txn, size_t table, const std::string& id);
  void change_key(SimPostgres::Txn& txn, size_t table, const std::string& id);
  void move_bucket(SimPostgres::Txn& txn, size_t table, const std::string& id);
  void truncate(SimPostgres::Txn& txn, size_t table);

  // A live row to change: one a copy just read (hot) or any.
  std::string pick_row(size_t table);
  // A key no live row has: fresh, or a deleted one brought back.
  std::string new_id(size_t table);
  Row new_row(size_t table, const std::string& id);
  Value owner_value();
  Value title_value();
  Value body_value();
  bool toast() { return prng_.percent(params_.toast_percent); }

  const WorkloadParams params_;
  SimPostgres& source_;
  Prng prng_;
  std::vector<int64_t> next_id_;                     // per table
  std::vector<std::vector<std::string>> deleted_;    // per table, recent deletes
  int committed_ = 0;
  int64_t values_made_ = 0;  // makes each generated value distinct
};

}  // namespace walsim::sim
