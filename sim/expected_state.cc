#include "sim/expected_state.h"

namespace walsim::sim {

void ExpectedState::advance_to(Lsn lsn, DirtyRows* dirty) {
  const std::vector<SourceTxn>& wal = source_.transactions();
  for (; next_txn_ < wal.size() && wal[next_txn_].commit_lsn <= lsn; next_txn_++) {
    for (const SourceChange& change : wal[next_txn_].changes) apply(change, dirty);
  }
}

void ExpectedState::apply(const SourceChange& change, DirtyRows* dirty) {
  if (change.before) {
    const RowRef row{rules_.relation(change.table).name, rules_.row_id(change.table, *change.before)};
    for (const PlacedRow& placed : rules_.place(change.table, *change.before)) {
      erase_row(buckets_, placed.bucket, row);
      if (dirty) dirty->insert({placed.bucket, row});
    }
  }
  if (change.after) {
    const RowRef row{rules_.relation(change.table).name, rules_.row_id(change.table, *change.after)};
    for (PlacedRow& placed : rules_.place(change.table, *change.after)) {
      if (dirty) dirty->insert({placed.bucket, row});
      put_row(buckets_, placed.bucket, row, std::move(placed.data_json));
    }
  }
}

bool ExpectedState::changes_buckets(const SourceTxn& txn) const {
  for (const SourceChange& change : txn.changes) {
    auto place = [&](const std::optional<Row>& row) {
      std::vector<std::pair<std::string, std::string>> placed;  // (bucket, id + data)
      if (!row) return placed;
      const std::string id = rules_.row_id(change.table, *row);
      for (PlacedRow& p : rules_.place(change.table, *row)) {
        placed.push_back({std::move(p.bucket), id + p.data_json});
      }
      return placed;
    };
    if (place(change.before) != place(change.after)) return true;
  }
  return false;
}

const SourceTxn* ExpectedState::last_writer(const std::string& table,
                                            const std::string& row_id) const {
  const std::vector<SourceTxn>& wal = source_.transactions();
  for (size_t i = next_txn_; i-- > 0;) {
    for (const SourceChange& change : wal[i].changes) {
      const Relation& relation = rules_.relation(change.table);
      if (relation.name != table) continue;
      for (const auto& image : {change.before, change.after}) {
        if (image && rules_.row_id(change.table, *image) == row_id) return &wal[i];
      }
    }
  }
  return nullptr;
}

}  // namespace walsim::sim
