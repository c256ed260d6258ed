#include "engine/data_query.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace walsim {

namespace {

using Query = DataQuery;

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
      WALSIM_ASSIGN_OR_RETURN(std::string text, read_quoted(sql, &pos));
      if (c == '"' && text.empty()) return invalid("empty quoted identifier");
      tokens.push_back(
          {c == '\'' ? TokenKind::kString : TokenKind::kQuotedName, std::move(text)});
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
// SQL parser: recursive descent over the grammar in data_query.h.

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
      WALSIM_ASSIGN_OR_RETURN(
          std::string column,
          parse_name(query->outputs.empty() ? "a column or *" : "a column"));
      std::string key = column;
      if (at_keyword("AS")) {
        pos_++;
        WALSIM_ASSIGN_OR_RETURN(key, parse_name("an alias after AS"));
      }
      for (const Query::Output& output : query->outputs) {
        if (output.key == key) {
          return invalid("duplicate output column " + quoted(key));
        }
      }
      query->outputs.push_back({column, key});
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
    WALSIM_ASSIGN_OR_RETURN(query->table, parse_name("a table name"));
    if (at_symbol('.')) {
      pos_++;
      WALSIM_ASSIGN_OR_RETURN(query->table, parse_name("a table name after '.'"));
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
    WALSIM_ASSIGN_OR_RETURN(std::string name,
                            parse_name("a column, bucket.<parameter> or 'string'"));
    if (!at_symbol('.')) {
      operand.column = std::move(name);
      return operand;
    }
    if (!bucket) {
      return invalid("unknown qualifier " + quoted(name) +
                     ": only bucket.<parameter> may be qualified");
    }
    pos_++;
    WALSIM_ASSIGN_OR_RETURN(operand.parameter, parse_name("a parameter name after 'bucket.'"));
    return operand;
  }

  Status parse_condition(Query* query) {
    WALSIM_ASSIGN_OR_RETURN(Operand left, parse_operand());
    if (at_keyword("IS")) return parse_is_null(left, query);
    if (!at_symbol('=')) return unexpected("= or IS");
    pos_++;
    WALSIM_ASSIGN_OR_RETURN(Operand right, parse_operand());
    // Put the column, if any, on the left.
    if (left.column.empty() && !right.column.empty()) std::swap(left, right);
    return add_comparison(left, right, query);
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

}  // namespace

Status parse_data_query(std::string_view sql, DataQuery* query) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(sql));
  WALSIM_ASSERT(!tokens.empty() && tokens.back().kind == TokenKind::kEnd,
                "the parser never reads past the end token");
  WALSIM_RETURN_IF_ERROR(QueryParser(std::move(tokens)).parse(query));
  WALSIM_ASSERT(!query->table.empty(), "a parsed query names its table");
  WALSIM_ASSERT(query->parameters.size() == query->parameter_columns.size(),
                "each bucket parameter is bound to one column");
  WALSIM_ASSERT(!query->select_all || query->outputs.empty());
  return Status::ok();
}

bool is_plain_identifier(std::string_view name) {
  if (name.empty() || !is_word_start(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_word_start(c) || is_digit(c); });
}


}  // namespace walsim
