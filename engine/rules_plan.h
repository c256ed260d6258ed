// The plan of a rules deploy (issue 11): what a new rules file changes
// against the store's active version, and what building it would copy.
// `walsim rules diff` prints it without changing anything; a deploy
// (`walsim replicate --rules NEW`) follows it.
//
// Per definition, by fingerprint (rules_fingerprint.h): new, changed,
// removed, unchanged. Unchanged ones keep their buckets and op history
// (clients do not download them again). The tables that must be copied
// are exactly the tables read by the new and changed definitions' queries
// (their buckets start empty in the new version); a table read only by
// unchanged or removed definitions is not copied. Each copy is sized from
// the store: the table's live rows in current data, or unknown when the
// store has never registered the table (no old definition reads it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/rules_fingerprint.h"

namespace walsim {

struct TableCopy {
  std::string table;
  std::optional<int64_t> rows;  // live rows in the store; nullopt: not in the store yet
  bool operator==(const TableCopy&) const = default;
};

struct DeployPlan {
  int64_t from_version = 0;  // the active version it replaces
  RulesChange change;
  std::vector<TableCopy> copies;  // sorted by table
  // Nothing to deploy: every definition is unchanged and none removed.
  bool empty() const { return change.empty(); }
};

// The tables `rules`' definitions named in `definitions` read, sorted,
// without duplicates.
std::vector<std::string> tables_read_by(const BucketRules& rules,
                                        const std::vector<std::string>& definitions);

// `store_rows`: the live rows of each table the store has registered.
DeployPlan plan_deploy(int64_t from_version, const std::vector<DefinitionFingerprint>& active,
                       const BucketRules& rules, const std::map<std::string, int64_t>& store_rows);

}  // namespace walsim
