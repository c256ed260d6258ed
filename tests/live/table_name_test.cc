#include "live/table_name.h"

#include <gtest/gtest.h>

namespace walsim::live {
namespace {

TableName parsed(const std::string& text) {
  Result<TableName> name = parse_table_name(text);
  EXPECT_TRUE(name.is_ok()) << text << ": " << name.status().to_string();
  return name.is_ok() ? *name : TableName{"?", "?"};
}

TEST(TableNameTest, ParsesPlainAndQualifiedNames) {
  EXPECT_EQ(parsed("todos"), (TableName{"public", "todos"}));
  EXPECT_EQ(parsed("app.todos"), (TableName{"app", "todos"}));
  // Case is kept: the catalog's names are exact.
  EXPECT_EQ(parsed("App.Todos"), (TableName{"App", "Todos"}));
  EXPECT_NE(parsed("app.todos"), parsed("public.todos"));
}

TEST(TableNameTest, QuotesHoldDotsAndDoubledQuotes) {
  EXPECT_EQ(parsed("\"my.app\".todos"), (TableName{"my.app", "todos"}));
  EXPECT_EQ(parsed("\"To\"\"do\""), (TableName{"public", "To\"do"}));
  EXPECT_EQ(parsed("s.\"a.b\""), (TableName{"s", "a.b"}));
  // A quote inside an unquoted part is an ordinary character.
  EXPECT_EQ(parsed("we\"ird"), (TableName{"public", "we\"ird"}));
}

TEST(TableNameTest, RefusesMalformedNames) {
  for (const char* text : {"", ".", "a.", ".b", "a.b.c", "\"open", "\"a\"b", "\"\".t"}) {
    Result<TableName> name = parse_table_name(text);
    ASSERT_FALSE(name.is_ok()) << "'" << text << "' parsed";
    EXPECT_EQ(name.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(name.status().message().find("invalid table name"), std::string::npos)
        << name.status().message();
  }
}

TEST(TableNameTest, TextFormRoundTrips) {
  const std::vector<TableName> names = {
      {"public", "todos"}, {"app", "todos"}, {"my.app", "to\"do"}, {"public", "a.b"},
      {"s", "\"q\""},      {"public", "\"x"}};
  for (const TableName& name : names) {
    EXPECT_EQ(parsed(name.to_string()), name) << name.to_string();
  }
  EXPECT_EQ((TableName{"public", "todos"}).to_string(), "todos");
  EXPECT_EQ((TableName{"app", "todos"}).to_string(), "app.todos");
  EXPECT_EQ((TableName{"my.app", "t"}).to_string(), "\"my.app\".t");
}

}  // namespace
}  // namespace walsim::live
