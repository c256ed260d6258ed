// PgSourceConnector: the live source, the engine's SourceConnector over
// libpq and pgoutput. It holds the connection details and assembles the
// pieces, each in its own file:
//   pg_connection.h    one libpq connection, queries, password-free errors
//   pg_change_stream.h the CopyBoth stream (frames: stream_protocol.h)
//   pg_table_reader.h  keyset chunked table reads (threaded_table_reader.h
//                      runs them on threads of their own)
//   pg_slot_admin.h    create, drop and start from the replication slot
//   pg_catalog.h       tables, publication and server checks
//
//   PgSourceConnector source(conninfo, "walsim_slot", "walsim_pub", &clock);
//   WALSIM_RETURN_IF_ERROR(source.check_server());
//   WALSIM_RETURN_IF_ERROR(source.check_publication({"public.items"}));
//   auto stream = source.open_stream();   // creates the slot when missing
//
// Every call opens its own connection: the stream and each reader keep
// theirs, the checks close theirs when done. Table readers read on threads
// of their own and notify wakeup() when an answer is in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/source.h"
#include "engine/status.h"
#include "engine/task.h"
#include "live/pg_change_stream.h"
#include "live/pg_connection.h"
#include "live/pg_table_reader.h"
#include "live/threaded_table_reader.h"
#include "live/wakeup.h"

namespace walsim::live {

// What open_stream() does when the slot does not exist.
enum class SlotPolicy {
  kCreateIfMissing,
  // kNotFound instead: a replicator whose store belongs to a slot must never
  // resume from a new one, which would silently skip the changes between.
  kRequireExisting,
};

class PgSourceConnector : public SourceConnector {
 public:
  // `slot` must be a valid slot name (a-z, 0-9, _; at most 63 bytes);
  // `clock` gives Unix milliseconds and must outlive the connector's streams.
  PgSourceConnector(std::string conninfo, std::string slot, std::string publication,
                    Clock* clock, SlotPolicy slot_policy = SlotPolicy::kCreateIfMissing);

  // Creates the slot (if missing and the policy allows) and starts
  // streaming after its confirmed flush position.
  Result<std::unique_ptr<ChangeStream>> open_stream() override;
  Result<std::unique_ptr<PgChangeStream>> open_pg_stream();
  Result<std::unique_ptr<TableReader>> open_table_reader() override;
  // Names are "table" (schema public) or "schema.table", unquoted.
  Result<std::vector<Relation>> describe_tables(const std::vector<std::string>& names) override;
  // engine/source.h's contract, from pg_publication_tables (issue 10 part
  // A). On a connection kept for these calls (asked before each durable
  // checkpoint publication, so not one connection per call); a failed call
  // drops it, and the next opens a new one.
  Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>& names) override;

  // Creates the logical slot when it does not exist; true when it did so.
  // An existing slot with another plugin or database is an error.
  Result<bool> ensure_slot();
  // Drops the slot if it exists (its retained WAL is released).
  Status drop_slot();
  // The publication exists and publishes every named table.
  Status check_publication(const std::vector<std::string>& tables);
  // wal_level is logical and our role may replicate.
  Status check_server();
  // kInvalidArgument unless the slot name is 1-63 of a-z, 0-9 and _.
  Status check_slot_name() const;

  // For readers opened from now on.
  void set_reader_options(const ReaderOptions& options) { reader_options_ = options; }
  const ReaderOptions& reader_options() const { return reader_options_; }
  // Readable when a reader thread has an answer: the runtime polls it.
  Wakeup& wakeup() { return wakeup_; }
  const ReaderStats& reader_stats() const { return reader_stats_; }

  const std::string& conninfo() const { return conninfo_; }
  const std::string& slot() const { return slot_; }
  const std::string& publication() const { return publication_; }

 private:
  Result<std::unique_ptr<PgConnection>> connect(PgConnection::Mode mode);
  std::unique_ptr<PgConnection> catalog_connection_;  // publication_members' own

  std::string conninfo_;
  std::string slot_;
  std::string publication_;
  Clock* clock_;
  SlotPolicy slot_policy_;
  ReaderOptions reader_options_;
  Wakeup wakeup_;
  ReaderStats reader_stats_;
};

}  // namespace walsim::live
