#include "sim/rules_model.h"

#include <algorithm>

#include "engine/assert.h"


namespace walsim::sim {

namespace {

size_t column_of(const Relation& relation, const std::string& name) {
  for (size_t i = 0; i < relation.columns.size(); i++) {
    if (relation.columns[i].name == name) return i;
  }
  WALSIM_ASSERT(false, "the sim's rules name only columns its tables have");
  return 0;
}

void append_value(std::string& out, const Value& value) {
  WALSIM_ASSERT(!value.is_unchanged_toast(), "the oracle evaluates whole rows only");
  if (value.is_text()) {
    append_json_string(out, value.text);
  } else {
    out += "null";
  }
}

QuerySpec by_owner_query(const Relation& table, Prng& prng) {
  QuerySpec query;
  query.table = table.name;
  query.parameter_column = "owner";
  query.parameter = "owner";
  if (prng.percent(30)) {
    query.select_all = true;
  } else {
    for (const Column& column : table.columns) query.outputs.push_back({column.name, column.name});
  }
  return query;
}

}  // namespace

RulesSpec draw_rules(const std::vector<Relation>& tables, Prng& prng) {
  WALSIM_ASSERT(!tables.empty());
  RulesSpec spec;
  for (const Relation& table : tables) {
    spec.definitions.push_back({"by_owner_" + table.name, {by_owner_query(table, prng)}});
  }
  if (tables.size() >= 2 && prng.coin()) {
    // One bucket holding rows of two tables: row ids repeat across tables,
    // so only (table, row id) identifies a row.
    size_t a = prng.below(tables.size());
    size_t b = (a + 1 + prng.below(tables.size() - 1)) % tables.size();
    QuerySpec first{tables[a].name, false, {{"id", "id"}, {"title", "title"}},
                    "owner", "who", std::nullopt};
    if (prng.coin()) first.not_null_column = "title";
    QuerySpec second{tables[b].name, false, {{"id", "id"}, {"owner", "owned_by"}},
                     "owner", "who", std::nullopt};
    spec.definitions.push_back({"owned", {first, second}});
  }
  if (prng.coin()) {
    const Relation& table = tables[prng.below(tables.size())];
    QuerySpec everything{table.name, false, {{"id", "id"}, {"title", "label"}},
                         std::nullopt, "", std::nullopt};
    if (prng.coin()) everything.not_null_column = "title";
    spec.definitions.push_back({"all_" + table.name, {everything}});
  }
  return spec;
}

// --- issue 10 part B: the rules edited between engine restarts -------------

namespace {

void add_definition(RulesEdit& edit, Prng& prng) {
  std::vector<DefinitionSpec>& definitions = edit.spec.definitions;
  const std::string& table =
      definitions[prng.below(definitions.size())].queries.front().table;
  std::string name = "added_" + std::to_string(definitions.size());
  while (std::any_of(definitions.begin(), definitions.end(),
                     [&](const DefinitionSpec& d) { return d.name == name; })) {
    name += "x";
  }
  definitions.push_back(
      {name, {{table, false, {{"id", "id"}, {"title", "label"}}, std::nullopt, "", std::nullopt}}});
  edit.added.push_back(name);
  edit.description = "added definition " + name + " over " + table;
}

void change_parameter(RulesEdit& edit, DefinitionSpec& definition) {
  for (QuerySpec& query : definition.queries) {
    if (!query.parameter_column) {
      query.parameter_column = "owner";
      query.parameter = "owner";
    } else {
      query.parameter_column = *query.parameter_column == "owner" ? "title" : "owner";
    }
  }
  edit.changed.push_back(definition.name);
  edit.description = "changed the parameter of " + definition.name;
}

void change_columns(RulesEdit& edit, DefinitionSpec& definition) {
  QuerySpec& query = definition.queries.front();
  if (query.select_all || query.outputs.empty()) {
    query.select_all = false;
    query.outputs = {{"id", "id"}, {"title", "title"}};
  } else {
    query.outputs.back().second += "_renamed";
  }
  edit.changed.push_back(definition.name);
  edit.description = "changed the columns of " + definition.name;
}

}  // namespace

RulesEdit edit_rules(const RulesSpec& spec, Prng& prng) {
  WALSIM_ASSERT(!spec.definitions.empty());
  RulesEdit edit{spec, "", {}, {}, {}};
  std::vector<DefinitionSpec>& definitions = edit.spec.definitions;
  const size_t picked = prng.below(definitions.size());
  DefinitionSpec& definition = definitions[picked];
  switch (prng.below(5)) {
    case 0: add_definition(edit, prng); break;
    case 1:
      if (definitions.size() < 2) {
        add_definition(edit, prng);
        break;
      }
      edit.removed.push_back(definition.name);
      edit.description = "removed definition " + definition.name;
      definitions.erase(definitions.begin() + static_cast<std::ptrdiff_t>(picked));
      break;
    case 2: change_parameter(edit, definition); break;
    case 3: change_columns(edit, definition); break;
    default:
      if (definition.queries.size() < 2) {
        change_columns(edit, definition);
        break;
      }
      edit.description = "dropped table " + definition.queries.back().table + " from " +
                         definition.name;
      definition.queries.pop_back();
      edit.changed.push_back(definition.name);
      break;
  }
  WALSIM_ASSERT(edit.added.size() + edit.changed.size() + edit.removed.size() == 1,
                "one edit, one definition");
  return edit;
}

// --- end of part B's block

std::string rules_yaml(const RulesSpec& spec) {
  std::string yaml = "bucket_definitions:\n";
  for (const DefinitionSpec& definition : spec.definitions) {
    yaml += "  " + definition.name + ":\n    data:\n";
    for (const QuerySpec& query : definition.queries) {
      std::string sql = "SELECT ";
      if (query.select_all) sql += "*";
      for (size_t i = 0; i < query.outputs.size(); i++) {
        const auto& [column, key] = query.outputs[i];
        if (i > 0) sql += ", ";
        sql += column;
        if (key != column) sql += " AS " + key;
      }
      sql += " FROM " + query.table;
      std::vector<std::string> conditions;
      if (query.parameter_column) {
        conditions.push_back(*query.parameter_column + " = bucket." + query.parameter);
      }
      if (query.not_null_column) conditions.push_back(*query.not_null_column + " IS NOT NULL");
      for (size_t i = 0; i < conditions.size(); i++) {
        sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
      }
      yaml += "      - " + sql + "\n";
    }
  }
  return yaml;
}

// Appends runs of bytes that need no escape in one go: the oracle places
// every row of every source change, and most text needs no escape at all.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  size_t run = 0;  // start of the bytes not yet appended
  for (size_t i = 0; i < text.size(); i++) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') continue;  // UTF-8 passes through
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

RulesModel::RulesModel(RulesSpec spec, std::vector<Relation> tables)
    : spec_(std::move(spec)), tables_(std::move(tables)), resolved_(tables_.size()) {
  for (size_t t = 0; t < tables_.size(); t++) {
    const Relation& relation = tables_[t];
    for (const DefinitionSpec& definition : spec_.definitions) {
      for (const QuerySpec& query : definition.queries) {
        if (query.table != relation.name) continue;
        Resolved resolved{definition.name + "[", {}, 0, std::nullopt, std::nullopt};
        auto output = [&resolved](size_t column, const std::string& key) {
          resolved.outputs.push_back({column, json_string(key) + ":"});
          resolved.data_size_guess += resolved.outputs.back().second.size() + 24;
        };
        if (query.select_all) {
          for (size_t i = 0; i < relation.columns.size(); i++) output(i, relation.columns[i].name);
        }
        for (const auto& [column, key] : query.outputs) output(column_of(relation, column), key);
        if (query.parameter_column) {
          resolved.parameter_column = column_of(relation, *query.parameter_column);
        }
        if (query.not_null_column) {
          resolved.not_null_column = column_of(relation, *query.not_null_column);
        }
        resolved_[t].push_back(std::move(resolved));
      }
    }
  }
}

std::vector<PlacedRow> RulesModel::place(size_t table, const Row& row) const {
  std::vector<PlacedRow> placed;
  placed.reserve(resolved_[table].size());
  for (const Resolved& query : resolved_[table]) {
    if (query.not_null_column && !row[*query.not_null_column].is_text()) continue;
    const Value* parameter = query.parameter_column ? &row[*query.parameter_column] : nullptr;
    if (parameter && !parameter->is_text()) continue;  // NULL names no bucket
    PlacedRow out;
    out.bucket = query.bucket_prefix;
    if (parameter) append_json_string(out.bucket, parameter->text);
    out.bucket += "]";
    out.data_json.reserve(query.data_size_guess);
    out.data_json = "{";
    for (size_t i = 0; i < query.outputs.size(); i++) {
      if (i > 0) out.data_json += ",";
      out.data_json += query.outputs[i].second;
      append_value(out.data_json, row[query.outputs[i].first]);
    }
    out.data_json += "}";
    placed.push_back(std::move(out));
  }
  return placed;
}

std::string RulesModel::row_id(size_t table, const Row& row) const {
  return row_id(table, row, tables_[table].identity);
}

std::string RulesModel::row_id(size_t table, const Row& row, ReplicaIdentity identity) const {
  WALSIM_ASSERT(identity == ReplicaIdentity::kDefault || identity == ReplicaIdentity::kFull,
                "the simulated tables have DEFAULT (id) or FULL identity");
  WALSIM_ASSERT(row.size() == tables_[table].columns.size(), "a full row");
  // Column 0 (id) is the key under DEFAULT and leads it under FULL.
  const size_t key_columns = identity == ReplicaIdentity::kFull ? row.size() : 1;
  std::string id = "[";
  for (size_t i = 0; i < key_columns; i++) {
    if (i > 0) id += ",";
    append_value(id, row[i]);
  }
  return id + "]";
}

}  // namespace walsim::sim
