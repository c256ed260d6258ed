// RulesModel: the bucket rules of a seed, held as data.
//
// The simulator draws the rules as a RulesSpec, renders it to the YAML the
// engine parses, and evaluates it here with its own code for the oracle.
// This file shares nothing with engine/bucket_rules: if both read the
// rules the same wrong way, the oracle would agree with a bug, so the
// oracle's reading is written separately and kept to the shapes the
// simulator generates (column lists with aliases, SELECT *, one
// `col = bucket.param` parameter, `col IS NOT NULL` filters).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/relation.h"
#include "sim/prng.h"

namespace walsim::sim {

struct QuerySpec {
  std::string table;
  bool select_all = false;
  // (column, output key): the key is the alias or the column name.
  std::vector<std::pair<std::string, std::string>> outputs;
  // WHERE <parameter_column> = bucket.<parameter>; none for a global bucket.
  std::optional<std::string> parameter_column;
  std::string parameter;
  // AND <not_null_column> IS NOT NULL
  std::optional<std::string> not_null_column;
};

struct DefinitionSpec {
  std::string name;
  std::vector<QuerySpec> queries;
};

struct RulesSpec {
  std::vector<DefinitionSpec> definitions;
};

// Every table gets a by-owner definition; some seeds add a definition that
// spans two tables and a global one with a filter.
RulesSpec draw_rules(const std::vector<Relation>& tables, Prng& prng);
std::string rules_yaml(const RulesSpec& spec);

// --- issue 10 part B: the rules edited between engine restarts -------------
// One edit of `spec`, and the definitions it adds, changes and removes by
// name: a definition added (a new global one, perhaps over a table no
// other reads), one removed, a definition's parameter column changed (or
// a global one given a parameter), its output columns changed, or a table
// dropped from a definition that reads two.
struct RulesEdit {
  RulesSpec spec;
  std::string description;  // "changed the columns of by_owner_t1"
  std::vector<std::string> added;
  std::vector<std::string> changed;
  std::vector<std::string> removed;
};
RulesEdit edit_rules(const RulesSpec& spec, Prng& prng);
// --- end of part B's block

// A JSON string literal, escaped the standard way.
std::string json_string(std::string_view text);
void append_json_string(std::string& out, std::string_view text);

struct PlacedRow {
  std::string bucket;
  std::string data_json;
};

class RulesModel {
 public:
  RulesModel(RulesSpec spec, std::vector<Relation> tables);

  // The buckets a full row of table `table` belongs to, with its data.
  std::vector<PlacedRow> place(size_t table, const Row& row) const;
  // The row id clients see: a JSON array of the identity key values,
  // under the table's identity at setup or, for a table whose identity
  // changed since (ALTER TABLE ... REPLICA IDENTITY), under `identity`:
  // DEFAULT is the key `id`, FULL every column.
  std::string row_id(size_t table, const Row& row) const;
  std::string row_id(size_t table, const Row& row, ReplicaIdentity identity) const;

  const RulesSpec& spec() const { return spec_; }
  const Relation& relation(size_t table) const { return tables_[table]; }

 private:
  // A query resolved against its table: column indexes instead of names.
  // The bucket and data text that do not depend on the row are rendered
  // once here: the oracle places both images of every source change.
  struct Resolved {
    std::string bucket_prefix;  // "by_owner_t0["
    std::vector<std::pair<size_t, std::string>> outputs;  // column, '"key":'
    size_t data_size_guess = 0;
    std::optional<size_t> parameter_column;
    std::optional<size_t> not_null_column;
  };

  RulesSpec spec_;
  std::vector<Relation> tables_;
  std::vector<std::vector<Resolved>> resolved_;  // per table
};

}  // namespace walsim::sim
