// Issue 11's checks on rules versions in the simulator, kept out of the
// oracle (which the DDL work also edits).
//
// Until deploys exist (issue 11 step 3), a start with edited rules is
// refused (simulation.cc, start_with_edited_rules). At that point the
// store must still hold one version, the seed's rules, active; the
// published checkpoint must belong to it; and the plan the store gives
// for the edited rules (what `walsim rules diff` prints) must be the one
// the simulator's own model of the edit says: the definitions the edit
// added, changed and removed, every other one unchanged, and exactly the
// tables the added and changed definitions read to be copied. The model
// side is computed from RulesSpec alone, never from engine/bucket_rules.
#pragma once

#include <optional>

#include "engine/bucket_rules.h"
#include "engine/bucket_storage.h"
#include "sim/rules_model.h"
#include "sim/violation.h"

namespace walsim::sim {

// `seed_rules`, `seed_spec`: the rules in force; `edit`: the refused edit
// of them, `edited`: its parse. `storage` may be a reader's. nullopt when
// every check holds (or the store could not be read: a read fault is not
// what this checks).
std::optional<Violation> check_versions_after_refused_edit(BucketStorage& storage,
                                                          const BucketRules& seed_rules,
                                                          const RulesSpec& seed_spec,
                                                          const RulesEdit& edit,
                                                          const BucketRules& edited);

}  // namespace walsim::sim
