// SourceMonitor: walsim's ordinary (non-replication) connection to the
// source, for everything around the stream: the keep-the-slot-moving ping,
// the replication lag, the slot's state and table size estimates.
//
// The connection opens on first use and is dropped after a failure, so the
// next call reconnects: a source restart costs one failed call, no more.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_connection.h"
#include "live/slot_plan.h"

namespace walsim::live {

struct SourcePosition {
  Lsn current;                     // pg_current_wal_lsn()
  std::optional<Lsn> confirmed;    // the slot's confirmed_flush_lsn, if any
};

class SourceMonitor {
 public:
  explicit SourceMonitor(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  // pg_logical_emit_message(false, 'walsim', 'ping'): a WAL record past
  // everything, so the server's next keepalive lets an idle slot advance.
  Status ping();
  Result<SourcePosition> position(const std::string& slot);
  Result<SlotState> slot_state(const std::string& slot);
  // pg_class.reltuples per table name ("t" or "schema.t"); tables never
  // analyzed (reltuples < 0) or missing are left out.
  Result<std::map<std::string, int64_t>> row_estimates(const std::vector<std::string>& tables);
  // Whether the connected role may SELECT from the table (by oid).
  Result<bool> can_select(uint32_t relid);

 private:
  Result<std::vector<Row>> query(const std::string& sql,
                                 const std::vector<std::string>& params = {});

  std::string conninfo_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace walsim::live
