// The replication stream's wire format: CopyData frames (XLogData, primary
// keepalive, standby status update) and pgoutput proto_version 1 payloads.
//
// Pure functions over bytes, no libpq: the live stream feeds them what
// PQgetCopyData returns, tests feed hand-built frames, and a fuzzer feeds
// anything. Every malformed input yields a kCorrupt Status that names the
// problem and its byte offset; nothing reads past `data` and no length field
// is trusted before it is checked against the bytes that remain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "engine/change.h"
#include "engine/lsn.h"
#include "engine/status.h"

namespace walsim::live::pgoutput {

// Postgres timestamps count microseconds since 2000-01-01 00:00:00 UTC.
inline constexpr int64_t kPgEpochUnixMs = 946'684'800'000;
constexpr int64_t pg_time_from_unix_ms(int64_t unix_ms) {
  return (unix_ms - kPgEpochUnixMs) * 1000;
}

// Big-endian integers as the protocol sends them. load_be* read exactly 2, 4
// or 8 bytes at `p`: bounds are the caller's job.
uint16_t load_be16(const uint8_t* p);
uint32_t load_be32(const uint8_t* p);
uint64_t load_be64(const uint8_t* p);
void append_be16(std::string& out, uint16_t value);
void append_be32(std::string& out, uint32_t value);
void append_be64(std::string& out, uint64_t value);

// Server -> client CopyData frames.
struct XLogData {  // 'w'
  Lsn start;
  Lsn wal_end;
  int64_t send_time = 0;     // Postgres timestamp
  std::string_view payload;  // a pgoutput message; points into the frame
};
struct PrimaryKeepalive {  // 'k'
  Lsn wal_end;
  int64_t send_time = 0;
  bool reply_requested = false;
};
using ServerFrame = std::variant<XLogData, PrimaryKeepalive>;

Result<ServerFrame> decode_server_frame(std::string_view frame);

// pgoutput messages that are not engine changes.
struct LogicalMessage {  // 'M', from pg_logical_emit_message()
  bool transactional = false;
  Lsn lsn;
  std::string prefix;
  std::string content;
};
struct IgnoredMessage {  // 'O' origin, 'Y' type: nothing the engine needs
  char tag = 0;
};
using PgOutputMessage = std::variant<ChangeMessage, LogicalMessage, IgnoredMessage>;

// Decodes one pgoutput v1 message (B C R I U D T O Y M). Tuples decode to
// Rows: 'n' -> null, 'u' -> unchanged TOAST, 't' -> text. 'b' (binary) is
// rejected with kUnsupported: walsim never asks for binary mode, and
// passing binary bytes on as text would silently corrupt values. A relation
// namespace sent as "" means pg_catalog, as in Postgres.
Result<PgOutputMessage> decode_pgoutput(std::string_view payload);

// Client -> server standby status update ('r').
struct StandbyStatus {
  Lsn write;  // received
  Lsn flush;  // durable: what the slot may release
  Lsn apply;
  int64_t client_time = 0;  // Postgres timestamp
  bool reply_now = false;
};
std::string encode_standby_status(const StandbyStatus& status);

}  // namespace walsim::live::pgoutput
