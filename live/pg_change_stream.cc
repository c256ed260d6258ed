#include "live/pg_change_stream.h"

#include <libpq-fe.h>

#include <utility>
#include <variant>

namespace walsim::live {

PgChangeStream::PgChangeStream(std::unique_ptr<PgConnection> connection, Clock* clock)
    : connection_(std::move(connection)), clock_(clock), last_status_ms_(clock->now_ms()) {
  WALSIM_ASSERT(connection_ != nullptr && connection_->is_connected());
}

int PgChangeStream::socket() const { return PQsocket(connection_->raw()); }

Result<std::optional<ChangeMessage>> PgChangeStream::next() {
  if (broken_) return *broken_;
  WALSIM_RETURN_IF_ERROR(send_due_status());
  PGconn* conn = connection_->raw();
  // Frames already buffered are handled first: reading the socket only when
  // none is left saves a recv() per message while a backlog streams in.
  // When only non-engine frames (in-transaction keepalives, M/O/Y) were
  // there, report "nothing now".
  bool socket_read = false;
  for (;;) {
    char* buffer = nullptr;
    int length = PQgetCopyData(conn, &buffer, /*async=*/1);
    if (length == 0 && !socket_read) {
      if (!PQconsumeInput(conn)) return disconnected("lost while reading");
      socket_read = true;
      continue;
    }
    if (length == 0) return std::optional<ChangeMessage>();
    if (length == -1) {
      PgResult end(PQgetResult(conn));
      return disconnected("ended by the server", end ? PQresultErrorMessage(end.get()) : "");
    }
    if (length < 0) return disconnected("lost while reading");
    PgMemory<char> frame(buffer);
    Result<std::optional<ChangeMessage>> message =
        on_frame(std::string_view(buffer, static_cast<size_t>(length)));
    if (!message.is_ok()) broken_ = message.status();  // no resyncing past bad data
    if (!message.is_ok() || message->has_value()) return message;
  }
}

Result<std::optional<ChangeMessage>> PgChangeStream::on_frame(std::string_view frame) {
  WALSIM_ASSIGN_OR_RETURN(StreamEvent event, protocol_.on_frame(frame));
  // The source seam's contract (engine/change.h), where messages leave live code.
  WALSIM_ASSERT(!(event.message && std::holds_alternative<KeepaliveMessage>(*event.message) &&
                  protocol_.in_transaction()),
                "a keepalive never reaches the engine inside a transaction");
  if (event.reply_requested) WALSIM_RETURN_IF_ERROR(send_status(/*reply_now=*/false));
  return std::move(event.message);
}

Status PgChangeStream::acknowledge(Lsn flush_lsn) {
  if (broken_) return *broken_;
  if (!protocol_.acknowledge(flush_lsn)) return Status::ok();
  WALSIM_ASSERT(protocol_.acknowledged() == flush_lsn);
  return send_status(/*reply_now=*/false);
}

Status PgChangeStream::keep_alive() {
  if (broken_) return *broken_;
  return send_due_status();
}

Status PgChangeStream::send_status(bool reply_now) {
  int64_t now = clock_->now_ms();
  pgoutput::StandbyStatus status = protocol_.status_update(now, reply_now);
  std::string frame = pgoutput::encode_standby_status(status);
  PGconn* conn = connection_->raw();
  int put = PQputCopyData(conn, frame.data(), static_cast<int>(frame.size()));
  if (put < 0) return disconnected("lost while sending a status update");
  // 0: libpq's buffer is full (non-blocking mode); send it on the next call.
  status_pending_ = put == 0;
  if (put == 1) {
    protocol_.status_sent(status);
    last_status_ms_ = now;
  }
  if (PQflush(conn) < 0) return disconnected("lost while sending a status update");
  return Status::ok();
}

Status PgChangeStream::send_due_status() {
  if (PQflush(connection_->raw()) < 0) return disconnected("lost while sending a status update");
  bool due = status_pending_ || clock_->now_ms() - last_status_ms_ >= kStatusIntervalMs;
  return due ? send_status(/*reply_now=*/false) : Status::ok();
}

Status PgChangeStream::disconnected(const std::string& what, std::string detail) {
  detail = one_line(detail.empty() ? PQerrorMessage(connection_->raw()) : detail);
  broken_ = Status(ErrorCode::kDisconnected, "replication stream from " + connection_->target() +
                                                 " " + what + (detail.empty() ? "" : ": " + detail));
  return *broken_;
}

}  // namespace walsim::live
