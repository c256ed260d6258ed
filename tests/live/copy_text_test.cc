// COPY's text format decoded the way Postgres encodes it: separators,
// NULL, every escape COPY TO writes and the ones COPY FROM accepts.
#include "live/copy_text.h"

#include <gtest/gtest.h>

namespace walsim::live {
namespace {

Row parsed(std::string_view line, size_t columns) {
  Result<Row> row = parse_copy_text_line(line, columns);
  EXPECT_TRUE(row.is_ok()) << row.status().to_string();
  return row.is_ok() ? *row : Row{};
}

TEST(CopyText, SplitsOnTabsAndReadsNull) {
  EXPECT_EQ(parsed("42\tJo\t\\N", 3), (Row{Value::of("42"), Value::of("Jo"), Value::null()}));
  // An empty value is an empty string, not NULL.
  EXPECT_EQ(parsed("\t", 2), (Row{Value::of(""), Value::of("")}));
  EXPECT_EQ(parsed("", 1), (Row{Value::of("")}));
}

TEST(CopyText, UndoesTheEscapesCopyToWrites) {
  EXPECT_EQ(parsed("a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh", 1),
            (Row{Value::of("a\tb\nc\rd\\e\bf\fg\vh")}));
  // The text "\N" (not NULL) is sent as \\N.
  EXPECT_EQ(parsed("\\\\N\t\\N", 2), (Row{Value::of("\\N"), Value::null()}));
}

TEST(CopyText, ReadsOctalHexAndOtherEscapes) {
  EXPECT_EQ(parsed("\\101\\x42\\x4a\\7\\x", 1), (Row{Value::of("ABJ\a" "x")}));
  // Three octal digits at most; a fourth is a plain digit.
  EXPECT_EQ(parsed("\\1011", 1), (Row{Value::of("A1")}));
  // Two hex digits at most.
  EXPECT_EQ(parsed("\\x414", 1), (Row{Value::of("A4")}));
  // Any other escaped character stands for itself.
  EXPECT_EQ(parsed("\\q\\.", 1), (Row{Value::of("q.")}));
}

TEST(CopyText, KeepsBytesItDoesNotKnow) {
  EXPECT_EQ(parsed("grüße\t{\"a\": \"b\"}", 2),
            (Row{Value::of("grüße"), Value::of("{\"a\": \"b\"}")}));
}

TEST(CopyText, RefusesTheWrongNumberOfValues) {
  EXPECT_EQ(parse_copy_text_line("1\t2", 3).status().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(parse_copy_text_line("1\t2\t3\t4", 3).status().code(), ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace walsim::live
