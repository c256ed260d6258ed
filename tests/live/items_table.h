// The integration tests' table shape: items (id int primary key, owner text,
// title text, n int), the bucket rules over it, and the SQL that computes
// what those rules should publish. Each test names its own tables, so tests
// share a server without seeing each other's changes.
#pragma once

#include <string>
#include <vector>

namespace walsim::live::testing {

// CREATE TABLE plus `rows` rows: ids 1..rows, owners o0..o4.
std::string create_items_sql(const std::string& table, int rows);

// Two definitions per table: <table>_by_owner (id, title, n; one bucket per
// owner) and <table>_all (id, owner; one bucket for every row).
std::string items_rules(const std::vector<std::string>& tables);

// For source_buckets(): what items_rules() makes of the source.
std::vector<std::string> items_queries(const std::vector<std::string>& tables);

bool contains(const std::string& text, const std::string& part);

}  // namespace walsim::live::testing
