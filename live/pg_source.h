// The live source: SourceConnector over libpq and pgoutput.
//
//   PgSourceConnector source(conninfo, "walsim_slot", "walsim_pub", &clock);
//   WALSIM_RETURN_IF_ERROR(source.check_server());
//   WALSIM_RETURN_IF_ERROR(source.check_publication({"public.items"}));
//   auto stream = source.open_stream();   // creates the slot when missing
//
// Errors are Status values that never contain the connection password:
// connection failures name only host, port, dbname and user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/change.h"
#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/source.h"
#include "engine/status.h"
#include "engine/task.h"

// libpq's PGconn. Declared here, not included, so that users of this header
// need no libpq include path.
struct pg_conn;

namespace walsim::live {

// One libpq connection, closed on destruction. Used by the connector and by
// tests that drive a Postgres server.
class PgConnection {
 public:
  enum class Mode {
    kNormal,
    kReplication,  // replication=database: replication commands plus simple SQL
  };

  // `conninfo` is a postgresql:// URI, key=value pairs or a bare dbname.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& conninfo, Mode mode);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs SQL; result rows as text, SQL NULL as Value::null(). Without
  // params it uses the simple query protocol (the only one a replication
  // connection speaks, and the one that allows several statements); with
  // params, PQexecParams with text parameters whose types the server infers.
  Result<std::vector<Row>> query(const std::string& sql,
                                 const std::vector<std::string>& params = {});
  Status exec(const std::string& sql);

  // "\"my table\"": an identifier quoted by PQescapeIdentifier.
  Result<std::string> quote_identifier(const std::string& name);

  // "host=... port=... dbname=... user=...": for error messages.
  const std::string& target() const { return target_; }
  bool is_connected() const;
  pg_conn* raw() { return conn_; }

 private:
  PgConnection(pg_conn* conn, std::string target) : conn_(conn), target_(std::move(target)) {}

  pg_conn* conn_;
  std::string target_;
};

// A pgoutput stream in CopyBoth mode. next() never blocks: it reads what the
// socket has (wait for socket() to be readable in a live loop).
class PgChangeStream : public ChangeStream {
 public:
  // How often a status update goes out even when nothing happens, well
  // within the server's wal_sender_timeout (60 s by default).
  static constexpr int64_t kStatusIntervalMs = 10'000;

  // `connection` must already be streaming (START_REPLICATION succeeded).
  // `clock` gives Unix milliseconds and must outlive the stream.
  PgChangeStream(std::unique_ptr<PgConnection> connection, Clock* clock);

  Result<std::optional<ChangeMessage>> next() override;
  // Records `flush_lsn` (never moving backwards) and reports it at once.
  Status acknowledge(Lsn flush_lsn) override;

  int socket() const;
  Lsn acknowledged() const { return acknowledged_; }

 private:
  Result<std::optional<ChangeMessage>> on_frame(std::string_view frame);
  Result<std::optional<ChangeMessage>> on_payload(std::string_view payload);
  Status send_status(bool reply_now);
  Status send_due_status();
  // Marks the stream broken: kDisconnected, with libpq's message unless
  // `detail` says more.
  Status disconnected(const std::string& what, std::string detail = "");

  std::unique_ptr<PgConnection> connection_;
  Clock* clock_;
  Lsn received_;      // the server's WAL end as last reported
  Lsn acknowledged_;  // durable in the store: the only flush we report
  bool in_transaction_ = false;
  bool status_pending_ = false;  // the send buffer was full; retry
  int64_t last_status_ms_;
  std::optional<Status> broken_;  // set once the stream is gone
};

// What open_stream() does when the slot does not exist.
enum class SlotPolicy {
  kCreateIfMissing,
  // kNotFound instead: a replicator whose store belongs to a slot must never
  // resume from a new one, which would silently skip the changes between.
  kRequireExisting,
};

// START_REPLICATION's failure as a Status: kIoError (retryable) while the
// slot is in use, kNotFound when it does not exist, kFailedPrecondition when
// the server invalidated it.
Status start_replication_error(const char* sqlstate, const std::string& message);

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

  const std::string& conninfo() const { return conninfo_; }
  const std::string& slot() const { return slot_; }
  const std::string& publication() const { return publication_; }

 private:
  Result<std::unique_ptr<PgConnection>> connect(PgConnection::Mode mode);
  Result<bool> ensure_slot(PgConnection& replication);
  Result<std::optional<Relation>> describe_table(PgConnection& connection,
                                                 const std::string& name);

  std::string conninfo_;
  std::string slot_;
  std::string publication_;
  Clock* clock_;
  SlotPolicy slot_policy_;
};

}  // namespace walsim::live
