#include "live/pgoutput_decoder.h"

#include <cstdio>
#include <utility>

namespace walsim::live::pgoutput {

uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}

uint64_t load_be64(const uint8_t* p) {
  return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

void append_be16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xFF));
}

void append_be32(std::string& out, uint32_t value) {
  append_be16(out, static_cast<uint16_t>(value >> 16));
  append_be16(out, static_cast<uint16_t>(value & 0xFFFF));
}

void append_be64(std::string& out, uint64_t value) {
  append_be32(out, static_cast<uint32_t>(value >> 32));
  append_be32(out, static_cast<uint32_t>(value & 0xFFFFFFFF));
}

namespace {

// A bounds-checked read position in one frame or message. Every read names
// its field so that an error says what was being read and where.
class Cursor {
 public:
  Cursor(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  void set_what(std::string what) { what_ = std::move(what); }
  size_t offset() const { return offset_; }
  size_t remaining() const {
    WALSIM_ASSERT(offset_ <= data_.size(), "reads never pass the end of the data");
    return data_.size() - offset_;
  }

  Status error_at(size_t offset, const std::string& problem) const {
    return Status(ErrorCode::kCorrupt, "pgoutput " + what_ + ": " + problem +
                                           " at byte offset " + std::to_string(offset));
  }

  Status need(size_t n, const char* field) const {
    if (remaining() >= n) return Status::ok();
    return error_at(offset_, std::string("truncated ") + field + " (need " +
                                 std::to_string(n) + " bytes, " +
                                 std::to_string(remaining()) + " left)");
  }

  Status u8(const char* field, uint8_t* out) {
    WALSIM_RETURN_IF_ERROR(need(1, field));
    *out = bytes()[offset_];
    advance(1);
    return Status::ok();
  }
  Status i16(const char* field, int16_t* out) {
    WALSIM_RETURN_IF_ERROR(need(2, field));
    *out = static_cast<int16_t>(load_be16(bytes() + offset_));
    advance(2);
    return Status::ok();
  }
  Status u32(const char* field, uint32_t* out) {
    WALSIM_RETURN_IF_ERROR(need(4, field));
    *out = load_be32(bytes() + offset_);
    advance(4);
    return Status::ok();
  }
  Status i32(const char* field, int32_t* out) {
    uint32_t raw;
    WALSIM_RETURN_IF_ERROR(u32(field, &raw));
    *out = static_cast<int32_t>(raw);
    return Status::ok();
  }
  Status i64(const char* field, int64_t* out) {
    WALSIM_RETURN_IF_ERROR(need(8, field));
    *out = static_cast<int64_t>(load_be64(bytes() + offset_));
    advance(8);
    return Status::ok();
  }
  Status lsn(const char* field, Lsn* out) {
    int64_t raw;
    WALSIM_RETURN_IF_ERROR(i64(field, &raw));
    *out = Lsn(static_cast<uint64_t>(raw));
    return Status::ok();
  }

  // A NUL-terminated string, as Postgres sends names.
  Status cstring(const char* field, std::string* out) {
    size_t end = data_.find('\0', offset_);
    if (end == std::string_view::npos) {
      return error_at(offset_, std::string("unterminated ") + field);
    }
    *out = std::string(data_.substr(offset_, end - offset_));
    offset_ = end + 1;
    return Status::ok();
  }

  // An int32 length, then that many bytes. The length is checked against
  // what remains before anything is allocated.
  Status counted_bytes(const char* field, std::string* out) {
    size_t at = offset_;
    int32_t length;
    WALSIM_RETURN_IF_ERROR(i32(field, &length));
    if (length < 0) {
      return error_at(at, std::string("negative length ") + std::to_string(length) +
                              " of " + field);
    }
    if (static_cast<size_t>(length) > remaining()) {
      return error_at(at, std::string("length ") + std::to_string(length) + " of " +
                              field + " runs past the end (" +
                              std::to_string(remaining()) + " bytes left)");
    }
    *out = std::string(data_.substr(offset_, static_cast<size_t>(length)));
    advance(static_cast<size_t>(length));
    return Status::ok();
  }

  // A count that announces `count` items of at least `min_item_size` bytes
  // each: rejected when negative or when the bytes cannot hold them, so a
  // hostile count never sizes an allocation.
  Status count(const char* field, int64_t count, size_t min_item_size, size_t at) const {
    if (count < 0) {
      return error_at(at, std::string("negative ") + field + " " + std::to_string(count));
    }
    if (static_cast<uint64_t>(count) * min_item_size > remaining()) {
      return error_at(at, std::string(field) + " " + std::to_string(count) +
                              " exceeds the " + std::to_string(remaining()) +
                              " bytes left");
    }
    return Status::ok();
  }

  std::string_view rest() {
    std::string_view tail = data_.substr(offset_);
    offset_ = data_.size();
    return tail;
  }

  Status finish() const {
    if (remaining() == 0) return Status::ok();
    return error_at(offset_, std::to_string(remaining()) + " trailing bytes");
  }

 private:
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(data_.data()); }
  // Every caller checked the bytes are there (need(), or a length against
  // remaining()) before it read them.
  void advance(size_t n) {
    WALSIM_ASSERT(n <= remaining(), "a field is checked before it is consumed");
    offset_ += n;
  }

  std::string_view data_;
  size_t offset_ = 0;
  std::string what_;
};

std::string tag_name(uint8_t tag) {
  char buffer[16];
  if (tag >= 0x20 && tag < 0x7F) {
    std::snprintf(buffer, sizeof buffer, "'%c'", tag);
  } else {
    std::snprintf(buffer, sizeof buffer, "0x%02X", tag);
  }
  return buffer;
}

// ---- CopyData frames -------------------------------------------------------

Result<ServerFrame> decode_xlog_data(Cursor& in) {
  XLogData data;
  WALSIM_RETURN_IF_ERROR(in.lsn("start", &data.start));
  WALSIM_RETURN_IF_ERROR(in.lsn("wal end", &data.wal_end));
  WALSIM_RETURN_IF_ERROR(in.i64("send time", &data.send_time));
  data.payload = in.rest();
  return ServerFrame(data);
}

Result<ServerFrame> decode_keepalive(Cursor& in) {
  PrimaryKeepalive keepalive;
  uint8_t reply;
  WALSIM_RETURN_IF_ERROR(in.lsn("wal end", &keepalive.wal_end));
  WALSIM_RETURN_IF_ERROR(in.i64("send time", &keepalive.send_time));
  WALSIM_RETURN_IF_ERROR(in.u8("reply flag", &reply));
  WALSIM_RETURN_IF_ERROR(in.finish());
  keepalive.reply_requested = reply != 0;
  return ServerFrame(keepalive);
}

// ---- pgoutput messages -----------------------------------------------------

Result<PgOutputMessage> change(ChangeMessage message) {
  return PgOutputMessage(std::move(message));
}

Status decode_tuple(Cursor& in, Row* row) {
  size_t at = in.offset();
  int16_t ncols;
  WALSIM_RETURN_IF_ERROR(in.i16("tuple column count", &ncols));
  WALSIM_RETURN_IF_ERROR(in.count("tuple column count", ncols, 1, at));
  row->clear();
  row->reserve(static_cast<size_t>(ncols));
  for (int16_t i = 0; i < ncols; i++) {
    size_t kind_at = in.offset();
    uint8_t kind;
    WALSIM_RETURN_IF_ERROR(in.u8("column kind", &kind));
    switch (kind) {
      case 'n': row->push_back(Value::null()); break;
      case 'u': row->push_back(Value::unchanged_toast()); break;
      case 't': {
        std::string text;
        WALSIM_RETURN_IF_ERROR(in.counted_bytes("column value", &text));
        row->push_back(Value::of(std::move(text)));
        break;
      }
      case 'b':
        return Status(ErrorCode::kUnsupported,
                      "pgoutput: binary format not supported (column " + std::to_string(i) +
                          " at byte offset " + std::to_string(kind_at) + ")");
      default:
        return in.error_at(kind_at, "unknown column kind " + tag_name(kind) + " in column " +
                                        std::to_string(i));
    }
  }
  return Status::ok();
}

// Reads the one-byte tuple marker and checks it is one of `allowed`.
Status tuple_marker(Cursor& in, std::string_view allowed, uint8_t* marker) {
  size_t at = in.offset();
  WALSIM_RETURN_IF_ERROR(in.u8("tuple marker", marker));
  if (allowed.find(static_cast<char>(*marker)) == std::string_view::npos) {
    return in.error_at(at, "unexpected tuple marker " + tag_name(*marker) + " (want one of " +
                               std::string(allowed) + ")");
  }
  return Status::ok();
}

Result<PgOutputMessage> decode_begin(Cursor& in) {
  BeginMessage begin;
  int64_t commit_time;
  WALSIM_RETURN_IF_ERROR(in.lsn("final lsn", &begin.final_lsn));
  WALSIM_RETURN_IF_ERROR(in.i64("commit time", &commit_time));
  WALSIM_RETURN_IF_ERROR(in.u32("xid", &begin.xid));
  return change(begin);
}

Result<PgOutputMessage> decode_commit(Cursor& in) {
  CommitMessage commit;
  uint8_t flags;
  int64_t commit_time;
  WALSIM_RETURN_IF_ERROR(in.u8("flags", &flags));
  WALSIM_RETURN_IF_ERROR(in.lsn("commit lsn", &commit.commit_lsn));
  WALSIM_RETURN_IF_ERROR(in.lsn("end lsn", &commit.end_lsn));
  WALSIM_RETURN_IF_ERROR(in.i64("commit time", &commit_time));
  return change(commit);
}

Status decode_identity(Cursor& in, ReplicaIdentity* identity) {
  size_t at = in.offset();
  uint8_t code;
  WALSIM_RETURN_IF_ERROR(in.u8("replica identity", &code));
  switch (code) {
    case 'd': *identity = ReplicaIdentity::kDefault; return Status::ok();
    case 'n': *identity = ReplicaIdentity::kNothing; return Status::ok();
    case 'f': *identity = ReplicaIdentity::kFull; return Status::ok();
    case 'i': *identity = ReplicaIdentity::kIndex; return Status::ok();
  }
  return in.error_at(at, "unknown replica identity " + tag_name(code));
}

Status decode_column(Cursor& in, Column* column) {
  uint8_t flags;
  int32_t typmod;
  WALSIM_RETURN_IF_ERROR(in.u8("column flags", &flags));
  WALSIM_RETURN_IF_ERROR(in.cstring("column name", &column->name));
  WALSIM_RETURN_IF_ERROR(in.u32("column type oid", &column->type_oid));
  WALSIM_RETURN_IF_ERROR(in.i32("column type modifier", &typmod));
  column->is_key = (flags & 1) != 0;
  return Status::ok();
}

Result<PgOutputMessage> decode_relation(Cursor& in) {
  Relation relation;
  WALSIM_RETURN_IF_ERROR(in.u32("relid", &relation.relid));
  WALSIM_RETURN_IF_ERROR(in.cstring("namespace", &relation.schema));
  if (relation.schema.empty()) relation.schema = "pg_catalog";
  WALSIM_RETURN_IF_ERROR(in.cstring("relation name", &relation.name));
  WALSIM_RETURN_IF_ERROR(decode_identity(in, &relation.identity));
  size_t at = in.offset();
  int16_t ncols;
  WALSIM_RETURN_IF_ERROR(in.i16("column count", &ncols));
  // Smallest column: flags, "" name, type oid, typmod.
  WALSIM_RETURN_IF_ERROR(in.count("column count", ncols, 1 + 1 + 4 + 4, at));
  relation.columns.resize(static_cast<size_t>(ncols));
  for (Column& column : relation.columns) {
    WALSIM_RETURN_IF_ERROR(decode_column(in, &column));
  }
  return change(RelationMessage{std::move(relation)});
}

Result<PgOutputMessage> decode_insert(Cursor& in) {
  InsertMessage insert;
  uint8_t marker;
  WALSIM_RETURN_IF_ERROR(in.u32("relid", &insert.relid));
  WALSIM_RETURN_IF_ERROR(tuple_marker(in, "N", &marker));
  WALSIM_RETURN_IF_ERROR(decode_tuple(in, &insert.new_row));
  return change(std::move(insert));
}

Result<PgOutputMessage> decode_update(Cursor& in) {
  UpdateMessage update;
  uint8_t marker;
  WALSIM_RETURN_IF_ERROR(in.u32("relid", &update.relid));
  WALSIM_RETURN_IF_ERROR(tuple_marker(in, "KON", &marker));
  if (marker != 'N') {
    update.old_key.emplace();
    WALSIM_RETURN_IF_ERROR(decode_tuple(in, &*update.old_key));
    WALSIM_RETURN_IF_ERROR(tuple_marker(in, "N", &marker));
  }
  WALSIM_RETURN_IF_ERROR(decode_tuple(in, &update.new_row));
  return change(std::move(update));
}

Result<PgOutputMessage> decode_delete(Cursor& in) {
  DeleteMessage del;
  uint8_t marker;
  WALSIM_RETURN_IF_ERROR(in.u32("relid", &del.relid));
  WALSIM_RETURN_IF_ERROR(tuple_marker(in, "KO", &marker));
  WALSIM_RETURN_IF_ERROR(decode_tuple(in, &del.old_key));
  return change(std::move(del));
}

Result<PgOutputMessage> decode_truncate(Cursor& in) {
  TruncateMessage truncate;
  size_t at = in.offset();
  int32_t nrels;
  uint8_t options;  // CASCADE / RESTART IDENTITY: irrelevant to a copy
  WALSIM_RETURN_IF_ERROR(in.i32("relation count", &nrels));
  WALSIM_RETURN_IF_ERROR(in.u8("options", &options));
  WALSIM_RETURN_IF_ERROR(in.count("relation count", nrels, 4, at));
  truncate.relids.resize(static_cast<size_t>(nrels));
  for (uint32_t& relid : truncate.relids) {
    WALSIM_RETURN_IF_ERROR(in.u32("relid", &relid));
  }
  return change(std::move(truncate));
}

Result<PgOutputMessage> decode_message(Cursor& in) {
  LogicalMessage message;
  uint8_t flags;
  WALSIM_RETURN_IF_ERROR(in.u8("flags", &flags));
  WALSIM_RETURN_IF_ERROR(in.lsn("lsn", &message.lsn));
  WALSIM_RETURN_IF_ERROR(in.cstring("prefix", &message.prefix));
  WALSIM_RETURN_IF_ERROR(in.counted_bytes("content", &message.content));
  message.transactional = (flags & 1) != 0;
  return PgOutputMessage(std::move(message));
}

Result<PgOutputMessage> decode_origin(Cursor& in) {
  Lsn origin_lsn;
  std::string name;
  WALSIM_RETURN_IF_ERROR(in.lsn("origin lsn", &origin_lsn));
  WALSIM_RETURN_IF_ERROR(in.cstring("origin name", &name));
  return PgOutputMessage(IgnoredMessage{'O'});
}

Result<PgOutputMessage> decode_type(Cursor& in) {
  uint32_t oid;
  std::string schema, name;
  WALSIM_RETURN_IF_ERROR(in.u32("type oid", &oid));
  WALSIM_RETURN_IF_ERROR(in.cstring("type namespace", &schema));
  WALSIM_RETURN_IF_ERROR(in.cstring("type name", &name));
  return PgOutputMessage(IgnoredMessage{'Y'});
}

using MessageDecoder = Result<PgOutputMessage> (*)(Cursor&);

struct MessageKind {
  char tag;
  const char* name;
  MessageDecoder decode;
};

constexpr MessageKind kMessageKinds[] = {
    {'B', "begin", decode_begin},       {'C', "commit", decode_commit},
    {'R', "relation", decode_relation}, {'I', "insert", decode_insert},
    {'U', "update", decode_update},     {'D', "delete", decode_delete},
    {'T', "truncate", decode_truncate}, {'M', "message", decode_message},
    {'O', "origin", decode_origin},     {'Y', "type", decode_type},
};

}  // namespace

Result<ServerFrame> decode_server_frame(std::string_view frame) {
  Cursor in(frame, "frame");
  uint8_t tag;
  WALSIM_RETURN_IF_ERROR(in.u8("tag", &tag));
  switch (tag) {
    case 'w': in.set_what("XLogData"); return decode_xlog_data(in);
    case 'k': in.set_what("keepalive"); return decode_keepalive(in);
  }
  return in.error_at(0, "unknown frame tag " + tag_name(tag));
}

Result<PgOutputMessage> decode_pgoutput(std::string_view payload) {
  Cursor in(payload, "message");
  uint8_t tag;
  WALSIM_RETURN_IF_ERROR(in.u8("tag", &tag));
  for (const MessageKind& kind : kMessageKinds) {
    if (static_cast<uint8_t>(kind.tag) != tag) continue;
    in.set_what(kind.name);
    Result<PgOutputMessage> message = kind.decode(in);
    if (!message.is_ok()) return message;
    WALSIM_RETURN_IF_ERROR(in.finish());
    return message;
  }
  return in.error_at(0, "unknown message tag " + tag_name(tag));
}

std::string encode_standby_status(const StandbyStatus& status) {
  std::string frame(1, 'r');
  append_be64(frame, status.write.value());
  append_be64(frame, status.flush.value());
  append_be64(frame, status.apply.value());
  append_be64(frame, static_cast<uint64_t>(status.client_time));
  frame.push_back(status.reply_now ? 1 : 0);
  WALSIM_ASSERT(frame.size() == 34, "'r', four int64 fields, one flag byte");
  return frame;
}

}  // namespace walsim::live::pgoutput
