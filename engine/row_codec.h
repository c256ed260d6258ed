// Row codec: how rows and keys are stored as text in SQLite.
//
// A row is a JSON array in column order: a string per text value, null for
// NULL, and false for an unchanged-TOAST value whose content the store has
// not seen yet (an update arrived before any full copy of the row). Row ids
// are the encoded replica identity key, so equal keys give equal ids.
#pragma once

#include <string>
#include <string_view>

#include "engine/relation.h"
#include "engine/status.h"

namespace walsim {

std::string encode_row(const Row& row);
// Decodes what encode_row wrote; kCorrupt on anything else.
Result<Row> decode_row(std::string_view text);

}  // namespace walsim
