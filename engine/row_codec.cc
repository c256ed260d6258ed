#include "engine/row_codec.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "engine/json_text.h"

namespace walsim {

std::string encode_row(const Row& row) {
  std::string out;
  out.reserve(16 * row.size() + 2);
  out.push_back('[');
  for (size_t i = 0; i < row.size(); i++) {
    if (i > 0) out.push_back(',');
    switch (row[i].kind) {
      case Value::Kind::kNull: out += "null"; break;
      case Value::Kind::kText: append_json_string(out, row[i].text); break;
      case Value::Kind::kUnchangedToast: out += "false"; break;
    }
  }
  out.push_back(']');
  return out;
}

namespace {

// The common case, without a JSON parser: what encode_row writes for rows
// whose text needs no escape (no backslash, no control byte, valid UTF-8),
// with no whitespace. nullopt for anything else, which the parser decides.
// Every row the store updates is read back through here, so it is hot.
std::optional<Row> decode_plain_row(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  Row row;
  size_t at = 1;
  const size_t end = text.size() - 1;
  while (at < end) {
    if (!row.empty()) {
      if (text[at] != ',' || at + 1 >= end) return std::nullopt;  // a value follows a comma
      at++;
    }
    if (text.compare(at, 4, "null") == 0) {
      row.push_back(Value::null());
      at += 4;
    } else if (text.compare(at, 5, "false") == 0) {
      row.push_back(Value::unchanged_toast());
      at += 5;
    } else if (text[at] == '"') {
      const size_t close = text.find('"', at + 1);
      if (close == std::string_view::npos || close >= end) return std::nullopt;
      const std::string_view value = text.substr(at + 1, close - at - 1);
      for (char c : value) {
        if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      }
      if (first_invalid_utf8(value)) return std::nullopt;
      row.push_back(Value::of(std::string(value)));
      at = close + 1;
    } else {
      return std::nullopt;
    }
  }
  if (at != end || (row.empty() && text.size() != 2)) return std::nullopt;
  return row;
}

}  // namespace

Result<Row> decode_row(std::string_view text) {
  if (std::optional<Row> plain = decode_plain_row(text)) return std::move(*plain);
  // Escapes and anything unusual: a real JSON parser is worth more there
  // than speed.
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) {
    return Status(ErrorCode::kCorrupt, "stored row is not a JSON array: " + std::string(text));
  }
  Row row;
  row.reserve(parsed.size());
  for (const auto& item : parsed) {
    if (item.is_string()) row.push_back(Value::of(item.get<std::string>()));
    else if (item.is_null()) row.push_back(Value::null());
    else if (item.is_boolean() && !item.get<bool>()) row.push_back(Value::unchanged_toast());
    else return Status(ErrorCode::kCorrupt, "stored row has a bad value: " + std::string(text));
  }
  return row;
}

}  // namespace walsim
