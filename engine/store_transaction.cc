#include "engine/store_transaction.h"

#include <algorithm>
#include <optional>

#include "engine/mutant.h"
#include "engine/probe.h"

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
  const int64_t ahead = options_.op_ids_reserved_ahead;
  Status status;
  // Reserve before the ids run low, so that bodies rarely run twice (a
  // durable transaction reserves its own in make_durable()).
  if (ahead > 0 && durability == Durability::kSurvivesCrash && headroom_ < ahead / 2) {
    status = reserve(ahead);
  }
  // Doubling: a body that writes many ops (a truncate's REMOVEs) runs
  // again only a few times.
  for (int64_t more = ahead; status.is_ok(); more *= 2) {
    bool needs_reservation = false;
    status = run(body, durability, &needs_reservation);
    if (!needs_reservation) break;
    status = reserve(more);
  }
  in_transaction_ = false;
  last_error_ = status;
  return status;
}

Status StoreWriter::reserve(int64_t ahead) {
  bool again = false;
  Status status = run([ahead](StoreTransaction& txn) { return txn.op_log().reserve_ahead(ahead); },
                      Durability::kSurvivesPowerLoss, &again);
  WALSIM_ASSERT(!again, "a reservation writes no ops");
  return status;
}

Status StoreWriter::run(const std::function<Status(StoreTransaction&)>& body,
                        Durability durability, bool* needs_reservation) {
  *needs_reservation = false;  // the body may not run at all (BEGIN may fail)
  bool loaded = false;
  int64_t headroom = 0;
  std::optional<int64_t> committing_op;  // set once the body is done: COMMIT is next
  const OpLogWriter::Sequence sequence{!sequence_resumed_,
                                       durability == Durability::kSurvivesPowerLoss,
                                       options_.op_ids_reserved_ahead > 0, burned_through_};
  Status status = in_transaction(
      db_,
      [&]() -> Status {
        StoreTransaction transaction(db_, options_, sequence);
        Status written = body(transaction);
        *needs_reservation = transaction.op_log().needs_reservation();
        WALSIM_RETURN_IF_ERROR(written);
        loaded = transaction.op_log().loaded();
        if (loaded) headroom = transaction.op_log().headroom();
        WALSIM_RETURN_IF_ERROR(transaction.op_log().finish());
        committing_op = transaction.op_log().last_written_op().value_or(0);
        return Status::ok();
      },
      durability);
  // A failed COMMIT may have reached the disk and come back later.
  if (!status.is_ok() && committing_op && !WALSIM_MUTANT("failed_commit_op_ids_reused")) {
    WALSIM_PROBE("failed_commit_op_ids_burned");
    burned_through_ = std::max(burned_through_, *committing_op);
  }
  // Committed: the sequence's resume point is stored.
  if (status.is_ok() && committing_op && *committing_op > 0) {
    WALSIM_ASSERT(!committed_op_max_ || *committing_op > *committed_op_max_,
                  "a committed transaction's op ids follow the ones committed before it");
    committed_op_max_ = *committing_op;
  }
  if (status.is_ok() && loaded) {
    sequence_resumed_ = true;
    headroom_ = headroom;
  }
  return status;
}

}  // namespace walsim
