// StreamProtocol without a server: hand-built CopyData frames in, engine
// messages and status updates out. The source seam's contract (a
// Keepalive only between transactions) and the status update's (never a
// flush beyond acknowledge(), never backwards) are checked here.
#include "live/stream_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace walsim::live {
namespace {

using pgoutput::StandbyStatus;

std::string be64(uint64_t value) {
  std::string out;
  pgoutput::append_be64(out, value);
  return out;
}

// 'k': wal_end, send_time, reply_requested.
std::string keepalive_frame(uint64_t wal_end, bool reply_requested = false) {
  return "k" + be64(wal_end) + be64(0) + std::string(1, reply_requested ? 1 : 0);
}

// 'w': start, wal_end, send_time, then the pgoutput payload.
std::string xlog_frame(uint64_t wal_end, const std::string& payload) {
  return "w" + be64(wal_end) + be64(wal_end) + be64(0) + payload;
}

std::string begin_payload(uint64_t final_lsn) {
  std::string xid;
  pgoutput::append_be32(xid, 7);
  return "B" + be64(final_lsn) + be64(0) + xid;
}

std::string commit_payload(uint64_t commit_lsn, uint64_t end_lsn) {
  return "C" + std::string(1, '\0') + be64(commit_lsn) + be64(end_lsn) + be64(0);
}

// pg_logical_emit_message(false, 'walsim', 'ping'): not an engine change.
std::string logical_message_payload(uint64_t lsn) {
  std::string length;
  pgoutput::append_be32(length, 4);
  return "M" + std::string(1, '\0') + be64(lsn) + "walsim" + std::string(1, '\0') + length +
         "ping";
}

StreamEvent feed(StreamProtocol& protocol, const std::string& frame) {
  Result<StreamEvent> event = protocol.on_frame(frame);
  EXPECT_TRUE(event.is_ok()) << event.status().to_string();
  return event.is_ok() ? std::move(event).value() : StreamEvent{};
}

TEST(StreamProtocolTest, IdleKeepaliveReachesTheEngine) {
  StreamProtocol protocol;
  StreamEvent event = feed(protocol, keepalive_frame(0x500, /*reply_requested=*/true));
  ASSERT_TRUE(event.message.has_value());
  ASSERT_TRUE(std::holds_alternative<KeepaliveMessage>(*event.message)) << describe(*event.message);
  EXPECT_EQ(std::get<KeepaliveMessage>(*event.message).lsn, Lsn(0x500));
  EXPECT_TRUE(event.reply_requested);
  EXPECT_EQ(protocol.received(), Lsn(0x500));
}

TEST(StreamProtocolTest, KeepaliveInsideATransactionIsSwallowedButStillAsksForAReply) {
  StreamProtocol protocol;
  StreamEvent begin = feed(protocol, xlog_frame(0x100, begin_payload(0x200)));
  ASSERT_TRUE(begin.message.has_value());
  EXPECT_TRUE(std::holds_alternative<BeginMessage>(*begin.message));
  EXPECT_TRUE(protocol.in_transaction());

  // The server's WAL end moved past the transaction's commit, but the
  // engine must not see a keepalive before the Commit.
  StreamEvent inside = feed(protocol, keepalive_frame(0x900, /*reply_requested=*/true));
  EXPECT_FALSE(inside.message.has_value()) << describe(*inside.message);
  EXPECT_TRUE(inside.reply_requested);
  EXPECT_EQ(protocol.received(), Lsn(0x900));  // still reported as received

  StreamEvent commit = feed(protocol, xlog_frame(0x900, commit_payload(0x200, 0x230)));
  ASSERT_TRUE(commit.message.has_value());
  EXPECT_TRUE(std::holds_alternative<CommitMessage>(*commit.message));
  EXPECT_FALSE(protocol.in_transaction());

  StreamEvent after = feed(protocol, keepalive_frame(0x950));
  ASSERT_TRUE(after.message.has_value());
  EXPECT_EQ(std::get<KeepaliveMessage>(*after.message).lsn, Lsn(0x950));
  EXPECT_FALSE(after.reply_requested);
}

TEST(StreamProtocolTest, LogicalMessagesPassNothingToTheEngine) {
  StreamProtocol protocol;
  StreamEvent event = feed(protocol, xlog_frame(0x300, logical_message_payload(0x2F0)));
  EXPECT_FALSE(event.message.has_value());
  EXPECT_FALSE(event.reply_requested);
  EXPECT_FALSE(protocol.in_transaction());
  EXPECT_EQ(protocol.received(), Lsn(0x300));
}

TEST(StreamProtocolTest, MalformedFrameIsCorrupt) {
  StreamProtocol protocol;
  EXPECT_EQ(protocol.on_frame("k\x01").status().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(protocol.on_frame(xlog_frame(0x10, "B")).status().code(), ErrorCode::kCorrupt);
}

TEST(StreamProtocolTest, StatusReportsOnlyWhatWasAcknowledged) {
  StreamProtocol protocol;
  feed(protocol, keepalive_frame(0x800));
  StandbyStatus before = protocol.status_update(/*now_ms=*/0, /*reply_now=*/false);
  EXPECT_EQ(before.write, Lsn(0x800));
  EXPECT_EQ(before.flush, Lsn::zero());  // nothing durable yet: 0/0, ignored by the server
  EXPECT_EQ(before.apply, Lsn::zero());
  protocol.status_sent(before);

  EXPECT_TRUE(protocol.acknowledge(Lsn(0x400)));
  EXPECT_FALSE(protocol.acknowledge(Lsn(0x3FF)));  // never moves back
  EXPECT_FALSE(protocol.acknowledge(Lsn(0x400)));
  StandbyStatus after = protocol.status_update(0, false);
  EXPECT_EQ(after.write, Lsn(0x800));
  EXPECT_EQ(after.flush, Lsn(0x400));
  EXPECT_EQ(after.apply, Lsn(0x400));
  protocol.status_sent(after);

  // An acknowledgement past what was received (a keepalive's position, or a
  // resumed store's) moves write along with it.
  EXPECT_TRUE(protocol.acknowledge(Lsn(0x1000)));
  StandbyStatus ahead = protocol.status_update(0, true);
  EXPECT_EQ(ahead.write, Lsn(0x1000));
  EXPECT_EQ(ahead.flush, Lsn(0x1000));
  EXPECT_TRUE(ahead.reply_now);
}

TEST(StreamProtocolTest, StatusCarriesTheClientTimeInPostgresMicroseconds) {
  StreamProtocol protocol;
  int64_t unix_ms = 1'893'456'000'000;  // 2030-01-01 00:00:00 UTC
  EXPECT_EQ(protocol.status_update(unix_ms, false).client_time,
            (unix_ms - pgoutput::kPgEpochUnixMs) * 1000);
}

TEST(StreamProtocolDeathTest, StatusBeyondTheAcknowledgedFlushAborts) {
  StreamProtocol protocol;
  protocol.acknowledge(Lsn(0x400));
  StandbyStatus forged = protocol.status_update(0, false);
  forged.flush = Lsn(0x401);
  EXPECT_DEATH(protocol.status_sent(forged), "reports only what the store acknowledged");
}

TEST(StreamProtocolDeathTest, StatusThatMovesBackwardsAborts) {
  StreamProtocol protocol;
  feed(protocol, keepalive_frame(0x800));
  protocol.acknowledge(Lsn(0x400));
  StandbyStatus sent = protocol.status_update(0, false);
  protocol.status_sent(sent);
  StandbyStatus older = sent;
  older.write = Lsn(0x7FF);
  EXPECT_DEATH(protocol.status_sent(older), "never move backwards");
}

}  // namespace
}  // namespace walsim::live
