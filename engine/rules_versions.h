// Rules versions (issue 11): which bucket rules a store serves, and which
// it has served or is building. This file owns the statements against
// `rules_versions` and `bucket_definitions` (DDL in storage_schema.cc).
//
// A version is an id (1, 2, ... in deploy order), the rules text as
// deployed, a state and one (name, fingerprint) row per bucket definition
// (rules_fingerprint.h). States:
//   active    the one version clients are served; checkpoints belong to it
//   building  at most one: a deploy whose copies are not consistent yet
//   retired   replaced; its buckets no longer published
// The store's partial unique index keeps one active and one building at
// most, whatever the code does.
//
// Until deploys exist (issue 11 step 3), a store has one version: the rules
// it was built with, version 1, active; a start with other rules is refused
// (check_store_rules), and `walsim rules diff` prints the plan a deploy of
// them would follow (rules_plan.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_rules.h"
#include "engine/lsn.h"
#include "engine/rules_fingerprint.h"
#include "engine/sqlite_db.h"
#include "engine/status.h"

namespace walsim {

enum class VersionState { kBuilding, kActive, kRetired };

// "building", "active", "retired": as stored.
const char* version_state_name(VersionState state);

struct RulesVersion {
  int64_t id = 0;
  VersionState state = VersionState::kActive;
  std::optional<std::string> rules_text;  // nullopt: from a format 5 store
  std::optional<Lsn> created_lsn;         // nullopt: from the start of the stream
  std::optional<Lsn> activated_lsn;       // nullopt: active from the start (or not yet)
  std::vector<DefinitionFingerprint> definitions;  // sorted by name
};

// Every version, by id.
Result<std::vector<RulesVersion>> read_rules_versions(SqliteDb& db);

// The active version; nullopt for a store that has none recorded (a new
// one, or one upgraded from format 3 before its first start).
Result<std::optional<RulesVersion>> read_active_version(SqliteDb& db);

// The active version's definitions, sorted by name; empty when there is
// no active version.
Result<std::vector<DefinitionFingerprint>> read_definitions(SqliteDb& db);

// On a store with no version: records `rules` as version 1, active (a
// store upgraded from format 3 adopts the rules of its first start).
// Otherwise ok when they match the active version's definitions, else
// kInvalidArgument naming what changed and what to do. Runs before the
// engine writes anything else. Rules with no definitions (a reader's:
// `walsim inspect` opens the store with none; a rules file always has one)
// are not checked and record nothing.
Status check_store_rules(SqliteDb& db, const BucketRules& rules);

}  // namespace walsim
