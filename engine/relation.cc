#include "engine/relation.h"

namespace walsim {

const char* replica_identity_name(ReplicaIdentity identity) {
  switch (identity) {
    case ReplicaIdentity::kDefault: return "default";
    case ReplicaIdentity::kNothing: return "nothing";
    case ReplicaIdentity::kFull: return "full";
    case ReplicaIdentity::kIndex: return "index";
  }
  return "unknown";
}

std::optional<size_t> Relation::column_index(const std::string& column) const {
  for (size_t i = 0; i < columns.size(); i++) {
    if (columns[i].name == column) return i;
  }
  return std::nullopt;
}

std::vector<size_t> Relation::key_indexes() const {
  std::vector<size_t> indexes;
  for (size_t i = 0; i < columns.size(); i++) {
    if (columns[i].is_key) indexes.push_back(i);
  }
  return indexes;
}

Row Relation::key_of(const Row& row) const {
  Row key;
  for (size_t index : key_indexes()) {
    key.push_back(index < row.size() ? row[index] : Value::null());
  }
  return key;
}

}  // namespace walsim
