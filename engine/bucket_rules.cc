#include "engine/bucket_rules.h"

#include "engine/data_query.h"
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

namespace {

using Query = DataQuery;

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
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
  WALSIM_ASSERT(query->parameter_columns.size() == query->parameters.size());
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
  if (!is_plain_identifier(name)) {
    return rules_error(name_node, "bucket definition name " + quoted(name) +
                                      " is not an identifier");
  }
  WALSIM_ASSIGN_OR_RETURN(YAML::Node data, definition_data(name, name_node, definition));
  const Query* first = nullptr;
  size_t item = 0;
  for (const YAML::Node& entry : data) {
    item++;
    if (!entry.IsScalar()) {
      return rules_error(entry.IsNull() ? name_node : entry,
                         "data entry " + std::to_string(item) + " of " + name +
                             " must be an SQL string");
    }
    auto query = std::make_shared<Query>();
    query->definition = name;
    Status status = parse_data_query(entry.Scalar(), query.get());
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
    BucketRules rules;
    WALSIM_ASSIGN_OR_RETURN(rules.queries_, parse_document(YAML::Load(std::string(yaml_text))));
    rules.text_ = std::string(yaml_text);
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
  WALSIM_ASSERT(resolved->output_prefixes.size() == resolved->output_columns.size(),
                "one JSON prefix per output column");
  WALSIM_ASSERT(resolved->parameter_columns.size() == query.parameters.size());
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
    WALSIM_ASSIGN_OR_RETURN(std::shared_ptr<TableRules::Resolved> resolved,
                            TableRules::Resolved::resolve(*query, relation));
    for (const std::string* definition : definitions) {
      if (*definition == query->definition) resolved->may_repeat_bucket = true;
    }
    definitions.push_back(&query->definition);
    rules.resolved_.push_back(std::move(resolved));
  }
  return rules;
}

std::vector<BucketRow> TableRules::evaluate(const Row& row) const {
  std::vector<BucketRow> buckets;
  for (const auto& resolved : resolved_) resolved->evaluate(row, &buckets);
  // A row is in a bucket once: queries of one definition are deduplicated
  // (may_repeat_bucket), and different definitions name different buckets.
  for (size_t i = 0; i < buckets.size(); i++) {
    for (size_t j = i + 1; j < buckets.size(); j++) {
      WALSIM_ASSERT(buckets[i].bucket != buckets[j].bucket, "a row is in a bucket once");
    }
  }
  return buckets;
}

}  // namespace walsim
