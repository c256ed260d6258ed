#include "sim/sim_table.h"

#include <algorithm>

#include "engine/assert.h"

namespace walsim::sim {

int compare_keys(const Row& a, const Row& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    const bool a_null = a[i].is_null();
    const bool b_null = b[i].is_null();
    WALSIM_ASSERT(!a[i].is_unchanged_toast() && !b[i].is_unchanged_toast());
    if (a_null != b_null) return a_null ? -1 : 1;
    if (a_null) continue;
    int order = a[i].text.compare(b[i].text);
    if (order != 0) return order < 0 ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

SimTable::SimTable(Relation relation) : relation_(std::move(relation)) {
  WALSIM_ASSERT(!relation_.columns.empty() && relation_.columns[0].name == "id");
  WALSIM_ASSERT(relation_.columns[0].is_key, "id leads the identity key");
}

const Row* SimTable::latest(const std::string& id) const {
  auto found = history_.find(id);
  if (found == history_.end()) return nullptr;
  const std::optional<Row>& row = found->second.back().row;
  return row ? &*row : nullptr;
}

void SimTable::set_identity(ReplicaIdentity identity) {
  WALSIM_ASSERT(identity == ReplicaIdentity::kDefault || identity == ReplicaIdentity::kFull,
                "the simulated tables have DEFAULT (id) or FULL identity");
  WALSIM_ASSERT(pending_ids_.empty(), "DDL runs between the writer's transactions");
  relation_.identity = identity;
  for (size_t i = 1; i < relation_.columns.size(); i++) {
    relation_.columns[i].is_key = identity == ReplicaIdentity::kFull;
  }
  WALSIM_ASSERT(relation_.columns[0].is_key, "id leads the identity key either way");
}

void SimTable::write(const std::string& id, std::optional<Row> row) {
  WALSIM_ASSERT(!row || ((*row)[0].is_text() && (*row)[0].text == id));
  WALSIM_ASSERT(row || latest(id) != nullptr, "delete of a missing key");
  track_live(id, row.has_value());
  history_[id].push_back(Version{kPending, std::move(row)});
  pending_ids_.push_back(id);
}

void SimTable::commit_pending(Lsn commit_lsn) {
  WALSIM_ASSERT(commit_lsn < kPending);
  for (const std::string& id : pending_ids_) {
    for (auto it = history_[id].rbegin(); it != history_[id].rend() && it->lsn == kPending; ++it) {
      it->lsn = commit_lsn;
    }
  }
  pending_ids_.clear();
}

void SimTable::track_live(const std::string& id, bool live) {
  auto found = live_index_.find(id);
  if (live && found == live_index_.end()) {
    live_index_[id] = live_ids_.size();
    live_ids_.push_back(id);
  } else if (!live && found != live_index_.end()) {
    // Swap-remove keeps picks O(1); the order stays deterministic.
    size_t index = found->second;
    live_index_.erase(found);
    if (index + 1 != live_ids_.size()) {
      live_ids_[index] = std::move(live_ids_.back());
      live_index_[live_ids_[index]] = index;
    }
    live_ids_.pop_back();
  }
}

const std::optional<Row>* SimTable::visible(const std::vector<Version>& versions,
                                            Lsn as_of) const {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->lsn <= as_of) return &it->row;
  }
  return nullptr;  // the id did not exist yet
}

std::vector<Row> SimTable::read_keys(const std::vector<Row>& keys, Lsn as_of) const {
  WALSIM_ASSERT(as_of < kPending, "reads see committed versions only");
  std::vector<Row> rows;
  for (const Row& key : keys) {
    WALSIM_ASSERT(!key.empty() && key[0].is_text());
    auto found = history_.find(key[0].text);
    if (found == history_.end()) continue;
    const std::optional<Row>* row = visible(found->second, as_of);
    if (!row || !*row || compare_keys(relation_.key_of(**row), key) != 0) continue;
    rows.push_back(**row);
  }
  std::sort(rows.begin(), rows.end(), [this](const Row& a, const Row& b) {
    return compare_keys(relation_.key_of(a), relation_.key_of(b)) < 0;
  });
  return rows;
}

SimTable::Chunk SimTable::read(const std::optional<Row>& after_key, size_t limit,
                               Lsn as_of) const {
  WALSIM_ASSERT(limit > 0);
  WALSIM_ASSERT(as_of < kPending, "reads see committed versions only");
  Chunk chunk;
  auto it = history_.begin();
  if (after_key) {
    WALSIM_ASSERT(!after_key->empty() && (*after_key)[0].is_text());
    it = history_.lower_bound((*after_key)[0].text);
  }
  for (; it != history_.end(); ++it) {
    const std::optional<Row>* row = visible(it->second, as_of);
    if (!row || !*row) continue;
    if (after_key && compare_keys(relation_.key_of(**row), *after_key) <= 0) continue;
    if (chunk.rows.size() == limit) return chunk;  // a row exists after this chunk
    chunk.rows.push_back(**row);
  }
  chunk.is_last = true;
  return chunk;
}

}  // namespace walsim::sim
