#include "tests/live/items_table.h"

namespace walsim::live::testing {

std::string create_items_sql(const std::string& table, int rows) {
  return "CREATE TABLE " + table + " (id int PRIMARY KEY, owner text, title text, n int);"
         "INSERT INTO " + table + " SELECT g, 'o' || (g % 5), 'title ' || g, g "
         "FROM generate_series(1, " + std::to_string(rows) + ") g;";
}

std::string items_rules(const std::vector<std::string>& tables) {
  std::string yaml = "bucket_definitions:\n";
  for (const std::string& table : tables) {
    yaml += "  " + table + "_by_owner:\n    data:\n      - SELECT id, title, n FROM " + table +
            " WHERE owner = bucket.owner\n";
    yaml += "  " + table + "_all:\n    data:\n      - SELECT id, owner FROM " + table + "\n";
  }
  return yaml;
}

std::vector<std::string> items_queries(const std::vector<std::string>& tables) {
  std::vector<std::string> queries;
  for (const std::string& table : tables) {
    queries.push_back("SELECT '" + table + "_by_owner', json_build_array(owner), "
                      "json_build_object('id', id::text, 'title', title, 'n', n::text) "
                      "FROM " + table + " WHERE owner IS NOT NULL");
    queries.push_back("SELECT '" + table + "_all', json_build_array(), "
                      "json_build_object('id', id::text, 'owner', owner) FROM " + table);
  }
  return queries;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace walsim::live::testing
