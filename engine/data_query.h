// DataQuery: one data query of a bucket definition, parsed from the SQL
// subset bucket rules are written in (bucket_rules.h shows the rules
// document around it). The grammar:
//
//   query     := SELECT outputs FROM table [WHERE condition {AND condition}]
//                [';']
//   outputs   := '*' | name [AS name] {',' name [AS name]}
//   table     := name ['.' name]
//   condition := operand '=' operand | name IS [NOT] NULL
//   operand   := name | bucket '.' name | 'string'
//
// Names are unquoted identifiers (case-insensitive keywords are reserved)
// or "quoted"; strings are 'quoted', a doubled quote standing for itself.
// Column names are resolved later, per relation (bucket_rules.cc), because
// the rules are parsed before the engine learns any table's columns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace walsim {

struct DataQuery {
  struct Output {
    std::string column;
    std::string key;  // the alias, or the column name
  };
  struct Filter {
    enum class Kind { kEquals, kIsNull, kIsNotNull };
    Kind kind;
    std::string column;
    std::string literal;  // only for kEquals
  };

  std::string definition;  // the bucket definition it belongs to
  std::string table;
  bool select_all = false;
  std::vector<Output> outputs;  // empty when select_all
  // Parallel lists: the bucket parameters and the column bound to each. Once
  // the definition is parsed they follow the definition's parameter order.
  std::vector<std::string> parameters;
  std::vector<std::string> parameter_columns;
  std::vector<Filter> filters;
};

// Parses `sql` into everything but `query->definition`. Errors are
// kInvalidArgument and name only the problem ("expected FROM, found
// 'WHERE'"); the caller adds where it is.
Status parse_data_query(std::string_view sql, DataQuery* query);

// Whether `name` is a plain identifier: a letter or '_', then letters,
// digits and '_'.
bool is_plain_identifier(std::string_view name);

}  // namespace walsim
