#include "live/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace walsim::live::pgoutput {
namespace {

// Builds wire bytes field by field.
class Bytes {
 public:
  Bytes& u8(uint8_t value) { data_.push_back(static_cast<char>(value)); return *this; }
  Bytes& i16(int16_t value) { append_be16(data_, static_cast<uint16_t>(value)); return *this; }
  Bytes& i32(int32_t value) { append_be32(data_, static_cast<uint32_t>(value)); return *this; }
  Bytes& i64(int64_t value) { append_be64(data_, static_cast<uint64_t>(value)); return *this; }
  Bytes& cstr(const std::string& text) { data_ += text; data_.push_back('\0'); return *this; }
  Bytes& text_column(const std::string& text) {
    u8('t').i32(static_cast<int32_t>(text.size()));
    data_ += text;
    return *this;
  }
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

template <typename T>
T decode_change(const std::string& payload) {
  Result<PgOutputMessage> decoded = decode_pgoutput(payload);
  EXPECT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  if (!decoded.is_ok()) return T{};
  const auto* change = std::get_if<ChangeMessage>(&*decoded);
  EXPECT_NE(change, nullptr);
  if (change == nullptr || !std::holds_alternative<T>(*change)) {
    ADD_FAILURE() << "wrong message kind";
    return T{};
  }
  return std::get<T>(*change);
}

Status decode_error(const std::string& payload) {
  Result<PgOutputMessage> decoded = decode_pgoutput(payload);
  EXPECT_FALSE(decoded.is_ok()) << "decoded malformed input";
  return decoded.status();
}

// ---- valid sample messages -------------------------------------------------

std::string begin_message() {
  return Bytes().u8('B').i64(0x16B374D848).i64(700000000000).i32(742).str();
}
std::string commit_message() {
  return Bytes().u8('C').u8(0).i64(0x1000).i64(0x1030).i64(700000000001).str();
}
std::string relation_message(const std::string& schema = "public") {
  return Bytes()
      .u8('R').i32(16384).cstr(schema).cstr("items").u8('d').i16(3)
      .u8(1).cstr("id").i32(23).i32(-1)
      .u8(0).cstr("name").i32(25).i32(-1)
      .u8(0).cstr("body").i32(25).i32(-1)
      .str();
}
std::string insert_message() {
  return Bytes().u8('I').i32(16384).u8('N').i16(3)
      .text_column("1").u8('n').text_column("hello").str();
}
std::string update_message(char old_marker) {
  Bytes bytes;
  bytes.u8('U').i32(16384);
  if (old_marker) bytes.u8(old_marker).i16(3).text_column("1").u8('n').u8('n');
  return bytes.u8('N').i16(3).text_column("2").text_column("x").u8('u').str();
}
std::string delete_message(char marker) {
  return Bytes().u8('D').i32(16384).u8(marker).i16(3).text_column("7").u8('n').u8('n').str();
}
std::string truncate_message() {
  return Bytes().u8('T').i32(2).u8(1).i32(16384).i32(16390).str();
}
std::string logical_message() {
  return Bytes().u8('M').u8(1).i64(0x2000).cstr("walsim").i32(4).str() + "ping";
}
std::string origin_message() { return Bytes().u8('O').i64(0x3000).cstr("upstream").str(); }
std::string type_message() { return Bytes().u8('Y').i32(90000).cstr("public").cstr("mood").str(); }

std::vector<std::string> all_sample_messages() {
  return {begin_message(),      commit_message(),      relation_message(),
          insert_message(),     update_message(0),     update_message('K'),
          update_message('O'),  delete_message('K'),   delete_message('O'),
          truncate_message(),   logical_message(),     origin_message(),
          type_message()};
}

// ---- helpers ---------------------------------------------------------------

TEST(PgOutputDecoderTest, BigEndianHelpersWriteNetworkOrder) {
  std::string out;
  append_be16(out, 0x0102);
  append_be32(out, 0x03040506);
  append_be64(out, 0x0708090A0B0C0D0Eull);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E", 14));
  const auto* bytes = reinterpret_cast<const uint8_t*>(out.data());
  EXPECT_EQ(load_be16(bytes), 0x0102);
  EXPECT_EQ(load_be32(bytes + 2), 0x03040506u);
  EXPECT_EQ(load_be64(bytes + 6), 0x0708090A0B0C0D0Eull);
  EXPECT_EQ(load_be64(reinterpret_cast<const uint8_t*>("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFE")),
            0xFFFFFFFFFFFFFFFEull);
}

TEST(PgOutputDecoderTest, TimestampsCountFrom2000) {
  EXPECT_EQ(pg_time_from_unix_ms(946684800000), 0);
  EXPECT_EQ(pg_time_from_unix_ms(946684800001), 1000);
  EXPECT_EQ(pg_time_from_unix_ms(0), -946684800000000);
}

TEST(PgOutputDecoderTest, EncodesStandbyStatus) {
  StandbyStatus status{Lsn(0x10), Lsn(0x0F), Lsn(0x0E), 0x0102030405060708, true};
  std::string expected = Bytes().u8('r').i64(0x10).i64(0x0F).i64(0x0E)
                             .i64(0x0102030405060708).u8(1).str();
  EXPECT_EQ(encode_standby_status(status), expected);
  EXPECT_EQ(expected.size(), 34u);
  status.reply_now = false;
  EXPECT_EQ(encode_standby_status(status).back(), '\0');
}

// ---- frames ----------------------------------------------------------------

TEST(PgOutputDecoderTest, DecodesXLogData) {
  std::string frame = Bytes().u8('w').i64(0x100).i64(0x200).i64(12345).str() + begin_message();
  Result<ServerFrame> decoded = decode_server_frame(frame);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  const auto& data = std::get<XLogData>(*decoded);
  EXPECT_EQ(data.start, Lsn(0x100));
  EXPECT_EQ(data.wal_end, Lsn(0x200));
  EXPECT_EQ(data.send_time, 12345);
  EXPECT_EQ(data.payload, begin_message());
}

TEST(PgOutputDecoderTest, DecodesKeepalive) {
  for (uint8_t reply : {0, 1}) {
    std::string frame = Bytes().u8('k').i64(0x1234).i64(99).u8(reply).str();
    Result<ServerFrame> decoded = decode_server_frame(frame);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    const auto& keepalive = std::get<PrimaryKeepalive>(*decoded);
    EXPECT_EQ(keepalive.wal_end, Lsn(0x1234));
    EXPECT_EQ(keepalive.send_time, 99);
    EXPECT_EQ(keepalive.reply_requested, reply == 1);
  }
}

TEST(PgOutputDecoderTest, RejectsMalformedFrames) {
  std::string keepalive = Bytes().u8('k').i64(1).i64(2).u8(0).str();
  std::string xlog = Bytes().u8('w').i64(1).i64(2).i64(3).str();
  for (size_t size = 0; size < keepalive.size(); size++) {
    EXPECT_FALSE(decode_server_frame(keepalive.substr(0, size)).is_ok()) << size;
  }
  for (size_t size = 0; size < xlog.size(); size++) {
    EXPECT_FALSE(decode_server_frame(xlog.substr(0, size)).is_ok()) << size;
  }
  Result<ServerFrame> trailing = decode_server_frame(keepalive + "x");
  ASSERT_FALSE(trailing.is_ok());
  EXPECT_EQ(trailing.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(trailing.status().message().find("1 trailing bytes at byte offset 18"),
            std::string::npos) << trailing.status().message();
  Result<ServerFrame> unknown = decode_server_frame("z");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("unknown frame tag 'z'"), std::string::npos);
}

// ---- messages --------------------------------------------------------------

TEST(PgOutputDecoderTest, DecodesBegin) {
  auto begin = decode_change<BeginMessage>(begin_message());
  EXPECT_EQ(begin.final_lsn, Lsn(0x16B374D848));
  EXPECT_EQ(begin.xid, 742u);
}

TEST(PgOutputDecoderTest, DecodesCommit) {
  auto commit = decode_change<CommitMessage>(commit_message());
  EXPECT_EQ(commit.commit_lsn, Lsn(0x1000));
  EXPECT_EQ(commit.end_lsn, Lsn(0x1030));
}

TEST(PgOutputDecoderTest, DecodesRelation) {
  auto message = decode_change<RelationMessage>(relation_message());
  Relation expected;
  expected.relid = 16384;
  expected.schema = "public";
  expected.name = "items";
  expected.identity = ReplicaIdentity::kDefault;
  expected.columns = {{"id", 23, true}, {"name", 25, false}, {"body", 25, false}};
  EXPECT_EQ(message.relation, expected);
}

TEST(PgOutputDecoderTest, RelationInEmptyNamespaceIsPgCatalog) {
  EXPECT_EQ(decode_change<RelationMessage>(relation_message("")).relation.schema, "pg_catalog");
}

TEST(PgOutputDecoderTest, MapsReplicaIdentities) {
  const std::pair<char, ReplicaIdentity> cases[] = {{'d', ReplicaIdentity::kDefault},
                                                    {'n', ReplicaIdentity::kNothing},
                                                    {'f', ReplicaIdentity::kFull},
                                                    {'i', ReplicaIdentity::kIndex}};
  for (auto [code, identity] : cases) {
    std::string message = Bytes().u8('R').i32(1).cstr("s").cstr("t").u8(code).i16(0).str();
    EXPECT_EQ(decode_change<RelationMessage>(message).relation.identity, identity) << code;
  }
  Status bad = decode_error(Bytes().u8('R').i32(1).cstr("s").cstr("t").u8('x').i16(0).str());
  EXPECT_NE(bad.message().find("unknown replica identity 'x' at byte offset 9"),
            std::string::npos) << bad.message();
}

TEST(PgOutputDecoderTest, DecodesInsertWithNullAndText) {
  auto insert = decode_change<InsertMessage>(insert_message());
  EXPECT_EQ(insert.relid, 16384u);
  EXPECT_EQ(insert.new_row, (Row{Value::of("1"), Value::null(), Value::of("hello")}));
}

TEST(PgOutputDecoderTest, TextValuesKeepEveryByte) {
  std::string raw("a\0b\xFF", 4);
  auto insert = decode_change<InsertMessage>(
      Bytes().u8('I').i32(1).u8('N').i16(2).text_column(raw).text_column("").str());
  EXPECT_EQ(insert.new_row, (Row{Value::of(raw), Value::of("")}));
}

TEST(PgOutputDecoderTest, DecodesUpdateWithoutOldTuple) {
  auto update = decode_change<UpdateMessage>(update_message(0));
  EXPECT_EQ(update.relid, 16384u);
  EXPECT_FALSE(update.old_key.has_value());
  EXPECT_EQ(update.new_row, (Row{Value::of("2"), Value::of("x"), Value::unchanged_toast()}));
}

TEST(PgOutputDecoderTest, DecodesUpdateWithKeyOrOldTuple) {
  for (char marker : {'K', 'O'}) {
    auto update = decode_change<UpdateMessage>(update_message(marker));
    ASSERT_TRUE(update.old_key.has_value()) << marker;
    EXPECT_EQ(*update.old_key, (Row{Value::of("1"), Value::null(), Value::null()}));
    EXPECT_EQ(update.new_row, (Row{Value::of("2"), Value::of("x"), Value::unchanged_toast()}));
  }
}

TEST(PgOutputDecoderTest, DecodesDelete) {
  for (char marker : {'K', 'O'}) {
    auto del = decode_change<DeleteMessage>(delete_message(marker));
    EXPECT_EQ(del.relid, 16384u);
    EXPECT_EQ(del.old_key, (Row{Value::of("7"), Value::null(), Value::null()}));
  }
}

TEST(PgOutputDecoderTest, DecodesTruncate) {
  auto truncate = decode_change<TruncateMessage>(truncate_message());
  EXPECT_EQ(truncate.relids, (std::vector<uint32_t>{16384, 16390}));
}

TEST(PgOutputDecoderTest, DecodesLogicalMessage) {
  Result<PgOutputMessage> decoded = decode_pgoutput(logical_message());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  const auto& message = std::get<LogicalMessage>(*decoded);
  EXPECT_TRUE(message.transactional);
  EXPECT_EQ(message.lsn, Lsn(0x2000));
  EXPECT_EQ(message.prefix, "walsim");
  EXPECT_EQ(message.content, "ping");
}

TEST(PgOutputDecoderTest, OriginAndTypeAreIgnored) {
  for (const auto& [payload, tag] : {std::pair{origin_message(), 'O'}, {type_message(), 'Y'}}) {
    Result<PgOutputMessage> decoded = decode_pgoutput(payload);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(std::get<IgnoredMessage>(*decoded).tag, tag);
  }
}

// ---- malformed messages ----------------------------------------------------

TEST(PgOutputDecoderTest, EveryTruncationOfAnInsertIsAnError) {
  std::string insert = insert_message();
  for (size_t size = 0; size < insert.size(); size++) {
    Status error = decode_error(insert.substr(0, size));
    EXPECT_EQ(error.code(), ErrorCode::kCorrupt) << size;
    EXPECT_NE(error.message().find("byte offset"), std::string::npos) << error.message();
  }
}

TEST(PgOutputDecoderTest, EveryTruncationOfEveryMessageIsAnError) {
  for (const std::string& message : all_sample_messages()) {
    ASSERT_TRUE(decode_pgoutput(message).is_ok()) << message[0];
    for (size_t size = 0; size < message.size(); size++) {
      EXPECT_EQ(decode_error(message.substr(0, size)).code(), ErrorCode::kCorrupt)
          << message[0] << " cut at " << size;
    }
  }
}

TEST(PgOutputDecoderTest, TrailingBytesAreAnError) {
  for (const std::string& message : all_sample_messages()) {
    Status error = decode_error(message + '\0');
    EXPECT_EQ(error.code(), ErrorCode::kCorrupt) << message[0];
    EXPECT_NE(error.message().find("1 trailing bytes at byte offset " +
                                   std::to_string(message.size())),
              std::string::npos) << error.message();
  }
}

TEST(PgOutputDecoderTest, UnknownTagsAreErrors) {
  EXPECT_NE(decode_error("S").message().find("unknown message tag 'S' at byte offset 0"),
            std::string::npos);
  EXPECT_NE(decode_error(std::string(1, '\x01')).message().find("0x01"), std::string::npos);
  Status kind = decode_error(Bytes().u8('I').i32(1).u8('N').i16(1).u8('q').str());
  EXPECT_NE(kind.message().find("unknown column kind 'q' in column 0 at byte offset 8"),
            std::string::npos) << kind.message();
}

TEST(PgOutputDecoderTest, NegativeAndOversizedLengthsAreErrors) {
  Status negative = decode_error(Bytes().u8('I').i32(1).u8('N').i16(1).u8('t').i32(-5).str());
  EXPECT_NE(negative.message().find("negative length -5 of column value at byte offset 9"),
            std::string::npos) << negative.message();
  Status past_end =
      decode_error(Bytes().u8('I').i32(1).u8('N').i16(1).u8('t').i32(1 << 30).str() + "abc");
  EXPECT_NE(past_end.message().find("runs past the end (3 bytes left) at byte offset 9"),
            std::string::npos) << past_end.message();
  Status negative_columns = decode_error(Bytes().u8('I').i32(1).u8('N').i16(-1).str());
  EXPECT_NE(negative_columns.message().find("negative tuple column count -1"), std::string::npos);
  // Counts that the remaining bytes cannot hold fail before any allocation.
  EXPECT_EQ(decode_error(Bytes().u8('I').i32(1).u8('N').i16(32767).str()).code(),
            ErrorCode::kCorrupt);
  EXPECT_EQ(decode_error(Bytes().u8('R').i32(1).cstr("s").cstr("t").u8('d').i16(32767).str())
                .code(),
            ErrorCode::kCorrupt);
  EXPECT_EQ(decode_error(Bytes().u8('T').i32(0x7FFFFFFF).u8(0).str()).code(),
            ErrorCode::kCorrupt);
  EXPECT_EQ(decode_error(Bytes().u8('T').i32(-1).u8(0).str()).code(), ErrorCode::kCorrupt);
  EXPECT_EQ(decode_error(Bytes().u8('M').u8(0).i64(1).cstr("p").i32(-1).str()).code(),
            ErrorCode::kCorrupt);
}

TEST(PgOutputDecoderTest, WrongTupleMarkersAreErrors) {
  EXPECT_EQ(decode_error(Bytes().u8('I').i32(1).u8('K').i16(0).str()).code(), ErrorCode::kCorrupt);
  EXPECT_EQ(decode_error(Bytes().u8('D').i32(1).u8('N').i16(0).str()).code(), ErrorCode::kCorrupt);
  // An old tuple must be followed by 'N', not a second old tuple.
  Status twice = decode_error(Bytes().u8('U').i32(1).u8('K').i16(0).u8('O').i16(0).str());
  EXPECT_NE(twice.message().find("unexpected tuple marker 'O' (want one of N)"),
            std::string::npos) << twice.message();
}

TEST(PgOutputDecoderTest, UnterminatedStringsAreErrors) {
  Status error = decode_error(Bytes().u8('R').i32(1).str() + "public");
  EXPECT_NE(error.message().find("unterminated namespace at byte offset 5"), std::string::npos)
      << error.message();
}

TEST(PgOutputDecoderTest, BinaryColumnsAreUnsupported) {
  Result<PgOutputMessage> decoded = decode_pgoutput(
      Bytes().u8('I').i32(1).u8('N').i16(1).u8('b').i32(1).str() + "x");
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(decoded.status().message().find("binary format not supported"), std::string::npos);
}

}  // namespace
}  // namespace walsim::live::pgoutput
