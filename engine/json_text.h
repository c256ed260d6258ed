// JSON text output shared by the rules (bucket ids, bucket data) and the
// store's row codec: one escaper, so equal values always print alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace walsim {

// Appends `text` as a JSON string literal, quotes included. Bytes >= 0x80
// pass through: the source's text is UTF-8 already.
void append_json_string(std::string& out, std::string_view text);

// The offset of the first byte that does not start a well-formed UTF-8
// sequence (overlong forms, surrogates and code points past U+10FFFF are
// malformed), or nullopt when all of `text` is UTF-8. JSON text must be.
std::optional<size_t> first_invalid_utf8(std::string_view text);

}  // namespace walsim
