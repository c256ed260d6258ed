// SimCluster: the source as the engine connects to it, numbered in the
// LSNs of the cluster now in service.
//
// Issue 10 part B: the source may be replaced, while the engine is down,
// by a fresh cluster (a dump restored into a new server) whose WAL starts
// at a lower LSN than anything the store has seen. The simulated Postgres
// keeps one history with ever-rising LSNs (the oracle's truth needs one
// order); this view subtracts the cluster's offset from every LSN the
// engine is sent and adds it back to every LSN the engine acknowledges, so
// the engine meets exactly what a real fresh cluster shows it. The offset
// changes only between engine runs (no stream or reader is open then).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/source.h"
#include "sim/sim_postgres.h"

namespace walsim::sim {

class SimCluster : public SourceConnector {
 public:
  explicit SimCluster(SimPostgres& source) : source_(source) {}

  // The source's LSN `internal` as this cluster numbers it.
  Lsn to_cluster(Lsn internal) const;
  // A cluster LSN back in the source's one history.
  Lsn to_source(Lsn cluster) const;
  uint64_t offset() const { return offset_; }
  int64_t clusters_replaced() const { return clusters_replaced_; }

  // A fresh cluster starts at `start` (cluster numbering), which must be
  // below the source's head as the current cluster numbers it. Its slot is
  // new: the caller drops the old one.
  void replace(Lsn start);

  Result<std::unique_ptr<ChangeStream>> open_stream() override;
  Result<std::unique_ptr<TableReader>> open_table_reader() override;
  Result<std::vector<Relation>> describe_tables(const std::vector<std::string>& names) override;
  // Memberships are no LSNs: the source's own.
  Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>& names) override;

 private:
  SimPostgres& source_;
  uint64_t offset_ = 0;  // source LSN = cluster LSN + offset_
  int64_t clusters_replaced_ = 0;
};

}  // namespace walsim::sim
