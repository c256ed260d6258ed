#include "engine/row_codec.h"

#include <nlohmann/json.hpp>

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

Result<Row> decode_row(std::string_view text) {
  // Not the hot path (TOAST merges and resume keys only): a real JSON
  // parser is worth more here than speed.
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
