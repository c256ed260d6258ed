#include "sim/version_check.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace walsim::sim {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return "[" + text + "]";
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

// The plan as the simulator's model of the edit has it.
struct ModelPlan {
  std::vector<std::string> added, changed, removed, unchanged, tables;
};

ModelPlan model_plan(const RulesSpec& seed_spec, const RulesEdit& edit) {
  ModelPlan plan{sorted(edit.added), sorted(edit.changed), sorted(edit.removed), {}, {}};
  for (const DefinitionSpec& definition : seed_spec.definitions) {
    const std::string& name = definition.name;
    if (std::count(edit.changed.begin(), edit.changed.end(), name) == 0 &&
        std::count(edit.removed.begin(), edit.removed.end(), name) == 0) {
      plan.unchanged.push_back(name);
    }
  }
  std::sort(plan.unchanged.begin(), plan.unchanged.end());
  std::set<std::string> tables;
  for (const DefinitionSpec& definition : edit.spec.definitions) {
    const bool rebuilt =
        std::count(edit.added.begin(), edit.added.end(), definition.name) > 0 ||
        std::count(edit.changed.begin(), edit.changed.end(), definition.name) > 0;
    for (const QuerySpec& query : definition.queries) {
      if (rebuilt) tables.insert(query.table);
    }
  }
  plan.tables.assign(tables.begin(), tables.end());
  return plan;
}

std::optional<Violation> compare_plan(const DeployPlan& plan, const ModelPlan& model,
                                      const std::string& what) {
  std::vector<std::string> tables;
  for (const TableCopy& copy : plan.copies) tables.push_back(copy.table);
  const RulesChange& change = plan.change;
  if (change.added == model.added && change.changed == model.changed &&
      change.removed == model.removed && sorted(change.unchanged) == model.unchanged &&
      tables == model.tables) {
    return std::nullopt;
  }
  return Violation{"deploy_plan_wrong",
                   "after the edit (" + what + ") the store planned added " +
                       join(change.added) + " changed " + join(change.changed) + " removed " +
                       join(change.removed) + " unchanged " + join(change.unchanged) +
                       " copies " + join(tables) + "; the model says added " +
                       join(model.added) + " changed " + join(model.changed) + " removed " +
                       join(model.removed) + " unchanged " + join(model.unchanged) +
                       " copies " + join(model.tables)};
}

}  // namespace

std::optional<Violation> check_versions_after_refused_edit(BucketStorage& storage,
                                                          const BucketRules& seed_rules,
                                                          const RulesSpec& seed_spec,
                                                          const RulesEdit& edit,
                                                          const BucketRules& edited) {
  auto versions = storage.rules_versions();
  auto checkpoint = storage.checkpoint();
  auto of_checkpoint = storage.checkpoint_versions();
  auto plan = storage.plan_deploy(edited);
  if (!versions.is_ok() || !checkpoint.is_ok() || !of_checkpoint.is_ok() || !plan.is_ok()) {
    return std::nullopt;
  }
  const std::vector<DefinitionFingerprint> seed = fingerprint_definitions(seed_rules);
  if (versions->size() != 1 || (*versions)[0].id != 1 ||
      (*versions)[0].state != VersionState::kActive || (*versions)[0].definitions != seed) {
    return Violation{"rules_version_changed",
                     "after a refused start with edited rules (" + edit.description +
                         ") the store holds " + std::to_string(versions->size()) +
                         " version(s); expected one: the seed's rules as version 1, active"};
  }
  if (checkpoint->has_value() && of_checkpoint->published != 1) {
    return Violation{"checkpoint_version_wrong",
                     "the published checkpoint (op " + std::to_string((*checkpoint)->op_id) +
                         ") does not name version 1, the only version the store has served"};
  }
  return compare_plan(*plan, model_plan(seed_spec, edit), edit.description);
}

}  // namespace walsim::sim
