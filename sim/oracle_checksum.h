// The oracle's own op checksum: FNV-1a (32-bit) over the op's kind
// ("PUT"/"REMOVE"), bucket, table, row id and, for a PUT, its data, each
// field followed by a 0xFF separator byte, as design.md defines it for
// clients. Written here from that definition, not by calling the engine's
// op_checksum, so that a client view's sum is the oracle's number and the
// store's bucket_checksum (a sum of the stored checksum column) is checked
// against it, not against the same column read twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace walsim::sim {

uint32_t oracle_op_checksum(bool is_put, std::string_view bucket, std::string_view table,
                            std::string_view row_id, const std::optional<std::string_view>& data);

}  // namespace walsim::sim
