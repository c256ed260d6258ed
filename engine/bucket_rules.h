// BucketRules: which buckets a source row belongs to, and what data each
// bucket gets. Parsed from a YAML subset of sync rules:
//
//   bucket_definitions:
//     by_owner:
//       data:
//         - SELECT id, title FROM todos WHERE owner = bucket.owner
//         - SELECT * FROM lists WHERE owner_id = bucket.owner
//     everything:
//       data:
//         - SELECT id, name AS label FROM lists
//
// A bucket's parameters come from the row itself: `col = bucket.param` binds
// the parameter to the row's value. A row whose parameter column is NULL is in
// no bucket of that definition. Bucket ids are the definition name followed by
// the parameter values as a JSON array: by_owner["alice"], everything[].
// One table may appear in several definitions (and so several buckets).
//
// This file is the rules document: the YAML, its definitions, and
// evaluating them on rows. Each data query is written in a small SQL subset
// with its own parser (data_query.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"

namespace walsim {

// One bucket a row belongs to, with the data the bucket stores for it:
// a JSON object of the selected columns in SELECT order, e.g.
// {"id":"1","title":"buy milk"}; NULL is JSON null.
struct BucketRow {
  std::string bucket;
  std::string data_json;
  bool operator==(const BucketRow&) const = default;
};

class TableRules;
struct DataQuery;  // one parsed data query (data_query.h)

class BucketRules {
 public:
  // Errors are kInvalidArgument and name the line and the problem, e.g.
  // "rules line 4: unknown bucket parameter 'bucket.ownr' in by_owner".
  static Result<BucketRules> parse(std::string_view yaml_text);
  // Adds the path to the message; a missing file is an error too.
  static Result<BucketRules> load_file(const std::string& path);

  // Every table named in a data query, sorted, without duplicates.
  std::vector<std::string> tables() const;

  // The rules for one table, resolved against its columns so evaluation does
  // no name lookups. kInvalidArgument when a query names a column the table
  // lacks. A table no query names gets rules that place rows in no bucket.
  Result<TableRules> for_table(const Relation& relation) const;

  // Every parsed data query, in file order (each names its definition):
  // what rules_fingerprint.h fingerprints.
  const std::vector<std::shared_ptr<const DataQuery>>& queries() const { return queries_; }
  // The YAML text parsed, as given: what a rules version records (issue 11),
  // so a deploy interrupted by a crash can be resumed from the store.
  const std::string& text() const { return text_; }

 private:
  std::vector<std::shared_ptr<const DataQuery>> queries_;
  std::string text_;
};

class TableRules {
 public:
  // The buckets `row` is in, in query order. The row may hold
  // unchanged-TOAST markers: the store evaluates an incomplete row (a value
  // it has not seen yet, see row_applier.h) too, and such a value counts as
  // NULL, in filters, parameters and data alike. An incomplete row blocks
  // checkpoints until it is filled, and the fill writes the ops that
  // correct the placement, so a checkpoint never covers one without them.
  std::vector<BucketRow> evaluate(const Row& row) const;

 private:
  friend class BucketRules;
  struct Resolved;  // defined in bucket_rules.cc
  std::vector<std::shared_ptr<const Resolved>> resolved_;
};

}  // namespace walsim
