// TableName: a source table as schema and name, the way the catalog knows
// it (pg_namespace.nspname, pg_class.relname): exact, case-sensitive, never
// folded. Two tables of one name in two schemas are two TableNames.
//
// Its text form, which parse_table_name() reads and to_string() writes, is
// "table" (schema public) or "schema.table"; a part holding a '.' or a '"'
// is written in double quotes with '"' doubled, as in SQL:
//   parse_table_name("todos")               -> public . todos
//   parse_table_name("app.todos")           -> app . todos
//   parse_table_name("\"my.app\".\"To\"\"do\"") -> my.app . To"do
// so parse_table_name(name.to_string()) == name for every name whose parts
// are not empty (Postgres has no empty names). Quotes only delimit: "Todos"
// and Todos are the same (case-sensitive) name.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace walsim::live {

class PgConnection;

struct TableName {
  std::string schema = "public";
  std::string name;

  // The text form above.
  std::string to_string() const;
  // "\"app\".\"todos\"": for SQL, quoted by the server's rules
  // (PQescapeIdentifier), so any name is safe in a statement.
  Result<std::string> sql(PgConnection& connection) const;

  auto operator<=>(const TableName&) const = default;
};

// kInvalidArgument for an empty name, an unterminated quote, more than one
// unquoted '.', or text after a closing quote. A '"' inside an unquoted
// part is an ordinary character: `we"ird` is the name we"ird.
Result<TableName> parse_table_name(std::string_view text);

}  // namespace walsim::live
