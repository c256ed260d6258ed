// The small world of the storage model tests: two tables, rules that put a
// row into zero, one or two buckets, and rows from a tiny domain (keys 1..5,
// owners a/b/NULL, two texts) so that keys, buckets and moves collide often.
//
// What a row becomes in the store (its row id, its buckets and their data)
// is written out here from the rules text and the documented formats, not
// computed with the engine's helpers: the model must be able to disagree.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/relation.h"

namespace walsim::model {

enum class Table : uint8_t { kTodos, kLists };
inline constexpr Table kTables[] = {Table::kTodos, Table::kLists};
inline constexpr int kMaxKey = 5;  // the usual key range: 1..kMaxKey

// todos(id, owner, title) and lists(id, owner, name); id is the key.
struct SourceRow {
  int id = 1;
  char owner = 0;   // 'a', 'b', or 0 for NULL
  char text = 'x';  // the title or name
  bool operator==(const SourceRow&) const = default;
};

const char* table_name(Table table);
const Relation& relation_of(Table table);
// by_owner takes todos and lists by owner; everything takes every list.
const char* rules_yaml();

Row full_row(const SourceRow& row);
// A key tuple as pgoutput sends it under DEFAULT identity: the key, then
// NULL for every other column.
Row key_tuple(int id);
// A key alone, as a keyset read's resume key: {id}.
Row key_only(int id);
// The id of a key_only() row; nullopt for anything else.
std::optional<int> id_of(const Row& key);
// The stored row id: the key as a JSON array, e.g. ["3"].
std::string row_id(int id);

// One bucket a row is in, and the data JSON the bucket holds for it.
struct Placement {
  std::string bucket;
  std::string data;
  bool operator==(const Placement&) const = default;
};
// In rules order, as the engine evaluates them.
std::vector<Placement> place(Table table, const SourceRow& row);

// What a client holds: bucket -> (table, row id) -> data. Empty buckets are
// left out, so a bucket whose rows were all removed equals a missing one.
using RowRef = std::pair<std::string, std::string>;
using BucketView = std::map<std::string, std::map<RowRef, std::string>>;

// Adds the row to every bucket the rules put it in.
void add_to_view(BucketView& view, Table table, const SourceRow& row);

std::ostream& operator<<(std::ostream& os, Table table);
std::ostream& operator<<(std::ostream& os, const SourceRow& row);

}  // namespace walsim::model
