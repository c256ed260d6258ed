// Model-based test of the storage batches: RapidCheck generates command
// sequences (streamed changes, flushes, commits, keepalives, snapshot
// copies, the snapshot bookkeeping calls, re-created tables, crashes and
// failing writes), runs each on the real store and on StoreModel, and
// compares them after every command (tests/engine/storage_model_commands.h).
// A failure shrinks to a minimal command sequence; docs/testing.md says how
// to replay it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tests/engine/storage_model_commands.h"

namespace walsim::model {
namespace {

RC_GTEST_PROP(StorageModel, BatchesBehaveLikeTheModel, ()) { check_against_model(); }

}  // namespace
}  // namespace walsim::model
