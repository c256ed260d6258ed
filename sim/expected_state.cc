#include "sim/expected_state.h"

#include "engine/assert.h"

namespace walsim::sim {

ExpectedState::ExpectedState(const RulesModel& rules, const SimPostgres& source)
    : rules_(rules), source_(source) {
  for (size_t t = 0; t < source.table_count(); t++) {
    identity_.push_back(rules.relation(t).identity);
    next_identity_change_.push_back(0);
    rows_.emplace_back();
  }
  WALSIM_ASSERT(identity_.size() == source.table_count() && rows_.size() == identity_.size());
}

void ExpectedState::advance_to(Lsn lsn, DirtyRows* dirty) {
  const std::vector<SourceTxn>& wal = source_.transactions();
  for (; next_txn_ < wal.size() && wal[next_txn_].commit_lsn <= lsn; next_txn_++) {
    change_identities_through(wal[next_txn_].commit_lsn, dirty);
    for (const SourceChange& change : wal[next_txn_].changes) apply(change, dirty);
  }
  change_identities_through(lsn, dirty);
}

// An identity change at `from` covers the commits after it, and a
// checkpoint at `from` or later (the catalog as of it has the new one).
void ExpectedState::change_identities_through(Lsn lsn, DirtyRows* dirty) {
  for (size_t t = 0; t < identity_.size(); t++) {
    const auto& changes = source_.identity_changes(t);
    size_t& next = next_identity_change_[t];
    for (; next < changes.size() && changes[next].from <= lsn; next++) {
      rekey_table(t, changes[next].identity, dirty);
    }
    WALSIM_ASSERT(next <= changes.size());
  }
}

void ExpectedState::rekey_table(size_t table, ReplicaIdentity identity, DirtyRows* dirty) {
  const ReplicaIdentity before = identity_[table];
  identity_[table] = identity;
  if (before == identity) return;
  const std::string& name = rules_.relation(table).name;
  for (const auto& [id, row] : rows_[table]) {
    const RowRef old_ref{name, rules_.row_id(table, row, before)};
    const RowRef new_ref{name, rules_.row_id(table, row, identity)};
    WALSIM_ASSERT(old_ref != new_ref || row.size() == 1, "a new identity names the row anew");
    for (PlacedRow& placed : rules_.place(table, row)) {
      erase_row(buckets_, placed.bucket, old_ref);
      put_row(buckets_, placed.bucket, new_ref, std::move(placed.data_json));
      if (dirty) {
        dirty->insert({placed.bucket, old_ref});
        dirty->insert({placed.bucket, new_ref});
      }
    }
  }
}

void ExpectedState::apply(const SourceChange& change, DirtyRows* dirty) {
  const ReplicaIdentity identity = identity_[change.table];
  const std::string& name = rules_.relation(change.table).name;
  if (change.before) {
    const RowRef row{name, rules_.row_id(change.table, *change.before, identity)};
    for (const PlacedRow& placed : rules_.place(change.table, *change.before)) {
      erase_row(buckets_, placed.bucket, row);
      if (dirty) dirty->insert({placed.bucket, row});
    }
    rows_[change.table].erase((*change.before)[0].text);
  }
  if (change.after) {
    const RowRef row{name, rules_.row_id(change.table, *change.after, identity)};
    for (PlacedRow& placed : rules_.place(change.table, *change.after)) {
      if (dirty) dirty->insert({placed.bucket, row});
      put_row(buckets_, placed.bucket, row, std::move(placed.data_json));
    }
    rows_[change.table].insert_or_assign((*change.after)[0].text, *change.after);
  }
}

bool ExpectedState::changes_buckets(const SourceTxn& txn) const {
  for (const SourceChange& change : txn.changes) {
    auto place = [&](const std::optional<Row>& row) {
      std::vector<std::pair<std::string, std::string>> placed;  // (bucket, id + data)
      if (!row) return placed;
      const std::string id = rules_.row_id(change.table, *row, identity_[change.table]);
      for (PlacedRow& p : rules_.place(change.table, *row)) {
        placed.push_back({std::move(p.bucket), id + p.data_json});
      }
      return placed;
    };
    if (place(change.before) != place(change.after)) return true;
  }
  return false;
}

// A row id names the row under one identity or the other (the table's may
// have changed since the row was written).
const SourceTxn* ExpectedState::last_writer(const std::string& table,
                                            const std::string& row_id) const {
  const std::vector<SourceTxn>& wal = source_.transactions();
  for (size_t i = next_txn_; i-- > 0;) {
    for (const SourceChange& change : wal[i].changes) {
      const Relation& relation = rules_.relation(change.table);
      if (relation.name != table) continue;
      for (const auto& image : {change.before, change.after}) {
        if (!image) continue;
        for (ReplicaIdentity identity : {ReplicaIdentity::kDefault, ReplicaIdentity::kFull}) {
          if (rules_.row_id(change.table, *image, identity) == row_id) return &wal[i];
        }
      }
    }
  }
  return nullptr;
}

}  // namespace walsim::sim
