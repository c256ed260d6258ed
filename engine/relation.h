// Relation, Value and Row: the source's schema and row values as the engine
// sees them. Every column is carried as text (pgoutput's text format); the
// engine never interprets a value beyond comparing and copying it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace walsim {

// One column value. kUnchangedToast appears only in the new tuple of an
// update: the value is stored out of line (TOAST) and did not change, so the
// source did not send it and the engine takes it from its current data.
struct Value {
  enum class Kind : uint8_t { kNull, kText, kUnchangedToast };
  Kind kind = Kind::kNull;
  std::string text;  // only for kText

  static Value null() { return Value{Kind::kNull, {}}; }
  static Value of(std::string text) { return Value{Kind::kText, std::move(text)}; }
  static Value unchanged_toast() { return Value{Kind::kUnchangedToast, {}}; }

  bool is_null() const { return kind == Kind::kNull; }
  bool is_text() const { return kind == Kind::kText; }
  bool is_unchanged_toast() const { return kind == Kind::kUnchangedToast; }
  bool operator==(const Value&) const = default;
};

// Values in the order of Relation::columns.
using Row = std::vector<Value>;

// Postgres's REPLICA IDENTITY: which old values an update or delete carries.
//   kDefault: the primary key columns.   kIndex: a chosen unique index.
//   kFull:    every column.              kNothing: none (updates and deletes
//             cannot be replicated; walsim refuses such tables).
enum class ReplicaIdentity : uint8_t { kDefault, kNothing, kFull, kIndex };

const char* replica_identity_name(ReplicaIdentity identity);

struct Column {
  std::string name;
  uint32_t type_oid = 25;  // text
  bool is_key = false;     // part of the replica identity
  bool operator==(const Column&) const = default;
};

struct Relation {
  uint32_t relid = 0;  // the source's table oid; changes when re-created
  std::string schema = "public";
  std::string name;  // bucket rules name tables by this name
  ReplicaIdentity identity = ReplicaIdentity::kDefault;
  std::vector<Column> columns;

  std::optional<size_t> column_index(const std::string& column) const;
  // Indexes of the replica identity columns, in column order.
  std::vector<size_t> key_indexes() const;
  // The replica identity values of `row` (a full row or a key tuple).
  Row key_of(const Row& row) const;

  bool operator==(const Relation&) const = default;
};

}  // namespace walsim
