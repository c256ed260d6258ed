#include "engine/rules_fingerprint.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "engine/data_query.h"

namespace walsim {

namespace {

std::string hex64(uint64_t value) {
  static const char* kDigits = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; i--, value >>= 4) text[static_cast<size_t>(i)] = kDigits[value & 15];
  return text;
}

uint64_t fnv1a64(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// One query as one line; identifiers are quoted as JSON strings so no
// name can run into the next field.
std::string normalize(const DataQuery& query) {
  WALSIM_ASSERT(query.parameters.size() == query.parameter_columns.size(),
                "a parameter is bound to one column");
  auto quoted = [](const std::string& name) { return "\"" + name + "\""; };
  std::string line = "from " + quoted(query.table) + " select ";
  if (query.select_all) line += "*";
  for (const DataQuery::Output& output : query.outputs) {
    line += quoted(output.column) + " as " + quoted(output.key) + ",";
  }
  line += " params ";
  for (size_t i = 0; i < query.parameters.size(); i++) {
    line += quoted(query.parameters[i]) + "=" + quoted(query.parameter_columns[i]) + ",";
  }
  std::vector<std::string> filters;
  for (const DataQuery::Filter& filter : query.filters) {
    const char* kind = filter.kind == DataQuery::Filter::Kind::kEquals   ? " = "
                       : filter.kind == DataQuery::Filter::Kind::kIsNull ? " is null"
                                                                         : " is not null";
    filters.push_back(quoted(filter.column) + kind +
                      (filter.kind == DataQuery::Filter::Kind::kEquals ? quoted(filter.literal)
                                                                        : ""));
  }
  std::sort(filters.begin(), filters.end());  // AND commutes
  line += " where ";
  for (const std::string& filter : filters) line += filter + ",";
  return line;
}

}  // namespace

std::vector<DefinitionFingerprint> fingerprint_definitions(const BucketRules& rules) {
  std::map<std::string, std::vector<std::string>> lines;  // sorted by name
  for (const auto& query : rules.queries()) lines[query->definition].push_back(normalize(*query));
  std::vector<DefinitionFingerprint> result;
  for (auto& [name, queries] : lines) {
    std::sort(queries.begin(), queries.end());  // query order does not count
    std::string normalized;
    for (const std::string& query : queries) normalized += query + "\n";
    result.push_back({name, hex64(fnv1a64("\"" + name + "\"\n" + normalized)), normalized});
  }
  WALSIM_ASSERT(result.size() == lines.size(), "one fingerprint per definition");
  return result;
}

RulesChange compare_definitions(const std::vector<DefinitionFingerprint>& stored,
                                const std::vector<DefinitionFingerprint>& wanted) {
  WALSIM_ASSERT(std::is_sorted(stored.begin(), stored.end(),
                               [](const auto& a, const auto& b) { return a.name < b.name; }));
  std::map<std::string, std::string> old_prints;
  for (const DefinitionFingerprint& definition : stored) {
    old_prints[definition.name] = definition.fingerprint;
  }
  RulesChange change;
  for (const DefinitionFingerprint& definition : wanted) {
    auto old = old_prints.find(definition.name);
    if (old == old_prints.end()) {
      change.added.push_back(definition.name);
    } else {
      if (old->second != definition.fingerprint) change.changed.push_back(definition.name);
      else change.unchanged.push_back(definition.name);
      old_prints.erase(old);
    }
  }
  for (const auto& [name, print] : old_prints) change.removed.push_back(name);
  WALSIM_ASSERT(change.added.size() + change.changed.size() + change.unchanged.size() ==
                    wanted.size(), "every wanted definition is classified once");
  return change;
}

}  // namespace walsim
