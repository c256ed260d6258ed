#include "live/copy_text.h"

#include <string>

namespace walsim::live {

namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One field's raw text, escapes undone. `raw` has no unescaped tab.
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); i++) {
    char c = raw[i];
    if (c != '\\' || i + 1 == raw.size()) {
      out += c;  // a lone trailing backslash is kept, as COPY FROM does
      continue;
    }
    char next = raw[++i];
    switch (next) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        int value = i + 1 < raw.size() ? hex_value(raw[i + 1]) : -1;
        if (value < 0) {
          out += 'x';
          break;
        }
        i++;
        if (i + 1 < raw.size() && hex_value(raw[i + 1]) >= 0) value = value * 16 + hex_value(raw[++i]);
        out += static_cast<char>(value);
        break;
      }
      default:
        if (is_octal(next)) {
          int value = next - '0';
          for (int digits = 1; digits < 3 && i + 1 < raw.size() && is_octal(raw[i + 1]); digits++) {
            value = value * 8 + (raw[++i] - '0');
          }
          out += static_cast<char>(value & 0xFF);
        } else {
          out += next;  // \\ and any other escaped character
        }
    }
  }
  return out;
}

}  // namespace

Result<Row> parse_copy_text_line(std::string_view line, size_t columns) {
  WALSIM_ASSERT(columns > 0, "a table has columns");
  Row row;
  row.reserve(columns);
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    std::string_view raw = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (raw == "\\N") {
      row.push_back(Value::null());
    } else if (raw.find('\\') == std::string_view::npos) {
      row.push_back(Value::of(std::string(raw)));
    } else {
      row.push_back(Value::of(unescape(raw)));
    }
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (row.size() != columns) {
    return Status(ErrorCode::kCorrupt, "a COPY line has " + std::to_string(row.size()) +
                                           " values; the table has " + std::to_string(columns) +
                                           " columns");
  }
  WALSIM_ASSERT(row.size() == columns);
  return row;
}

}  // namespace walsim::live
