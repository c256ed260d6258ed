#include "engine/rules_versions.h"

#include <algorithm>

namespace walsim {

namespace {

std::optional<Lsn> optional_lsn(const std::optional<int64_t>& value) {
  if (!value) return std::nullopt;
  return Lsn(static_cast<uint64_t>(*value));
}

Result<VersionState> parse_state(const std::string& text) {
  if (text == "building") return VersionState::kBuilding;
  if (text == "active") return VersionState::kActive;
  if (text == "retired") return VersionState::kRetired;
  return Status(ErrorCode::kCorrupt, "rules version state '" + text + "' is not one walsim writes");
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

Result<std::vector<DefinitionFingerprint>> read_version_definitions(SqliteDb& db,
                                                                    int64_t version) {
  WALSIM_ASSIGN_OR_RETURN(
      ScopedStatement select,
      db.prepare("SELECT name, fingerprint, normalized FROM bucket_definitions"
                 " WHERE version = ?1 ORDER BY name"));
  select->bind(1, version);
  std::vector<DefinitionFingerprint> definitions;
  for (;;) {
    WALSIM_ASSIGN_OR_RETURN(bool row, select->step());
    if (!row) break;
    definitions.push_back({select->text(0), select->text(1), select->text(2)});
  }
  return definitions;
}

// Version 1, active, with its definitions. Durable: a power loss that took
// the rows back would let the next start adopt whatever rules it brings.
Status record_first_version(SqliteDb& db, const BucketRules& rules,
                            const std::vector<DefinitionFingerprint>& definitions) {
  WALSIM_ASSERT(!definitions.empty(), "a rules file has a definition");
  return in_transaction(db, [&]() -> Status {
    WALSIM_ASSIGN_OR_RETURN(
        ScopedStatement version,
        db.prepare("INSERT INTO rules_versions (id, state, rules_text) VALUES (1, 'active', ?1)"));
    WALSIM_ASSIGN_OR_RETURN(int64_t versions, version->bind(1, rules.text()).run());
    WALSIM_ASSERT(versions == 1, "the first version is recorded once");
    WALSIM_ASSIGN_OR_RETURN(
        ScopedStatement insert,
        db.prepare("INSERT INTO bucket_definitions (version, name, fingerprint, normalized)"
                   " VALUES (1, ?1, ?2, ?3)"));
    for (const DefinitionFingerprint& definition : definitions) {
      insert->reset();
      WALSIM_ASSIGN_OR_RETURN(int64_t inserted, insert->bind(1, definition.name)
                                                    .bind(2, definition.fingerprint)
                                                    .bind(3, definition.normalized)
                                                    .run());
      WALSIM_ASSERT(inserted == 1, "one row per definition");
    }
    return Status::ok();
  }, Durability::kSurvivesPowerLoss);
}

}  // namespace

const char* version_state_name(VersionState state) {
  switch (state) {
    case VersionState::kBuilding: return "building";
    case VersionState::kActive: return "active";
    case VersionState::kRetired: return "retired";
  }
  WALSIM_ASSERT(false, "every state has a name");
  return "";
}

Result<std::vector<RulesVersion>> read_rules_versions(SqliteDb& db) {
  std::vector<RulesVersion> versions;
  {
    WALSIM_ASSIGN_OR_RETURN(
        ScopedStatement select,
        db.prepare("SELECT id, state, rules_text, created_lsn, activated_lsn"
                   " FROM rules_versions ORDER BY id"));
    for (;;) {
      WALSIM_ASSIGN_OR_RETURN(bool row, select->step());
      if (!row) break;
      RulesVersion version;
      version.id = select->int64(0);
      WALSIM_ASSIGN_OR_RETURN(version.state, parse_state(select->text(1)));
      version.rules_text = select->optional_text(2);
      version.created_lsn = optional_lsn(select->optional_int64(3));
      version.activated_lsn = optional_lsn(select->optional_int64(4));
      versions.push_back(std::move(version));
    }
  }
  for (RulesVersion& version : versions) {
    WALSIM_ASSIGN_OR_RETURN(version.definitions, read_version_definitions(db, version.id));
  }
  WALSIM_ASSERT(std::count_if(versions.begin(), versions.end(), [](const RulesVersion& v) {
                  return v.state == VersionState::kActive;
                }) <= 1, "one active version at most (the store's unique index)");
  return versions;
}

Result<std::optional<RulesVersion>> read_active_version(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<RulesVersion> versions, read_rules_versions(db));
  for (RulesVersion& version : versions) {
    if (version.state == VersionState::kActive) return std::optional<RulesVersion>(std::move(version));
  }
  return std::optional<RulesVersion>();
}

Result<std::vector<DefinitionFingerprint>> read_definitions(SqliteDb& db) {
  WALSIM_ASSIGN_OR_RETURN(std::optional<RulesVersion> active, read_active_version(db));
  if (!active) return std::vector<DefinitionFingerprint>();
  return std::move(active->definitions);
}

Status check_store_rules(SqliteDb& db, const BucketRules& rules) {
  const std::vector<DefinitionFingerprint> wanted = fingerprint_definitions(rules);
  // No definitions: a reader's rules (`walsim inspect`, tests), never a
  // rules file's (the parser refuses one without a definition). A reader
  // writes nothing a client reads, so it is neither checked nor recorded.
  if (wanted.empty()) return Status::ok();
  WALSIM_ASSIGN_OR_RETURN(std::optional<RulesVersion> active, read_active_version(db));
  if (!active) return record_first_version(db, rules, wanted);
  WALSIM_ASSERT(!active->definitions.empty(), "a version has a definition");
  const RulesChange change = compare_definitions(active->definitions, wanted);
  if (change.empty()) return Status::ok();
  std::string what;
  auto list = [&what](const char* label, const std::vector<std::string>& names) {
    if (!names.empty()) what += std::string(what.empty() ? "" : "; ") + label + join(names);
  };
  list("new definitions: ", change.added);
  list("changed: ", change.changed);
  list("removed: ", change.removed);
  return Status(ErrorCode::kInvalidArgument,
                "store '" + db.path() + "' was built with other bucket rules (" + what +
                    "); a store serves the rules it was built with: start a new store (another"
                    " --store) for these rules, or run with the rules this store was built with");
}

}  // namespace walsim
