// JSON text output shared by the rules (bucket ids, bucket data) and the
// store's row codec: one escaper, so equal values always print alike.
#pragma once

#include <string>
#include <string_view>

namespace walsim {

// Appends `text` as a JSON string literal, quotes included. Bytes >= 0x80
// pass through: the source's text is UTF-8 already.
void append_json_string(std::string& out, std::string_view text);

}  // namespace walsim
