#include "engine/bucket_rules.h"

#include "engine/json_text.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace walsim {

// One data query, as parsed. Column names are resolved later, per relation,
// because the rules are parsed before the engine learns any table's columns.
struct BucketRules::Query {
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

  std::string definition;
  std::string table;
  bool select_all = false;
  std::vector<Output> outputs;  // empty when select_all
  // Parallel lists: the bucket parameters and the column bound to each. Once
  // the definition is parsed they follow the definition's parameter order.
  std::vector<std::string> parameters;
  std::vector<std::string> parameter_columns;
  std::vector<Filter> filters;
};

namespace {

using Query = BucketRules::Query;

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// ---------------------------------------------------------------------------
// SQL tokens

enum class TokenKind {
  kWord,        // unquoted identifier or keyword
  kQuotedName,  // "identifier"
  kString,      // 'literal'
  kNumber,
  kSymbol,  // any other single character: * , . = ; ( ...
  kEnd,
};

struct Token {
  TokenKind kind;
  std::string text;  // unescaped for quoted names and strings
};

bool is_word_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_word_char(char c) {
  return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// Reads a quoted token starting at sql[*pos]; a doubled quote stands for
// itself, as in SQL.
Result<std::string> read_quoted(std::string_view sql, size_t* pos) {
  const char quote = sql[*pos];
  std::string text;
  for (size_t i = *pos + 1; i < sql.size(); i++) {
    if (sql[i] != quote) {
      text += sql[i];
    } else if (i + 1 < sql.size() && sql[i + 1] == quote) {
      text += quote;
      i++;
    } else {
      *pos = i + 1;
      return text;
    }
  }
  return invalid(quote == '\'' ? "unterminated string literal"
                               : "unterminated quoted identifier");
}

Result<std::vector<Token>> tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (true) {
    while (pos < sql.size() && is_space(sql[pos])) pos++;
    if (pos == sql.size()) break;
    const char c = sql[pos];
    const size_t start = pos;
    if (is_word_start(c) || is_digit(c)) {
      const bool number = is_digit(c);
      while (pos < sql.size() && (number ? is_digit(sql[pos]) || sql[pos] == '.'
                                         : is_word_char(sql[pos]))) {
        pos++;
      }
      tokens.push_back({number ? TokenKind::kNumber : TokenKind::kWord,
                        std::string(sql.substr(start, pos - start))});
    } else if (c == '\'' || c == '"') {
      auto text = read_quoted(sql, &pos);
      if (!text.is_ok()) return text.status();
      if (c == '"' && text->empty()) return invalid("empty quoted identifier");
      tokens.push_back(
          {c == '\'' ? TokenKind::kString : TokenKind::kQuotedName, *text});
    } else {
      tokens.push_back({TokenKind::kSymbol, std::string(1, c)});
      pos++;
    }
  }
  tokens.push_back({TokenKind::kEnd, ""});
  return tokens;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return (x >= 'a' && x <= 'z' ? x - 32 : x) ==
           (y >= 'a' && y <= 'z' ? y - 32 : y);
  });
}

// Unquoted, these are keywords of the subset, never column names.
bool is_reserved(std::string_view word) {
  for (const char* keyword :
       {"SELECT", "FROM", "WHERE", "AND", "OR", "AS", "IS", "NOT", "NULL"}) {
    if (equals_ignore_case(word, keyword)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// SQL parser: recursive descent over
//
//   query     := SELECT outputs FROM table [WHERE condition {AND condition}]
//                [';']
//   outputs   := '*' | name [AS name] {',' name [AS name]}
//   table     := name ['.' name]
//   condition := operand '=' operand | name IS [NOT] NULL
//   operand   := name | bucket '.' name | 'string'

class QueryParser {
 public:
  explicit QueryParser(std::vector<Token> tokens)
      : tokens_(std::move(tokens)) {}

  // Fills everything but `query->definition`. Errors are bare problems; the
  // caller adds the line.
  Status parse(Query* query) {
    WALSIM_RETURN_IF_ERROR(expect_keyword("SELECT"));
    WALSIM_RETURN_IF_ERROR(parse_outputs(query));
    WALSIM_RETURN_IF_ERROR(expect_keyword("FROM"));
    WALSIM_RETURN_IF_ERROR(parse_table(query));
    if (at_keyword("WHERE")) {
      do {
        pos_++;  // WHERE or AND
        WALSIM_RETURN_IF_ERROR(parse_condition(query));
      } while (at_keyword("AND"));
      return expect_end("AND");
    }
    return expect_end("WHERE");
  }

 private:
  // An operand of `=`: exactly one of the three is set.
  struct Operand {
    std::string column;
    std::string parameter;  // from bucket.<parameter>
    std::optional<std::string> literal;
    std::string describe() const {
      if (literal) return "'" + *literal + "'";
      return parameter.empty() ? column : "bucket." + parameter;
    }
  };

  const Token& peek() const { return tokens_[pos_]; }
  bool at_end() const { return peek().kind == TokenKind::kEnd; }
  bool at_symbol(char c) const {
    return peek().kind == TokenKind::kSymbol && peek().text[0] == c;
  }
  bool at_keyword(std::string_view keyword) const {
    return peek().kind == TokenKind::kWord &&
           equals_ignore_case(peek().text, keyword);
  }

  std::string describe_found() const {
    switch (peek().kind) {
      case TokenKind::kEnd: return "end of query";
      case TokenKind::kString: return "string " + quoted(peek().text);
      case TokenKind::kQuotedName: return quoted("\"" + peek().text + "\"");
      default: return quoted(peek().text);
    }
  }

  Status unexpected(std::string_view expected) const {
    return invalid("expected " + std::string(expected) + ", found " +
                   describe_found());
  }

  Status expect_keyword(std::string_view keyword) {
    if (!at_keyword(keyword)) return unexpected(keyword);
    pos_++;
    return Status::ok();
  }

  // After the last clause only ';' and the end may follow. A word there is
  // most likely SQL this subset lacks (ORDER, LIMIT, OR, JOIN...), so say so.
  Status expect_end(std::string_view next_keyword) {
    const std::string expected = std::string(next_keyword) + " or end of query";
    if (at_symbol(';')) {
      pos_++;
      if (!at_end()) return unexpected("end of query after ';'");
    }
    if (at_end()) return Status::ok();
    if (peek().kind == TokenKind::kWord) {
      return invalid("unknown keyword " + quoted(peek().text) + ", expected " +
                     expected);
    }
    return unexpected(expected);
  }

  Result<std::string> parse_name(std::string_view what) {
    const Token& token = peek();
    const bool name =
        token.kind == TokenKind::kQuotedName ||
        (token.kind == TokenKind::kWord && !is_reserved(token.text));
    if (!name) return unexpected(what);
    pos_++;
    return token.text;
  }

  Status parse_outputs(Query* query) {
    if (at_symbol('*')) {
      pos_++;
      query->select_all = true;
      return Status::ok();
    }
    while (true) {
      auto column =
          parse_name(query->outputs.empty() ? "a column or *" : "a column");
      if (!column.is_ok()) return column.status();
      std::string key = *column;
      if (at_keyword("AS")) {
        pos_++;
        auto alias = parse_name("an alias after AS");
        if (!alias.is_ok()) return alias.status();
        key = *alias;
      }
      for (const Query::Output& output : query->outputs) {
        if (output.key == key) {
          return invalid("duplicate output column " + quoted(key));
        }
      }
      query->outputs.push_back({*column, key});
      if (!at_symbol(',')) {
        if (at_keyword("FROM")) return Status::ok();
        // A word here is a clause out of place (WHERE before FROM).
        return unexpected(peek().kind == TokenKind::kWord ? "FROM"
                                                          : "',' or FROM");
      }
      pos_++;
    }
  }

  // Rules match tables by name alone, so a schema qualifier is dropped.
  Status parse_table(Query* query) {
    auto name = parse_name("a table name");
    if (!name.is_ok()) return name.status();
    query->table = *name;
    if (at_symbol('.')) {
      pos_++;
      auto table = parse_name("a table name after '.'");
      if (!table.is_ok()) return table.status();
      query->table = *table;
    }
    return Status::ok();
  }

  Result<Operand> parse_operand() {
    Operand operand;
    if (peek().kind == TokenKind::kString) {
      operand.literal = peek().text;
      pos_++;
      return operand;
    }
    const bool bucket = at_keyword("bucket");
    auto name = parse_name("a column, bucket.<parameter> or 'string'");
    if (!name.is_ok()) return name.status();
    if (!at_symbol('.')) {
      operand.column = *name;
      return operand;
    }
    if (!bucket) {
      return invalid("unknown qualifier " + quoted(*name) +
                     ": only bucket.<parameter> may be qualified");
    }
    pos_++;
    auto parameter = parse_name("a parameter name after 'bucket.'");
    if (!parameter.is_ok()) return parameter.status();
    operand.parameter = *parameter;
    return operand;
  }

  Status parse_condition(Query* query) {
    auto left = parse_operand();
    if (!left.is_ok()) return left.status();
    if (at_keyword("IS")) return parse_is_null(*left, query);
    if (!at_symbol('=')) return unexpected("= or IS");
    pos_++;
    auto right = parse_operand();
    if (!right.is_ok()) return right.status();
    // Put the column, if any, on the left.
    if (left->column.empty() && !right->column.empty())
      std::swap(*left, *right);
    return add_comparison(*left, *right, query);
  }

  Status parse_is_null(const Operand& operand, Query* query) {
    pos_++;  // IS
    if (operand.column.empty()) {
      return invalid("only a column can be tested with IS NULL, not " +
                     operand.describe());
    }
    auto kind = Query::Filter::Kind::kIsNull;
    if (at_keyword("NOT")) {
      pos_++;
      kind = Query::Filter::Kind::kIsNotNull;
    }
    WALSIM_RETURN_IF_ERROR(expect_keyword("NULL"));
    query->filters.push_back({kind, operand.column, ""});
    return Status::ok();
  }

  // `left` holds the column when either side is one.
  Status add_comparison(const Operand& left, const Operand& right,
                        Query* query) {
    const std::string what = left.describe() + " = " + right.describe();
    if (left.column.empty()) {
      if (!left.parameter.empty() && !right.parameter.empty()) {
        return invalid("bucket parameters on both sides of " + what +
                       ": one side must be a column");
      }
      return invalid("cannot compare " + what + ": one side must be a column");
    }
    if (right.literal) {
      query->filters.push_back(
          {Query::Filter::Kind::kEquals, left.column, *right.literal});
      return Status::ok();
    }
    if (right.parameter.empty()) {
      return invalid("cannot compare two columns (" + what + ")");
    }
    const auto& bound = query->parameters;
    if (std::find(bound.begin(), bound.end(), right.parameter) != bound.end()) {
      return invalid("bucket." + right.parameter + " is bound twice");
    }
    query->parameters.push_back(right.parameter);
    query->parameter_columns.push_back(left.column);
    return Status::ok();
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

Status parse_query(std::string_view sql, Query* query) {
  auto tokens = tokenize(sql);
  if (!tokens.is_ok()) return tokens.status();
  return QueryParser(std::move(tokens).value()).parse(query);
}

// ---------------------------------------------------------------------------
// YAML structure

// yaml-cpp's marks are 0-based; a null node's mark points past the node (or is
// -1), so callers pass a better-placed node for those.
Status rules_error(int zero_based_line, const std::string& problem) {
  return invalid("rules line " +
                 std::to_string(std::max(zero_based_line, 0) + 1) + ": " +
                 problem);
}

Status rules_error(const YAML::Node& node, const std::string& problem) {
  return rules_error(node.Mark().line, problem);
}

bool is_identifier(const std::string& name) {
  if (name.empty() || !is_word_start(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_word_start(c) || is_digit(c); });
}

std::string join_parameters(const std::vector<std::string>& parameters) {
  if (parameters.empty()) return "none";
  std::string joined;
  for (const std::string& parameter : parameters) {
    if (!joined.empty()) joined += ", ";
    joined += "bucket." + parameter;
  }
  return joined;
}

// Every query of a definition must bind the parameters of the first, since
// they together name one bucket; reorders `query`'s to the first's order.
Status match_parameters(const Query& first, Query* query) {
  // An extra parameter first: it is most often a misspelt one.
  for (const std::string& parameter : query->parameters) {
    if (std::find(first.parameters.begin(), first.parameters.end(),
                  parameter) == first.parameters.end()) {
      return invalid("unknown bucket parameter 'bucket." + parameter + "' in " +
                     first.definition + ": its first query binds " +
                     join_parameters(first.parameters));
    }
  }
  std::vector<std::string> columns;
  for (const std::string& parameter : first.parameters) {
    auto it = std::find(query->parameters.begin(), query->parameters.end(),
                        parameter);
    if (it == query->parameters.end()) {
      return invalid("query in " + first.definition + " does not bind bucket." +
                     parameter + ", which its first query binds");
    }
    columns.push_back(query->parameter_columns[it - query->parameters.begin()]);
  }
  query->parameters = first.parameters;
  query->parameter_columns = std::move(columns);
  return Status::ok();
}

// Finds the `data:` list of a definition, rejecting every other key.
Result<YAML::Node> definition_data(const std::string& name,
                                   const YAML::Node& name_node,
                                   const YAML::Node& definition) {
  if (!definition.IsMap()) {
    return rules_error(
        definition.IsNull() ? name_node : definition,
        "bucket definition " + name + " must be a map with data:");
  }
  std::optional<YAML::Node> data;
  std::optional<YAML::Node> data_key;
  std::string unknown;
  int unknown_line = 0;
  for (auto it = definition.begin(); it != definition.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (key == "data") {
      if (data) return rules_error(it->first, "duplicate key data in " + name);
      data = it->second;
      data_key = it->first;
      continue;
    }
    if (unknown.empty()) unknown_line = it->first.Mark().line;
    unknown += (unknown.empty() ? "" : ", ") + quoted(key);
  }
  if (!unknown.empty()) {
    return rules_error(unknown_line, "unknown key " + unknown + " in " + name +
                                         " (only data is allowed)");
  }
  if (!data)
    return rules_error(name_node, "bucket definition " + name + " lacks data:");
  if (!data->IsSequence()) {
    return rules_error(data->IsNull() ? *data_key : *data,
                       "data of " + name + " must be a list of queries");
  }
  if (data->size() == 0) {
    return rules_error(*data_key, "data of " + name + " is empty");
  }
  return *data;
}

Status parse_definition(const YAML::Node& name_node,
                        const YAML::Node& definition,
                        std::vector<std::shared_ptr<const Query>>* queries) {
  const std::string name = name_node.IsScalar() ? name_node.Scalar() : "";
  if (!is_identifier(name)) {
    return rules_error(name_node, "bucket definition name " + quoted(name) +
                                      " is not an identifier");
  }
  auto data = definition_data(name, name_node, definition);
  if (!data.is_ok()) return data.status();
  const Query* first = nullptr;
  size_t item = 0;
  for (const YAML::Node& entry : *data) {
    item++;
    if (!entry.IsScalar()) {
      return rules_error(entry.IsNull() ? name_node : entry,
                         "data entry " + std::to_string(item) + " of " + name +
                             " must be an SQL string");
    }
    auto query = std::make_shared<Query>();
    query->definition = name;
    Status status = parse_query(entry.Scalar(), query.get());
    if (!status.is_ok()) {
      return rules_error(entry, "query in " + name + ": " + status.message());
    }
    if (first == nullptr) {
      first = query.get();
    } else {
      status = match_parameters(*first, query.get());
      if (!status.is_ok()) return rules_error(entry, status.message());
    }
    queries->push_back(std::move(query));
  }
  return Status::ok();
}

Result<std::vector<std::shared_ptr<const Query>>> parse_document(
    const YAML::Node& root) {
  if (root.IsNull() || (root.IsScalar() && root.Scalar().empty())) {
    return rules_error(0, "empty rules: expected bucket_definitions:");
  }
  if (!root.IsMap()) {
    return rules_error(root, "rules must be a map with bucket_definitions:");
  }
  std::optional<YAML::Node> definitions;
  std::optional<YAML::Node> definitions_key;
  std::optional<YAML::Node> unknown_key;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const bool known =
        it->first.IsScalar() && it->first.Scalar() == "bucket_definitions";
    if (known && !definitions) {
      definitions = it->second;
      definitions_key = it->first;
    } else if (!unknown_key) {
      unknown_key = it->first;
    }
  }
  // Checked first, so a misspelt bucket_definitions is reported as missing.
  if (!definitions) return rules_error(root, "missing bucket_definitions:");
  if (unknown_key) {
    const std::string key =
        unknown_key->IsScalar() ? unknown_key->Scalar() : "?";
    return rules_error(*unknown_key,
                       "unknown top-level key " + quoted(key) +
                           " (only bucket_definitions is allowed)");
  }
  if (definitions->IsNull() ||
      (definitions->IsMap() && definitions->size() == 0)) {
    return rules_error(*definitions_key, "bucket_definitions is empty");
  }
  if (!definitions->IsMap()) {
    return rules_error(
        *definitions, "bucket_definitions must be a map of name to definition");
  }
  std::vector<std::shared_ptr<const Query>> queries;
  std::vector<std::string> names;
  for (auto it = definitions->begin(); it != definitions->end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return rules_error(it->first,
                         "duplicate bucket definition " + quoted(name));
    }
    names.push_back(name);
    WALSIM_RETURN_IF_ERROR(parse_definition(it->first, it->second, &queries));
  }
  return queries;
}

}  // namespace

// ---------------------------------------------------------------------------
// BucketRules

Result<BucketRules> BucketRules::parse(std::string_view yaml_text) {
  // Names and literals end up in bucket ids and JSON data, which must be
  // UTF-8; yaml-cpp passes other bytes through.
  if (auto bad = first_invalid_utf8(yaml_text)) {
    int line = static_cast<int>(std::count(yaml_text.begin(), yaml_text.begin() + *bad, '\n'));
    return rules_error(line, "not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  }
  // yaml-cpp reports errors by throwing; none may leave the public API.
  try {
    auto queries = parse_document(YAML::Load(std::string(yaml_text)));
    if (!queries.is_ok()) return queries.status();
    BucketRules rules;
    rules.queries_ = std::move(queries).value();
    return rules;
  } catch (const YAML::ParserException& e) {
    return rules_error(e.mark.line, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    return rules_error(e.mark.line, e.msg);
  } catch (const std::exception& e) {
    return rules_error(0, e.what());
  }
}

Result<BucketRules> BucketRules::load_file(const std::string& path) {
  auto cannot_read = [&path] {
    return invalid("cannot read rules file " + quoted(path) + ": " +
                   std::strerror(errno));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return cannot_read();
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) return cannot_read();
  auto rules = parse(text);
  if (!rules.is_ok()) return invalid(path + ": " + rules.status().message());
  return rules;
}

std::vector<std::string> BucketRules::tables() const {
  std::vector<std::string> names;
  for (const auto& query : queries_) names.push_back(query->table);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// ---------------------------------------------------------------------------
// TableRules: a query resolved against one relation. Everything evaluate()
// needs per row is an index or a ready-made piece of JSON.

struct TableRules::Resolved {
  struct Filter {
    Query::Filter::Kind kind;
    size_t column;
    std::string literal;
  };

  std::string bucket_prefix;  // "by_owner["
  std::vector<size_t> parameter_columns;
  std::vector<Filter> filters;
  std::vector<size_t> output_columns;
  // The JSON before each output value: `{"id":`, then `,"title":` and so on.
  std::vector<std::string> output_prefixes;
  size_t fixed_json_size = 0;  // of the prefixes and the closing brace
  // An earlier query of the same definition covers this table, so the two
  // may put a row into the same bucket; only then is the check worth its cost.
  bool may_repeat_bucket = false;

  static Result<std::shared_ptr<Resolved>> resolve(const Query& query,
                                                   const Relation& relation);
  bool passes_filters(const Row& row) const;
  // Appends this query's bucket for `row`, if the row is in one.
  void evaluate(const Row& row, std::vector<BucketRow>* buckets) const;
};

namespace {

// Unchanged TOAST has no value to use, so it counts as NULL; a short row
// (which callers should never pass) too, rather than reading past it.
const std::string* text_at(const Row& row, size_t index) {
  if (index >= row.size() || !row[index].is_text()) return nullptr;
  return &row[index].text;
}

}  // namespace

Result<std::shared_ptr<TableRules::Resolved>> TableRules::Resolved::resolve(
    const Query& query, const Relation& relation) {
  auto resolved = std::make_shared<Resolved>();
  std::string missing;
  auto index_of = [&](const std::string& column) -> size_t {
    auto index = relation.column_index(column);
    if (!index && missing.empty()) missing = column;
    return index.value_or(0);
  };
  resolved->bucket_prefix = query.definition + "[";
  for (const std::string& column : query.parameter_columns) {
    resolved->parameter_columns.push_back(index_of(column));
  }
  for (const Query::Filter& filter : query.filters) {
    resolved->filters.push_back(
        {filter.kind, index_of(filter.column), filter.literal});
  }
  std::vector<std::string> keys;
  if (query.select_all) {
    for (size_t i = 0; i < relation.columns.size(); i++) {
      resolved->output_columns.push_back(i);
      keys.push_back(relation.columns[i].name);
    }
  }
  for (const Query::Output& output : query.outputs) {
    resolved->output_columns.push_back(index_of(output.column));
    keys.push_back(output.key);
  }
  if (!missing.empty()) {
    return invalid("rules for table " + quoted(relation.name) +
                   " name column " + quoted(missing) +
                   ", which the table lacks");
  }
  for (const std::string& key : keys) {
    std::string prefix = resolved->output_prefixes.empty() ? "{" : ",";
    append_json_string(prefix, key);
    prefix += ':';
    resolved->fixed_json_size += prefix.size();
    resolved->output_prefixes.push_back(std::move(prefix));
  }
  resolved->fixed_json_size += keys.empty() ? 2 : 1;  // "{}" or "}"
  return resolved;
}

bool TableRules::Resolved::passes_filters(const Row& row) const {
  for (const Filter& filter : filters) {
    const std::string* text = text_at(row, filter.column);
    switch (filter.kind) {
      case Query::Filter::Kind::kEquals:
        if (text == nullptr || *text != filter.literal) return false;
        break;
      case Query::Filter::Kind::kIsNull:
        if (text != nullptr) return false;
        break;
      case Query::Filter::Kind::kIsNotNull:
        if (text == nullptr) return false;
        break;
    }
  }
  return true;
}

void TableRules::Resolved::evaluate(const Row& row,
                                    std::vector<BucketRow>* buckets) const {
  if (!passes_filters(row)) return;
  BucketRow out;
  out.bucket = bucket_prefix;
  for (size_t i = 0; i < parameter_columns.size(); i++) {
    const std::string* text = text_at(row, parameter_columns[i]);
    if (text == nullptr) return;  // a NULL parameter names no bucket
    if (i > 0) out.bucket += ',';
    append_json_string(out.bucket, *text);
  }
  out.bucket += ']';
  if (may_repeat_bucket) {
    for (const BucketRow& earlier : *buckets) {
      if (earlier.bucket == out.bucket) return;
    }
  }

  size_t size = fixed_json_size;
  for (size_t column : output_columns) {
    const std::string* text = text_at(row, column);
    size += text == nullptr ? 4 : text->size() + 2;
  }
  out.data_json.reserve(size);
  if (output_columns.empty()) out.data_json += '{';
  for (size_t i = 0; i < output_columns.size(); i++) {
    out.data_json += output_prefixes[i];
    const std::string* text = text_at(row, output_columns[i]);
    if (text == nullptr) {
      out.data_json += "null";
    } else {
      append_json_string(out.data_json, *text);
    }
  }
  out.data_json += '}';
  buckets->push_back(std::move(out));
}

Result<TableRules> BucketRules::for_table(const Relation& relation) const {
  TableRules rules;
  std::vector<const std::string*>
      definitions;  // of the queries resolved so far
  for (const auto& query : queries_) {
    if (query->table != relation.name) continue;
    auto resolved = TableRules::Resolved::resolve(*query, relation);
    if (!resolved.is_ok()) return resolved.status();
    for (const std::string* definition : definitions) {
      if (*definition == query->definition)
        (*resolved)->may_repeat_bucket = true;
    }
    definitions.push_back(&query->definition);
    rules.resolved_.push_back(std::move(resolved).value());
  }
  return rules;
}

std::vector<BucketRow> TableRules::evaluate(const Row& row) const {
  std::vector<BucketRow> buckets;
  for (const auto& resolved : resolved_) resolved->evaluate(row, &buckets);
  return buckets;
}

}  // namespace walsim
