#include "tests/engine/storage_model_source.h"

#include <iterator>

namespace walsim::model {

ScenarioSource::ScenarioSource(Table table, const std::vector<SourceRow>& initial_rows)
    : table_(table) {
  for (const SourceRow& row : initial_rows) rows_[row.id] = row;
  history_.emplace_back(lsn_, rows_);
}

void ScenarioSource::run(const std::vector<Intent>& intents) {
  std::vector<StreamChange> changes;
  for (const Intent& intent : intents) apply(intent, changes);
  if (changes.empty()) return;
  lsn_ = Lsn(lsn_.value() + 0x10);
  wal_.push_back({lsn_, std::move(changes)});
  history_.emplace_back(lsn_, rows_);
}

void ScenarioSource::apply(const Intent& intent, std::vector<StreamChange>& changes) {
  using Type = StreamChange::Type;
  switch (intent.kind) {
    case Intent::Kind::kUpsert: {
      bool exists = rows_.count(intent.row.id) > 0;
      rows_[intent.row.id] = intent.row;
      changes.push_back({exists ? Type::kUpdate : Type::kInsert, table_, intent.row, std::nullopt});
      return;
    }
    case Intent::Kind::kDelete: {
      std::optional<int> id = picked(intent.pick);
      if (!id) return;
      rows_.erase(*id);
      changes.push_back({Type::kDelete, table_, SourceRow{*id, 0, 'x'}, std::nullopt});
      return;
    }
    case Intent::Kind::kMoveKey: {
      // UPDATE ... SET id = new: only when the new key is free (it is the
      // primary key).
      std::optional<int> id = picked(intent.pick);
      if (!id || rows_.count(intent.row.id)) return;
      rows_.erase(*id);
      rows_[intent.row.id] = intent.row;
      changes.push_back({Type::kUpdate, table_, intent.row, *id});
      return;
    }
    case Intent::Kind::kTruncate:
      rows_.clear();
      changes.push_back({Type::kTruncate, table_, {}, std::nullopt});
      return;
  }
}

std::optional<int> ScenarioSource::picked(int pick) const {
  if (rows_.empty()) return std::nullopt;
  auto it = rows_.begin();
  std::advance(it, pick % static_cast<int>(rows_.size()));
  return it->first;
}

std::vector<SourceRow> ScenarioSource::read(std::optional<int> after, int limit) const {
  std::vector<SourceRow> rows;
  auto it = after ? rows_.upper_bound(*after) : rows_.begin();
  for (; it != rows_.end() && static_cast<int>(rows.size()) < limit; ++it) {
    rows.push_back(it->second);
  }
  return rows;
}

const std::map<int, SourceRow>& ScenarioSource::rows_at(Lsn lsn) const {
  const std::map<int, SourceRow>* rows = &history_.front().second;
  for (const auto& [committed, state] : history_) {
    if (committed <= lsn) rows = &state;
  }
  return *rows;
}

BucketView view_of(Table table, const std::map<int, SourceRow>& rows) {
  BucketView view;
  for (const auto& [id, row] : rows) add_to_view(view, table, row);
  return view;
}

std::ostream& operator<<(std::ostream& os, const Intent& intent) {
  switch (intent.kind) {
    case Intent::Kind::kUpsert: return os << "upsert" << intent.row;
    case Intent::Kind::kDelete: return os << "delete #" << intent.pick;
    case Intent::Kind::kMoveKey: return os << "move #" << intent.pick << " to " << intent.row;
    case Intent::Kind::kTruncate: return os << "truncate";
  }
  return os;
}

}  // namespace walsim::model
