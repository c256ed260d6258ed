#include "live/table_name.h"

#include <vector>

#include "live/pg_connection.h"

namespace walsim::live {

namespace {

std::string text_of_part(const std::string& part) {
  const bool plain = !part.empty() && part.find_first_of(".\"") == std::string::npos;
  if (plain) return part;
  std::string quoted = "\"";
  for (char c : part) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

Status invalid(std::string_view text, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument,
                "invalid table name '" + std::string(text) + "': " + why);
}

}  // namespace

std::string TableName::to_string() const {
  if (schema == "public" && name.find_first_of(".\"") == std::string::npos && !name.empty()) {
    return name;
  }
  return text_of_part(schema) + "." + text_of_part(name);
}

Result<std::string> TableName::sql(PgConnection& connection) const {
  WALSIM_ASSIGN_OR_RETURN(std::string quoted_schema, connection.quote_identifier(schema));
  WALSIM_ASSIGN_OR_RETURN(std::string quoted_name, connection.quote_identifier(name));
  return quoted_schema + "." + quoted_name;
}

Result<TableName> parse_table_name(std::string_view text) {
  std::vector<std::string> parts(1);
  size_t at = 0;
  while (at < text.size()) {
    if (text[at] == '.') {
      parts.emplace_back();
      at++;
      continue;
    }
    // A quote opens a quoted part only at the part's start; inside an
    // unquoted part it is an ordinary character.
    if (text[at] != '"' || !parts.back().empty()) {
      parts.back() += text[at++];
      continue;
    }
    // A quoted part: up to the closing quote, "" standing for one quote.
    for (at++;; at++) {
      if (at >= text.size()) return invalid(text, "unterminated quote");
      if (text[at] != '"') {
        parts.back() += text[at];
      } else if (at + 1 < text.size() && text[at + 1] == '"') {
        parts.back() += '"';
        at++;
      } else {
        break;
      }
    }
    at++;  // the closing quote
    if (at < text.size() && text[at] != '.') return invalid(text, "text after a closing quote");
    if (parts.back().empty()) return invalid(text, "an empty quoted name");
  }
  if (parts.size() > 2) return invalid(text, "more than one '.' outside quotes");
  for (const std::string& part : parts) {
    if (part.empty()) return invalid(text, "an empty name");
  }
  WALSIM_ASSERT(parts.size() == 1 || parts.size() == 2);
  if (parts.size() == 1) return TableName{"public", parts[0]};
  return TableName{parts[0], parts[1]};
}

}  // namespace walsim::live
