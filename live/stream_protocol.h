// StreamProtocol: the client side of a logical replication stream, without
// the socket. It turns the server's CopyData frames into engine messages and
// keeps the two positions a standby status update reports: how far the
// server's WAL was received, and how far the store acknowledged.
//
// PgChangeStream feeds it what libpq reads and sends the updates it builds;
// tests feed it hand-built frames. Its contract with the engine (see
// engine/change.h and engine/source.h):
//   - a Keepalive reaches the engine only between transactions: a primary
//     keepalive that arrives between Begin and Commit is swallowed (its
//     reply request is still honoured), because the server's WAL end says
//     nothing about that transaction's own commit;
//   - a status update never reports a flush beyond what acknowledge() was
//     given, and never reports less than an earlier update did.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/change.h"
#include "engine/lsn.h"
#include "engine/status.h"
#include "live/pgoutput_decoder.h"

namespace walsim::live {

// What one server frame means for the client.
struct StreamEvent {
  std::optional<ChangeMessage> message;  // for the engine; none for M/O/Y and swallowed keepalives
  bool reply_requested = false;          // the server asks for a status update now
};

class StreamProtocol {
 public:
  // Decodes one CopyData frame. kCorrupt for malformed bytes, after which
  // the stream must not be read on (there is no resyncing past bad data).
  Result<StreamEvent> on_frame(std::string_view frame);

  // Records that everything up to `flush_lsn` is durable in the store.
  // Never moves backwards; false when it did not move.
  bool acknowledge(Lsn flush_lsn);

  // The standby status update to send now: write = the furthest position
  // received or acknowledged, flush = apply = the acknowledged position.
  pgoutput::StandbyStatus status_update(int64_t now_ms, bool reply_now) const;
  // Call once `status` (from status_update) is queued for the server.
  void status_sent(const pgoutput::StandbyStatus& status);

  Lsn received() const { return received_; }
  Lsn acknowledged() const { return acknowledged_; }
  bool in_transaction() const { return in_transaction_; }

 private:
  Result<StreamEvent> on_payload(std::string_view payload);

  Lsn received_;      // the server's WAL end as last reported
  Lsn acknowledged_;  // durable in the store: the only flush we report
  bool in_transaction_ = false;  // between a Begin and its Commit
  Lsn sent_write_;    // the last status update that went out
  Lsn sent_flush_;
};

}  // namespace walsim::live
