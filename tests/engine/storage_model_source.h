// ScenarioSource: the source side of the scenario property, one table of
// the model domain with a WAL. Transactions are generated as intents and
// resolved against the table when they run, so that any subsequence of a
// generated workload (which is what shrinking tries) is still a valid one:
// an insert of a key that exists becomes an update, a delete of a missing
// key does nothing, and so on.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <vector>

#include "engine/lsn.h"
#include "tests/engine/storage_model.h"
#include "tests/engine/storage_model_domain.h"

namespace walsim::model {

// One statement a source transaction runs.
struct Intent {
  enum class Kind : uint8_t { kUpsert, kDelete, kMoveKey, kTruncate };
  Kind kind = Kind::kUpsert;
  SourceRow row;  // upsert: the row; move: the row under its new key
  // Delete and move act on an existing row: the pick-th one (modulo the
  // row count) in key order, so that they hardly ever do nothing.
  int pick = 0;
};

// A committed source transaction, as the WAL carries it.
struct WalTransaction {
  Lsn lsn;
  std::vector<StreamChange> changes;
};

class ScenarioSource {
 public:
  ScenarioSource(Table table, const std::vector<SourceRow>& initial_rows);

  // Runs the intents as one transaction; one that changes nothing is not
  // logged (Postgres sends nothing for it).
  void run(const std::vector<Intent>& intents);

  // A keyset read, as a table copy does it: up to `limit` rows with a key
  // after `after`, in key order, as the table is now.
  std::vector<SourceRow> read(std::optional<int> after, int limit) const;

  // The table as of `lsn`: after every transaction committed at or before it.
  const std::map<int, SourceRow>& rows_at(Lsn lsn) const;
  const std::map<int, SourceRow>& rows() const { return rows_; }
  const std::vector<WalTransaction>& wal() const { return wal_; }
  Lsn lsn() const { return lsn_; }
  Table table() const { return table_; }

 private:
  void apply(const Intent& intent, std::vector<StreamChange>& changes);
  std::optional<int> picked(int pick) const;

  Table table_;
  std::map<int, SourceRow> rows_;
  std::vector<WalTransaction> wal_;
  // The table after each transaction, with the LSN it committed at.
  std::vector<std::pair<Lsn, std::map<int, SourceRow>>> history_;
  Lsn lsn_{0x100};  // the slot's starting point: the stream sees all after it
};

// The buckets the rules give a table's rows.
BucketView view_of(Table table, const std::map<int, SourceRow>& rows);

std::ostream& operator<<(std::ostream& os, const Intent& intent);

}  // namespace walsim::model
