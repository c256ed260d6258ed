// PgChangeStream: the engine's ChangeStream over a libpq connection in
// CopyBoth mode (after START_REPLICATION, see pg_slot_admin.h).
//
// next() never blocks: it reads what the socket has (a live loop waits for
// socket() to be readable). What the frames mean, and what a status update
// reports, is StreamProtocol's business; this class moves the bytes, answers
// the server's reply requests and sends a status update at least every
// kStatusIntervalMs, so the server never times the stream out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/change.h"
#include "engine/lsn.h"
#include "engine/source.h"
#include "engine/status.h"
#include "engine/task.h"
#include "live/pg_connection.h"
#include "live/stream_protocol.h"

namespace walsim::live {

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

  // Sends the periodic status update if one is due (and flushes what libpq
  // holds), without reading: the runtime calls it every round, so the
  // server hears from walsim in time even while the streamer is held back.
  Status keep_alive();

  int socket() const;
  Lsn acknowledged() const { return protocol_.acknowledged(); }

 private:
  Result<std::optional<ChangeMessage>> on_frame(std::string_view frame);
  Status send_status(bool reply_now);
  Status send_due_status();
  // Marks the stream broken: kDisconnected, with libpq's message unless
  // `detail` says more.
  Status disconnected(const std::string& what, std::string detail = "");

  std::unique_ptr<PgConnection> connection_;
  Clock* clock_;
  StreamProtocol protocol_;
  bool status_pending_ = false;  // the send buffer was full; retry
  int64_t last_status_ms_;
  std::optional<Status> broken_;  // set once the stream is gone
};

}  // namespace walsim::live
