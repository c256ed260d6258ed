#include "live/source_monitor.h"

#include <charconv>

namespace walsim::live {

namespace {

std::optional<int64_t> parse_int(const Value& value) {
  if (!value.is_text()) return std::nullopt;
  int64_t number = 0;
  const std::string& text = value.text;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

Status unexpected(const std::string& what) {
  return Status(ErrorCode::kCorrupt, "unexpected answer from the source: " + what);
}

}  // namespace

Result<std::vector<Row>> SourceMonitor::query(const std::string& sql,
                                              const std::vector<std::string>& params) {
  if (!connection_ || !connection_->is_connected()) {
    WALSIM_ASSIGN_OR_RETURN(connection_,
                            PgConnection::open(conninfo_, PgConnection::Mode::kNormal));
  }
  WALSIM_ASSERT(connection_ != nullptr);
  Result<std::vector<Row>> rows = connection_->query(sql, params);
  if (!rows.is_ok() && !connection_->is_connected()) connection_.reset();
  return rows;
}

Status SourceMonitor::ping() {
  return query("SELECT pg_logical_emit_message(false, 'walsim', 'ping')").status();
}

Result<SourcePosition> SourceMonitor::position(const std::string& slot) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      query("SELECT pg_current_wal_lsn(), (SELECT confirmed_flush_lsn FROM pg_replication_slots "
            "                              WHERE slot_name = $1)",
            {slot}));
  if (rows.size() != 1) return unexpected("no row for pg_current_wal_lsn()");
  const Row& row = rows.front();
  std::optional<Lsn> current = Lsn::parse(row[0].text);
  if (!current) return unexpected("pg_current_wal_lsn() = " + row[0].text);
  SourcePosition position{*current, std::nullopt};
  if (row[1].is_text()) position.confirmed = Lsn::parse(row[1].text);
  return position;
}

Result<SlotState> SourceMonitor::slot_state(const std::string& slot) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows,
                          query("SELECT coalesce(wal_status, ''), active_pid "
                                "FROM pg_replication_slots WHERE slot_name = $1",
                                {slot}));
  SlotState state;
  if (rows.empty()) return state;
  const Row& row = rows.front();
  state.exists = true;
  state.wal_status = row[0].text;
  state.lost = state.wal_status == "lost";
  state.active_pid = parse_int(row[1]);
  return state;
}

Result<std::map<std::string, int64_t>> SourceMonitor::row_estimates(
    const std::vector<std::string>& tables) {
  std::map<std::string, int64_t> estimates;
  for (const std::string& table : tables) {
    // to_regclass resolves "t" through the search path and "s.t" as is,
    // and is NULL (not an error) for a missing table.
    WALSIM_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        query("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)", {table}));
    if (rows.empty()) continue;
    std::optional<int64_t> estimate = parse_int(rows.front()[0]);
    if (estimate && *estimate >= 0) estimates[table] = *estimate;
  }
  return estimates;
}

Result<bool> SourceMonitor::can_select(uint32_t relid) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      query("SELECT has_table_privilege($1::oid, 'SELECT')", {std::to_string(relid)}));
  if (rows.size() != 1) return unexpected("no row for has_table_privilege");
  return rows.front()[0].text == "t";
}

}  // namespace walsim::live
