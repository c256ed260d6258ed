// Fuzz target: the replication stream's wire decoder (live/pgoutput_decoder.h).
//
// Every input is decoded twice: as a CopyData frame (and, when it is an
// XLogData frame, its payload as a pgoutput message), and as a bare pgoutput
// message, so one corpus file exercises both entry points. The decoder
// promises an error value for any malformed input: kCorrupt, or kUnsupported
// for binary tuple data. A decoded message must also agree with its tag byte.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "engine/change.h"
#include "fuzz/fuzz_check.h"
#include "live/pgoutput_decoder.h"

namespace walsim::fuzz {
namespace {

namespace pgoutput = live::pgoutput;

// The tag each decoded kind must have come from.
char tag_of(const pgoutput::PgOutputMessage& message) {
  if (const auto* ignored = std::get_if<pgoutput::IgnoredMessage>(&message)) return ignored->tag;
  if (std::holds_alternative<pgoutput::LogicalMessage>(message)) return 'M';
  return std::visit(
      [](const auto& change) -> char {
        using T = std::decay_t<decltype(change)>;
        if constexpr (std::is_same_v<T, BeginMessage>) return 'B';
        if constexpr (std::is_same_v<T, CommitMessage>) return 'C';
        if constexpr (std::is_same_v<T, RelationMessage>) return 'R';
        if constexpr (std::is_same_v<T, InsertMessage>) return 'I';
        if constexpr (std::is_same_v<T, UpdateMessage>) return 'U';
        if constexpr (std::is_same_v<T, DeleteMessage>) return 'D';
        if constexpr (std::is_same_v<T, TruncateMessage>) return 'T';
        return '?';  // Keepalive is never decoded from pgoutput
      },
      std::get<ChangeMessage>(message));
}

void check_message(std::string_view payload) {
  auto decoded = pgoutput::decode_pgoutput(payload);
  if (!decoded.is_ok()) {
    ErrorCode code = decoded.status().code();
    require(code == ErrorCode::kCorrupt || code == ErrorCode::kUnsupported,
            "a malformed message is kCorrupt or kUnsupported", decoded.status().to_string());
    require(!decoded.status().message().empty(), "an error names the problem");
    return;
  }
  require(!payload.empty() && tag_of(*decoded) == payload[0],
          "a decoded message has the kind its tag byte names");
  if (const auto* change = std::get_if<ChangeMessage>(&*decoded)) {
    require(!describe(*change).empty(), "every change can be described");
  }
}

void check_frame(std::string_view frame) {
  auto decoded = pgoutput::decode_server_frame(frame);
  if (!decoded.is_ok()) {
    require(decoded.status().code() == ErrorCode::kCorrupt, "a malformed frame is kCorrupt",
            decoded.status().to_string());
    return;
  }
  if (const auto* xlog = std::get_if<pgoutput::XLogData>(&*decoded)) {
    // 'w', then start, wal end and send time: 25 bytes before the payload.
    require(frame[0] == 'w' && xlog->payload.data() == frame.data() + 25 &&
                xlog->payload.size() == frame.size() - 25,
            "an XLogData payload is the rest of its frame");
    check_message(xlog->payload);
    return;
  }
  require(frame[0] == 'k' && frame.size() == 18, "a keepalive frame is exactly 18 bytes");
}

}  // namespace
}  // namespace walsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  walsim::fuzz::check_frame(input);
  walsim::fuzz::check_message(input);
  return 0;
}
