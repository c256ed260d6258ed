#include "engine/store_transaction.h"

namespace walsim {

StoreWriter::StoreWriter(SqliteDb& db, StoreOptions options) : db_(db), options_(options) {
  db_.set_faults(options_.faults);
}

StoreWriter::~StoreWriter() { db_.set_faults(nullptr); }

Status StoreWriter::write(const char* operation,
                          const std::function<Status(StoreTransaction&)>& body,
                          Durability durability) {
  WALSIM_ASSERT(!in_transaction_, "store write transactions do not nest");
  if (options_.faults) WALSIM_RETURN_IF_ERROR(options_.faults->before_write(operation));
  in_transaction_ = true;
  Status status;
  // Doubling: a body that writes many ops (a truncate's REMOVEs) runs
  // again only a few times.
  for (int64_t ahead = options_.op_ids_reserved_ahead;; ahead *= 2) {
    bool needs_reservation = false;
    status = run(body, durability, &needs_reservation);
    if (!needs_reservation) break;
    bool again = false;
    status = run([ahead](StoreTransaction& txn) { return txn.op_log().reserve_ahead(ahead); },
                 Durability::kSurvivesPowerLoss, &again);
    WALSIM_ASSERT(!again, "a reservation writes no ops");
    if (!status.is_ok()) break;
  }
  in_transaction_ = false;
  last_error_ = status;
  return status;
}

Status StoreWriter::run(const std::function<Status(StoreTransaction&)>& body,
                        Durability durability, bool* needs_reservation) {
  *needs_reservation = false;  // the body may not run at all (BEGIN may fail)
  bool loaded = false;
  const OpLogWriter::Sequence sequence{!sequence_resumed_,
                                       durability == Durability::kSurvivesPowerLoss,
                                       options_.op_ids_reserved_ahead > 0};
  Status status = in_transaction(
      db_,
      [&]() -> Status {
        StoreTransaction transaction(db_, options_, sequence);
        Status written = body(transaction);
        *needs_reservation = transaction.op_log().needs_reservation();
        WALSIM_RETURN_IF_ERROR(written);
        loaded = transaction.op_log().loaded();
        return transaction.op_log().finish();
      },
      durability);
  // Committed: the sequence's resume point is stored.
  if (status.is_ok() && loaded) sequence_resumed_ = true;
  return status;
}

}  // namespace walsim
