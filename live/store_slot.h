// The store's side of the slot pairing (see slot_plan.h), for a store file
// that may not exist yet. Everything else about the pairing is a
// BucketStorage operation: slot_name(), set_slot_name() and
// start_new_replication_state().
#pragma once

#include <string>

#include "engine/bucket_storage.h"
#include "engine/status.h"

namespace walsim {

// What the store file at `path` says (BucketStorage::probe), opened without
// creating or changing it. A missing file is a new store (no slot, no
// tables) and is not created; any other file that is not a walsim store is
// kInvalidArgument "... is not a walsim store: ...", and so is a directory
// (check_not_directory).
Result<StoreFacts> probe_store(const std::string& path);

// kInvalidArgument "'dir' is a directory; ..." when `path` names a
// directory, which SQLite would report as a file it cannot open.
Status check_not_directory(const std::string& path);

}  // namespace walsim
