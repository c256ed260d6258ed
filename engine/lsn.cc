#include "engine/lsn.h"

#include <cstdio>

namespace walsim {

namespace {

std::optional<uint32_t> parse_hex32(std::string_view digits) {
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : digits) {
    uint32_t nibble;
    if (c >= '0' && c <= '9') nibble = c - '0';
    else if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    else return std::nullopt;
    value = (value << 4) | nibble;
  }
  return value;
}

}  // namespace

std::optional<Lsn> Lsn::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto high = parse_hex32(text.substr(0, slash));
  auto low = parse_hex32(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return from_parts(*high, *low);
}

std::string Lsn::to_string() const {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%X/%X",
                static_cast<unsigned>(value_ >> 32),
                static_cast<unsigned>(value_ & 0xFFFFFFFFu));
  return buffer;
}

}  // namespace walsim
