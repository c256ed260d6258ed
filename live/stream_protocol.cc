#include "live/stream_protocol.h"

#include <algorithm>
#include <utility>
#include <variant>

namespace walsim::live {

Result<StreamEvent> StreamProtocol::on_frame(std::string_view frame) {
  WALSIM_ASSIGN_OR_RETURN(pgoutput::ServerFrame decoded, pgoutput::decode_server_frame(frame));
  if (const auto* data = std::get_if<pgoutput::XLogData>(&decoded)) {
    received_ = std::max(received_, data->wal_end);
    return on_payload(data->payload);
  }
  const auto& keepalive = std::get<pgoutput::PrimaryKeepalive>(decoded);
  received_ = std::max(received_, keepalive.wal_end);
  StreamEvent event;
  event.reply_requested = keepalive.reply_requested;
  // Inside a transaction the server's WAL end says nothing about the
  // transaction's own commit, so only idle keepalives reach the engine.
  if (!in_transaction_) event.message = KeepaliveMessage{keepalive.wal_end};
  return event;
}

Result<StreamEvent> StreamProtocol::on_payload(std::string_view payload) {
  WALSIM_ASSIGN_OR_RETURN(pgoutput::PgOutputMessage decoded, pgoutput::decode_pgoutput(payload));
  StreamEvent event;
  auto* change = std::get_if<ChangeMessage>(&decoded);
  if (change == nullptr) return event;  // M, O, Y
  // pgoutput never sends a keepalive as a payload: only a 'k' frame is one,
  // so the engine's keepalives all pass the transaction check above.
  WALSIM_ASSERT(!std::holds_alternative<KeepaliveMessage>(*change));
  if (std::holds_alternative<BeginMessage>(*change)) in_transaction_ = true;
  if (std::holds_alternative<CommitMessage>(*change)) in_transaction_ = false;
  event.message = std::move(*change);
  return event;
}

bool StreamProtocol::acknowledge(Lsn flush_lsn) {
  if (flush_lsn <= acknowledged_) return false;
  acknowledged_ = flush_lsn;
  return true;
}

pgoutput::StandbyStatus StreamProtocol::status_update(int64_t now_ms, bool reply_now) const {
  pgoutput::StandbyStatus status;
  status.write = std::max(received_, acknowledged_);
  // Before the first acknowledgement this is 0/0, which the server ignores.
  status.flush = acknowledged_;
  status.apply = acknowledged_;
  status.client_time = pgoutput::pg_time_from_unix_ms(now_ms);
  status.reply_now = reply_now;
  WALSIM_ASSERT(status.flush <= status.write);
  return status;
}

void StreamProtocol::status_sent(const pgoutput::StandbyStatus& status) {
  WALSIM_ASSERT(status.flush <= acknowledged_ && status.apply <= acknowledged_,
                "a status update reports only what the store acknowledged");
  WALSIM_ASSERT(status.write >= sent_write_ && status.flush >= sent_flush_,
                "status updates never move backwards");
  sent_write_ = status.write;
  sent_flush_ = status.flush;
}

}  // namespace walsim::live
