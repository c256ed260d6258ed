// The text format of COPY ... TO STDOUT, decoded: one data line (without
// its newline) into one row of text values.
//
//   Result<Row> row = parse_copy_text_line("42\tJo\\tAnn\t\\N", 3);
//   // {"42", "Jo\tAnn", NULL}
//
// Columns are separated by a tab, `\N` alone is SQL NULL, and a backslash
// escapes what follows: \b \f \n \r \t \v, \\, 1-3 octal digits, \x and 1-2
// hex digits; any other character after a backslash stands for itself
// (the rules of Postgres' COPY FROM, of which COPY TO uses a subset). The
// values are the same text each type's output function gives a SELECT in
// text format, which is what pgoutput sends too. Pure: no libpq.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/relation.h"
#include "engine/status.h"

namespace walsim::live {

// kCorrupt unless the line has exactly `columns` values.
Result<Row> parse_copy_text_line(std::string_view line, size_t columns);

}  // namespace walsim::live
