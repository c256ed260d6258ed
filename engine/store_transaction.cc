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
  Status status = in_transaction(db_, [&]() -> Status {
    StoreTransaction transaction(db_, options_);
    WALSIM_RETURN_IF_ERROR(body(transaction));
    return transaction.op_log().finish();
  }, durability);
  in_transaction_ = false;
  return status;
}

}  // namespace walsim
