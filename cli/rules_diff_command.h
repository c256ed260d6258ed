#pragma once

namespace walsim {

// `walsim rules diff --store FILE --rules NEW`: the plan of deploying NEW
// on the store (engine/rules_plan.h): which definitions are new, changed,
// removed and unchanged against the store's active rules version, and
// which tables would be copied, with their rows in the store. Writes
// nothing. Exit 0 with a plan; 1 when there is nothing to deploy (the
// same definitions) or the store has no rules yet; 2 on a missing or
// foreign store, or a bad rules file.
int rules_diff_command(int argc, char** argv);

// `walsim rules <subcommand>`: today only `diff`.
int rules_command(int argc, char** argv);

}  // namespace walsim
