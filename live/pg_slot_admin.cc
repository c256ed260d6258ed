#include "live/pg_slot_admin.h"

#include <libpq-fe.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace walsim::live {

namespace {

bool valid_slot_name(const std::string& name) {
  return !name.empty() && name.size() <= 63 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// A string literal for the replication command grammar, which knows only
// standard '' escaping.
std::string quote_literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

Status check_slot_name(const std::string& slot) {
  if (valid_slot_name(slot)) return Status::ok();
  return Status(ErrorCode::kInvalidArgument,
                "invalid replication slot name \"" + slot +
                    "\": use 1-63 characters from a-z, 0-9 and _");
}

Result<bool> ensure_slot(PgConnection& replication, const std::string& slot) {
  WALSIM_RETURN_IF_ERROR(check_slot_name(slot));
  // The name is checked above, so it can stand in SQL and commands as is.
  std::string lookup =
      "SELECT plugin, database IS NOT DISTINCT FROM current_database() "
      "FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> existing, replication.query(lookup));
  if (existing.empty()) {
    Result<std::vector<Row>> created = replication.query(
        "CREATE_REPLICATION_SLOT " + slot + " LOGICAL pgoutput (SNAPSHOT 'nothing')");
    if (created.is_ok()) return true;
    // Lost a race with another creator? Then the slot is there now.
    Result<std::vector<Row>> again = replication.query(lookup);
    if (!again.is_ok() || again->empty()) return created.status();
    existing = std::move(again).value();
  }
  WALSIM_ASSERT(!existing.empty() && existing.front().size() == 2, "plugin, same database");
  const Row& found = existing.front();
  if (found[0].text != "pgoutput") {
    return Status(ErrorCode::kFailedPrecondition,
                  "replication slot \"" + slot + "\" exists but uses " +
                      (found[0].is_null() ? std::string("no plugin (physical)")
                                          : "plugin " + found[0].text) +
                      ", not pgoutput");
  }
  if (found[1].text != "t") {
    return Status(ErrorCode::kFailedPrecondition,
                  "replication slot \"" + slot + "\" belongs to another database");
  }
  return false;
}

Status drop_slot(PgConnection& connection, const std::string& slot) {
  WALSIM_RETURN_IF_ERROR(check_slot_name(slot));
  return connection
      .query("SELECT pg_drop_replication_slot(slot_name) "
             "FROM pg_replication_slots WHERE slot_name = $1",
             {slot})
      .status();
}

Status start_replication(PgConnection& replication, const std::string& slot,
                         const std::string& publication) {
  WALSIM_RETURN_IF_ERROR(check_slot_name(slot));
  // pgoutput splits publication_names like an identifier list: quote the
  // name as an identifier, then the list as a literal.
  WALSIM_ASSIGN_OR_RETURN(std::string quoted, replication.quote_identifier(publication));
  std::string command = "START_REPLICATION SLOT " + slot +
                        " LOGICAL 0/0 (proto_version '1', publication_names " +
                        quote_literal(quoted) + ", messages 'true')";
  PgResult result(PQexec(replication.raw(), command.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    const char* message = result ? PQresultErrorMessage(result.get()) : "no result";
    const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    Status error = start_replication_error(sqlstate, "START_REPLICATION on " +
                                                         replication.target() +
                                                         " failed: " + one_line(message));
    WALSIM_ASSERT(!error.is_ok());
    return error;
  }
  // Status updates must not block the streamer; libpq queues them instead.
  if (PQsetnonblocking(replication.raw(), 1) != 0) {
    return Status(ErrorCode::kIoError, "cannot make the replication connection non-blocking");
  }
  return Status::ok();
}

// Only "in use" is worth waiting for: "replication slot ... is active for
// PID n" while a previous stream's server process is still exiting. A slot
// that is gone (42704) or invalidated (55000: "can no longer get changes")
// will not come back by retrying; the caller must start a new replication.
Status start_replication_error(const char* sqlstate, const std::string& message) {
  std::string_view state(sqlstate ? sqlstate : "");
  if (state == "42704") return Status(ErrorCode::kNotFound, message);
  if (state == "55000") return Status(ErrorCode::kFailedPrecondition, message);
  return Status(ErrorCode::kIoError, message);
}

}  // namespace walsim::live
