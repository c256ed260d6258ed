// check_rules_against_source: whether a rules file fits a source server,
// for `walsim check-rules --source`. Unlike replicate's preflight
// (preflight.h), which stops at the first problem because it must not
// start, this names every problem at once, so one run shows all there is
// to fix:
//   - a table the rules name does not exist (schema-qualified: a table of
//     that name in another schema is not it, and is pointed out);
//   - the table cannot be replicated (no replica identity to key its rows);
//   - the rules read a column the table lacks;
//   - the publication does not exist, leaves out a kind of change
//     (publish = 'insert'), or does not publish the table;
//   - the publication's column list leaves out a column the rules read
//     (the stream would never send it);
//   - the publication publishes only part of the table, with a row filter
//     or a column list, which replicate refuses (check_published_whole in
//     pg_catalog.h: walsim copies whole tables).
// Read-only: it runs catalog queries and nothing else.
#pragma once

#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live {

struct RulesProblem {
  std::string table;    // as the rules name it; empty for the publication itself
  std::string message;  // what is wrong and, where one exists, the fix
  bool operator==(const RulesProblem&) const = default;
};

// Every problem, in the order of rules.tables(); empty when the rules fit.
// An error only when the catalog cannot be read (the connection failed).
Result<std::vector<RulesProblem>> check_rules_against_source(PgConnection& connection,
                                                             const BucketRules& rules,
                                                             const std::string& publication);

}  // namespace walsim::live
