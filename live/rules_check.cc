#include "live/rules_check.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "engine/snapshotter.h"
#include "live/pg_catalog.h"
#include "live/table_name.h"

namespace walsim::live {

namespace {

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// The schemas that hold a table named `name`: a hint for a rules table
// that names the wrong schema (or none, meaning public).
Result<std::vector<std::string>> schemas_with_table(PgConnection& connection,
                                                    const std::string& name) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.query("SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE c.relname = $1 "
                       "AND c.relkind IN ('r', 'p') ORDER BY 1",
                       {name}));
  std::vector<std::string> schemas;
  for (const Row& row : rows) schemas.push_back(row[0].text);
  return schemas;
}

std::string missing_table_message(const TableName& table, const std::vector<std::string>& schemas) {
  std::string message = "table " + table.to_string() + " does not exist on the source";
  if (schemas.empty()) return message;
  std::vector<std::string> names;
  for (const std::string& schema : schemas) names.push_back(TableName{schema, table.name}.to_string());
  return message + " (there is " + joined(names) + "; name the schema in the rules)";
}

// The columns outside the publication's column list that the rules read:
// those whose removal from the relation makes the rules fail to resolve.
std::vector<std::string> hidden_columns_read(const BucketRules& rules, const Relation& relation,
                                             const std::vector<std::string>& column_list) {
  std::vector<std::string> hidden;
  for (size_t i = 0; i < relation.columns.size(); i++) {
    const std::string& name = relation.columns[i].name;
    if (std::find(column_list.begin(), column_list.end(), name) != column_list.end()) continue;
    Relation without = relation;
    without.columns.erase(without.columns.begin() + static_cast<std::ptrdiff_t>(i));
    if (!rules.for_table(without).is_ok()) hidden.push_back(name);
  }
  return hidden;
}

// What the publication does to one table the rules read, if anything.
void check_published(const Publication& publication, const BucketRules& rules,
                     const std::string& rules_name, const Relation& relation,
                     std::vector<RulesProblem>& problems) {
  const TableName table{relation.schema, relation.name};
  const PublishedTable* published = publication.find(table);
  if (published == nullptr) {
    problems.push_back({rules_name, "publication \"" + publication.name +
                                        "\" does not publish table " + table.to_string() +
                                        " (ALTER PUBLICATION " + publication.name +
                                        " ADD TABLE " + table.to_string() + ")"});
    return;
  }
  if (published->column_list) {
    std::vector<std::string> hidden = hidden_columns_read(rules, relation, *published->column_list);
    if (!hidden.empty()) {
      problems.push_back(
          {rules_name, "publication \"" + publication.name + "\" publishes only column(s) " +
                           joined(*published->column_list) + " of " + table.to_string() +
                           "; the rules also read " + joined(hidden) +
                           ", which the stream never sends"});
    }
  }
  // What replicate's preflight refuses (check_publication), also when the
  // rules read none of the hidden columns.
  Status whole = check_published_whole(publication, *published);
  if (!whole.is_ok()) problems.push_back({rules_name, whole.message()});
}

// The table's own problems; the relation when it exists and the rules fit.
Result<std::optional<Relation>> check_table(PgConnection& connection, const BucketRules& rules,
                                            const std::string& rules_name,
                                            std::vector<RulesProblem>& problems) {
  Result<TableName> table = parse_table_name(rules_name);
  if (!table.is_ok()) {
    problems.push_back({rules_name, table.status().message()});
    return std::optional<Relation>();
  }
  WALSIM_ASSIGN_OR_RETURN(std::optional<Relation> relation, describe_table(connection, *table));
  if (!relation) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> schemas,
                            schemas_with_table(connection, table->name));
    problems.push_back({rules_name, missing_table_message(*table, schemas)});
    return std::optional<Relation>();
  }
  WALSIM_ASSERT(relation->schema == table->schema && relation->name == table->name);
  Status replicable = check_replicable(*relation);
  if (!replicable.is_ok()) problems.push_back({rules_name, replicable.message()});
  Status fits = rules.for_table(*relation).status();
  if (!fits.is_ok()) {
    problems.push_back({rules_name, fits.message()});
    return std::optional<Relation>();
  }
  return relation;
}

}  // namespace

Result<std::vector<RulesProblem>> check_rules_against_source(PgConnection& connection,
                                                             const BucketRules& rules,
                                                             const std::string& publication) {
  std::vector<RulesProblem> problems;
  WALSIM_ASSIGN_OR_RETURN(std::optional<Publication> published,
                          read_publication(connection, publication));
  if (!published) {
    problems.push_back({"", "publication \"" + publication + "\" does not exist (CREATE "
                            "PUBLICATION " + publication + " FOR TABLE ...)"});
  }
  if (published) {
    Status every_change = check_publishes_every_change(*published);
    if (!every_change.is_ok()) problems.push_back({"", every_change.message()});
  }
  for (const std::string& name : rules.tables()) {
    WALSIM_ASSIGN_OR_RETURN(std::optional<Relation> relation,
                            check_table(connection, rules, name, problems));
    if (relation && published) check_published(*published, rules, name, *relation, problems);
  }
  WALSIM_ASSERT(published || !problems.empty(), "a missing publication is a problem");
  return problems;
}

}  // namespace walsim::live
