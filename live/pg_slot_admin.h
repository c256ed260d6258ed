// Slot administration: the logical replication slot on the server, and
// starting a stream from it.
//
// A slot name is checked before it is used: a valid one (1-63 of a-z, 0-9
// and _) can stand in SQL and replication commands as is. The errors of
// START_REPLICATION are mapped so that the engine retries only what may go
// away by itself.
#pragma once

#include <string>

#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live {

// kInvalidArgument unless `slot` is 1-63 of a-z, 0-9 and _.
Status check_slot_name(const std::string& slot);

// Creates the logical slot (pgoutput, on `replication`, a kReplication
// connection) when it does not exist; true when it did so. An existing slot
// with another plugin or database is an error.
Result<bool> ensure_slot(PgConnection& replication, const std::string& slot);

// Drops the slot if it exists (its retained WAL is released).
Status drop_slot(PgConnection& connection, const std::string& slot);

// START_REPLICATION from the slot's confirmed flush position, pgoutput
// proto_version 1 with logical messages, for `publication`. On success
// `replication` is in CopyBoth mode and non-blocking: ready for a
// PgChangeStream.
Status start_replication(PgConnection& replication, const std::string& slot,
                         const std::string& publication);

// START_REPLICATION's failure as a Status: kIoError (retryable) while the
// slot is in use, kNotFound when it does not exist, kFailedPrecondition when
// the server invalidated it.
Status start_replication_error(const char* sqlstate, const std::string& message);

}  // namespace walsim::live
