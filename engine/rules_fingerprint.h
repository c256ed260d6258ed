// Rules fingerprints: which bucket definitions a store was built with, so
// a changed rules file on an existing store is never accepted silently.
//
// Each bucket definition is fingerprinted from its parsed queries, not its
// text: whitespace, quoting, keyword case, the order of definitions in the
// file, the order of a definition's queries and the order of a query's
// filters do not count. What does count is everything that changes a
// bucket's ops: the definition's name (bucket ids start with it), each
// query's table, its output columns and keys in order (the data JSON and
// its checksum follow that order), its parameters in order (the bucket id's
// values) and their columns, its filters.
//
// The store keeps one row per (rules version, definition) in
// `bucket_definitions` (rules_versions.h owns its statements): name,
// fingerprint and the normalized text. A version is a set of (name,
// fingerprint); a new version keeps the buckets of every definition whose
// fingerprint is unchanged and copies only the tables the new and changed
// ones read (the plan: rules_plan.h).
#pragma once

#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/status.h"

namespace walsim {

struct DefinitionFingerprint {
  std::string name;
  std::string fingerprint;  // 16 hex digits of FNV-1a 64 of `normalized`
  std::string normalized;   // one line per query, sorted
  bool operator==(const DefinitionFingerprint&) const = default;
};

// One per definition of `rules`, sorted by name.
std::vector<DefinitionFingerprint> fingerprint_definitions(const BucketRules& rules);

struct RulesChange {
  std::vector<std::string> added;    // in the new rules only
  std::vector<std::string> changed;  // in both, with another fingerprint
  std::vector<std::string> removed;  // in the store only
  std::vector<std::string> unchanged;  // in both, the same fingerprint: buckets kept
  bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};

// What `wanted` changes against `stored` (both sorted by name).
RulesChange compare_definitions(const std::vector<DefinitionFingerprint>& stored,
                                const std::vector<DefinitionFingerprint>& wanted);

}  // namespace walsim
