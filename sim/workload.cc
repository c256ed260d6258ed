#include "sim/workload.h"

#include <algorithm>
#include <cstdio>

#include "engine/assert.h"

namespace walsim::sim {

namespace {

constexpr int kInitialRowsPerTxn = 100;
constexpr size_t kDeletedKept = 32;

std::string format_id(int64_t number) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08lld", static_cast<long long>(number));
  return buffer;
}

}  // namespace

Workload::Workload(const SimParams& params, SimPostgres& source)
    : params_(params.workload), source_(source), prng_(derive(params.seed, "workload")) {}

void Workload::load_initial() {
  for (int t = 0; t < params_.tables; t++) {
    const bool full = prng_.percent(params_.full_identity_percent);
    // FULL identity sends whole old rows; such tables have no TOAST column.
    source_.create_table("t" + std::to_string(t),
                         full ? ReplicaIdentity::kFull : ReplicaIdentity::kDefault, !full);
    next_id_.push_back(1);
    deleted_.emplace_back();
  }
  for (size_t t = 0; t < source_.table_count(); t++) {
    int left = params_.rows_per_table;
    while (left > 0) {
      SimPostgres::Txn txn = source_.begin();
      for (int i = 0; i < kInitialRowsPerTxn && left > 0; i++, left--) insert(txn, t);
      source_.commit(std::move(txn));
    }
  }
}

std::string Workload::step() {
  WALSIM_ASSERT(!done());
  if (prng_.percent(params_.wal_noise_percent)) {
    const uint64_t bytes = 8 * static_cast<uint64_t>(prng_.range(2, 128));
    source_.advance_wal(bytes);
    return "wal_noise";
  }
  int changes;
  if (prng_.percent(params_.empty_txn_percent)) {
    changes = 0;
  } else if (prng_.percent(params_.long_txn_percent)) {
    changes = static_cast<int>(prng_.range(10, params_.long_txn_changes_max));
  } else {
    changes = static_cast<int>(prng_.range(1, params_.changes_per_txn_max));
  }
  SimPostgres::Txn txn = source_.begin();
  for (int i = 0; i < changes; i++) add_change(txn);
  const SourceTxn& committed = source_.commit(std::move(txn));
  committed_++;
  return "commit xid=" + std::to_string(committed.xid) +
         " changes=" + std::to_string(committed.messages.size());
}

std::string Workload::recreate_table(size_t table) {
  const int64_t rows = prng_.range(0, std::max(1, params_.rows_per_table / 2));
  next_id_[table] = 1;
  deleted_[table].clear();
  std::vector<Row> fresh;
  for (int64_t i = 0; i < rows; i++) fresh.push_back(new_row(table, format_id(next_id_[table]++)));
  const SourceTxn& committed = source_.recreate_table(table, std::move(fresh));
  return "recreate_table " + source_.table(table).name() + " xid=" +
         std::to_string(committed.xid) + " rows=" + std::to_string(rows);
}

void Workload::add_change(SimPostgres::Txn& txn) {
  std::vector<uint32_t> weights(params_.op_weights.begin(), params_.op_weights.end());
  const auto kind = static_cast<WorkloadOp>(prng_.weighted(weights));
  const size_t table = prng_.below(source_.table_count());
  if (kind == WorkloadOp::kInsert) return insert(txn, table);
  if (kind == WorkloadOp::kTruncate) return truncate(txn, table);
  // The rest change an existing row; an empty table gets a row instead.
  if (source_.table(table).live_count() == 0) return insert(txn, table);
  const std::string id = pick_row(table);
  switch (kind) {
    case WorkloadOp::kUpdate: return update(txn, table, id);
    case WorkloadOp::kDelete: return remove(txn, table, id);
    case WorkloadOp::kKeyChange: return change_key(txn, table, id);
    case WorkloadOp::kBucketMove: return move_bucket(txn, table, id);
    case WorkloadOp::kInsert:
    case WorkloadOp::kTruncate:
    case WorkloadOp::kCount: break;
  }
}

void Workload::insert(SimPostgres::Txn& txn, size_t table) {
  txn.insert(table, new_row(table, new_id(table)));
}

void Workload::update(SimPostgres::Txn& txn, size_t table, const std::string& id) {
  Row row = *source_.table(table).latest(id);
  row[SimPostgres::kTitleColumn] = title_value();
  if (source_.has_body(table) && prng_.percent(30)) row[SimPostgres::kBodyColumn] = body_value();
  txn.update(table, id, std::move(row), toast());
}

void Workload::remove(SimPostgres::Txn& txn, size_t table, const std::string& id) {
  txn.remove(table, id);
  std::vector<std::string>& deleted = deleted_[table];
  if (deleted.size() == kDeletedKept) deleted.erase(deleted.begin());
  deleted.push_back(id);
}

void Workload::change_key(SimPostgres::Txn& txn, size_t table, const std::string& id) {
  Row row = *source_.table(table).latest(id);
  row[0] = Value::of(new_id(table));
  if (prng_.coin()) row[SimPostgres::kTitleColumn] = title_value();
  txn.update(table, id, std::move(row), toast());
}

void Workload::move_bucket(SimPostgres::Txn& txn, size_t table, const std::string& id) {
  Row row = *source_.table(table).latest(id);
  const Value old_owner = row[SimPostgres::kOwnerColumn];
  // An owner change that lands on the same owner is an ordinary update.
  for (int attempt = 0; attempt < 4 && row[SimPostgres::kOwnerColumn] == old_owner; attempt++) {
    row[SimPostgres::kOwnerColumn] = owner_value();
  }
  if (row[SimPostgres::kOwnerColumn] == old_owner) row[SimPostgres::kTitleColumn] = title_value();
  txn.update(table, id, std::move(row), toast());
}

void Workload::truncate(SimPostgres::Txn& txn, size_t table) {
  std::vector<size_t> tables = {table};
  if (source_.table_count() > 1 && prng_.percent(30)) {
    tables.push_back((table + 1 + prng_.below(source_.table_count() - 1)) % source_.table_count());
  }
  txn.truncate(tables);
}

std::string Workload::pick_row(size_t table) {
  const SimTable& target = source_.table(table);
  WALSIM_ASSERT(target.live_count() > 0);
  if (prng_.percent(params_.hot_key_percent)) {
    const std::vector<std::string>& hot = source_.recent_read_ids(table);
    if (!hot.empty()) {
      const std::string& id = prng_.pick(hot);
      if (target.latest(id) != nullptr) return id;
    }
  }
  return target.live_id(prng_.below(target.live_count()));
}

std::string Workload::new_id(size_t table) {
  std::vector<std::string>& deleted = deleted_[table];
  if (!deleted.empty() && prng_.percent(params_.reinsert_percent)) {
    const size_t index = prng_.below(deleted.size());
    std::string id = deleted[index];
    deleted.erase(deleted.begin() + static_cast<std::ptrdiff_t>(index));
    if (source_.table(table).latest(id) == nullptr) return id;
  }
  return format_id(next_id_[table]++);
}

Row Workload::new_row(size_t table, const std::string& id) {
  Row row = {Value::of(id), owner_value(), title_value()};
  if (source_.has_body(table)) row.push_back(body_value());
  return row;
}

Value Workload::owner_value() {
  if (prng_.percent(5)) return Value::null();  // in no owner bucket
  return Value::of("o" + std::to_string(prng_.below(static_cast<uint64_t>(params_.owners))));
}

// Titles are sometimes NULL and sometimes carry characters JSON must
// escape, so the oracle's JSON and the engine's are compared on them too.
Value Workload::title_value() {
  if (prng_.percent(5)) return Value::null();
  std::string title = "title " + std::to_string(values_made_++);
  if (prng_.percent(10)) {
    static const std::vector<std::string> kTricky = {"\"quoted\"", "back\\slash", "caf\xC3\xA9",
                                                     "line\nbreak", "tab\there"};
    title += " " + prng_.pick(kTricky);
  }
  return Value::of(std::move(title));
}

Value Workload::body_value() {
  std::string body = "body " + std::to_string(values_made_++) + " ";
  body.append(static_cast<size_t>(prng_.range(0, prng_.percent(10) ? 400 : 40)), 'x');
  return Value::of(std::move(body));
}

}  // namespace walsim::sim
