// Planted bugs ("mutants"): single-point bugs kept in the engine so the
// simulator can be shown to catch each one (`walsim campaign --mutants`,
// a gate in .ci/run). Each site reads
//
//   if (WALSIM_MUTANT("redelivered_transactions_applied")) ...the bug...
//
// In a normal build WALSIM_MUTANT is the constant `false`: the compiler
// drops the bug, and a release binary holds none. A build with
// `--config=mutants` (which defines WALSIM_MUTANTS) compiles every site
// in, each off until a tool turns one on by name (at most one at a time,
// for a whole process). The catalog, one line of why per mutant and the
// fix each undoes, is engine/mutant.cc; a site's name must be in it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace walsim::mutant {

struct Mutant {
  const char* name;     // "redelivered_transactions_applied"
  const char* area;     // "redelivery": what part of the rules it breaks
  const char* what;     // the bug, in words
  const char* reverts;  // the commit whose fix it undoes, or "" (a new planted bug)
  // Why the gate's bounded campaign leaves it out, or "" (gated). Only for
  // a bug too rare for the gate's bound; its replay file still pins it.
  const char* not_gated = "";
};

// Every planted bug, in the order the gate runs them.
const std::vector<Mutant>& catalog();
const Mutant* find(std::string_view name);

#ifdef WALSIM_MUTANTS
inline constexpr bool kCompiled = true;
// Whether `name` is the mutant turned on; `name` must be in the catalog.
bool active(const char* name);
#else
inline constexpr bool kCompiled = false;
#endif

// Turns the named mutant on for this process ("" turns it off). False when
// the name is not in the catalog or this build has no mutants compiled in.
bool set_active(const std::string& name);
// The mutant on, or "".
const std::string& active_name();

}  // namespace walsim::mutant

#ifdef WALSIM_MUTANTS
#define WALSIM_MUTANT(name) (::walsim::mutant::active(name))
#else
#define WALSIM_MUTANT(name) false
#endif
