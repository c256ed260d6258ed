#include "tests/engine/storage_model_domain.h"

namespace walsim::model {
namespace {

Relation make_relation(uint32_t relid, const char* name, const char* text_column) {
  Relation relation;
  relation.relid = relid;
  relation.name = name;
  relation.columns = {{"id", 23, true}, {"owner", 25, false}, {text_column, 25, false}};
  return relation;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

std::string owner_json(char owner) {
  return owner ? quoted(std::string(1, owner)) : "null";
}

}  // namespace

const char* table_name(Table table) {
  return table == Table::kTodos ? "todos" : "lists";
}

const Relation& relation_of(Table table) {
  static const Relation todos = make_relation(16384, "todos", "title");
  static const Relation lists = make_relation(16390, "lists", "name");
  return table == Table::kTodos ? todos : lists;
}

const char* rules_yaml() {
  return R"(bucket_definitions:
  by_owner:
    data:
      - SELECT id, title FROM todos WHERE owner = bucket.owner
      - SELECT id, name FROM lists WHERE owner = bucket.owner
  everything:
    data:
      - SELECT * FROM lists
)";
}

Row full_row(const SourceRow& row) {
  return {Value::of(std::to_string(row.id)),
          row.owner ? Value::of(std::string(1, row.owner)) : Value::null(),
          Value::of(std::string(1, row.text))};
}

Row key_tuple(int id) { return {Value::of(std::to_string(id)), Value::null(), Value::null()}; }

Row key_only(int id) { return {Value::of(std::to_string(id))}; }

std::optional<int> id_of(const Row& key) {
  if (key.size() != 1 || !key[0].is_text()) return std::nullopt;
  const std::string& text = key[0].text;
  if (text.empty() || text.size() > 4 || text[0] == '0') return std::nullopt;
  int id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

std::string row_id(int id) { return "[" + quoted(std::to_string(id)) + "]"; }

std::vector<Placement> place(Table table, const SourceRow& row) {
  const std::string id = quoted(std::to_string(row.id));
  const std::string text = quoted(std::string(1, row.text));
  std::vector<Placement> placed;
  if (row.owner) {
    const char* text_key = table == Table::kTodos ? "title" : "name";
    placed.push_back({"by_owner[" + owner_json(row.owner) + "]",
                      "{\"id\":" + id + ",\"" + text_key + "\":" + text + "}"});
  }
  if (table == Table::kLists) {
    placed.push_back({"everything[]", "{\"id\":" + id + ",\"owner\":" + owner_json(row.owner) +
                                          ",\"name\":" + text + "}"});
  }
  return placed;
}

void add_to_view(BucketView& view, Table table, const SourceRow& row) {
  for (const Placement& p : place(table, row)) {
    view[p.bucket][{table_name(table), row_id(row.id)}] = p.data;
  }
}

std::ostream& operator<<(std::ostream& os, Table table) { return os << table_name(table); }

std::ostream& operator<<(std::ostream& os, const SourceRow& row) {
  return os << "(" << row.id << "," << (row.owner ? row.owner : '-') << "," << row.text << ")";
}

}  // namespace walsim::model
