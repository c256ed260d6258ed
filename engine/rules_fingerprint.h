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
// The store keeps one row per definition in `bucket_definitions` (DDL in
// storage_schema.cc; this file owns its statements): name, fingerprint and
// the normalized text. Until rules versions exist (issue 11), a store
// serves the definitions it was built with: a start with other rules is
// refused, naming each definition that is new, changed or removed. Issue
// 11 builds on the same rows: a version is a set of (name, fingerprint);
// a new version keeps the buckets of every definition whose fingerprint is
// unchanged and copies only the tables the new and changed ones read.
#pragma once

#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/sqlite_db.h"
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
  bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};

// What `wanted` changes against `stored` (both sorted by name).
RulesChange compare_definitions(const std::vector<DefinitionFingerprint>& stored,
                                const std::vector<DefinitionFingerprint>& wanted);

// The store's definitions, sorted by name; empty for a store that has none
// recorded (a new one, or one upgraded from format 2).
Result<std::vector<DefinitionFingerprint>> read_definitions(SqliteDb& db);

// On a store with no definitions recorded: records `rules`' (a store
// upgraded from format 2 adopts the rules of its first start). Otherwise
// ok when they match, else kInvalidArgument naming what changed and what
// to do. Runs before the engine writes anything else. Rules with no
// definitions (a reader's: `walsim inspect` opens the store with none; a
// rules file always has one) are not checked and record nothing.
Status check_store_rules(SqliteDb& db, const BucketRules& rules);

}  // namespace walsim
