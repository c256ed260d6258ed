#include "live/preflight.h"

#include <algorithm>

#include "engine/snapshotter.h"
#include "live/table_name.h"

namespace walsim::live {

namespace {

Status check_all_exist(const std::vector<std::string>& names,
                       const std::vector<Relation>& relations) {
  std::string missing;
  for (const std::string& name : names) {
    // By schema and name: a table of that name in another schema is not it.
    WALSIM_ASSIGN_OR_RETURN(TableName table, parse_table_name(name));
    bool found = std::any_of(relations.begin(), relations.end(), [&](const Relation& relation) {
      return relation.schema == table.schema && relation.name == table.name;
    });
    if (!found) missing += (missing.empty() ? "" : ", ") + name;
  }
  if (missing.empty()) return Status::ok();
  return Status(ErrorCode::kNotFound,
                "the rules name table(s) the source does not have: " + missing);
}

Status check_table(SourceMonitor& monitor, const BucketRules& rules, const Relation& relation) {
  WALSIM_RETURN_IF_ERROR(check_replicable(relation));
  WALSIM_RETURN_IF_ERROR(rules.for_table(relation).status());
  WALSIM_ASSIGN_OR_RETURN(bool readable, monitor.can_select(relation.relid));
  if (!readable) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the role cannot read table '" + relation.schema + "." + relation.name +
                      "' to copy it (GRANT SELECT ON " + relation.schema + "." +
                      relation.name + " TO ...)");
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<Relation>> check_source(PgSourceConnector& source, SourceMonitor& monitor,
                                           const BucketRules& rules) {
  WALSIM_RETURN_IF_ERROR(source.check_slot_name());
  WALSIM_RETURN_IF_ERROR(source.check_server());
  std::vector<std::string> names = rules.tables();
  WALSIM_ASSIGN_OR_RETURN(std::vector<Relation> relations, source.describe_tables(names));
  WALSIM_RETURN_IF_ERROR(check_all_exist(names, relations));
  for (const Relation& relation : relations) {
    WALSIM_RETURN_IF_ERROR(check_table(monitor, rules, relation));
  }
  WALSIM_RETURN_IF_ERROR(source.check_publication(names));
  return relations;
}

}  // namespace walsim::live
