#include "engine/rules_plan.h"

#include <algorithm>
#include <set>

#include "engine/data_query.h"

namespace walsim {

std::vector<std::string> tables_read_by(const BucketRules& rules,
                                        const std::vector<std::string>& definitions) {
  const std::set<std::string> wanted(definitions.begin(), definitions.end());
  std::set<std::string> tables;
  for (const auto& query : rules.queries()) {
    if (wanted.count(query->definition)) tables.insert(query->table);
  }
  return std::vector<std::string>(tables.begin(), tables.end());
}

DeployPlan plan_deploy(int64_t from_version, const std::vector<DefinitionFingerprint>& active,
                       const BucketRules& rules, const std::map<std::string, int64_t>& store_rows) {
  WALSIM_ASSERT(from_version > 0, "a plan replaces a recorded version");
  DeployPlan plan;
  plan.from_version = from_version;
  plan.change = compare_definitions(active, fingerprint_definitions(rules));
  std::vector<std::string> rebuilt = plan.change.added;
  rebuilt.insert(rebuilt.end(), plan.change.changed.begin(), plan.change.changed.end());
  for (const std::string& table : tables_read_by(rules, rebuilt)) {
    auto rows = store_rows.find(table);
    plan.copies.push_back(
        {table, rows == store_rows.end() ? std::nullopt : std::optional<int64_t>(rows->second)});
  }
  WALSIM_ASSERT(!plan.empty() || plan.copies.empty(), "nothing to deploy copies nothing");
  return plan;
}

}  // namespace walsim
