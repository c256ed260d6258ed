// RapidCheck assertions shared by the model tests: each fails the property
// with a message that says what differed.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <utility>

#include "engine/status.h"
#include "tests/engine/storage_model_domain.h"
#include "tests/engine/storage_model_probe.h"
#include "tests/engine/storage_model_show.h"
#include "tests/engine/storage_model_store.h"

namespace walsim::model {

// Fails with `difference` unless it is empty (see difference()).
inline void check_same(const std::string& difference) {
  if (!difference.empty()) RC_FAIL(difference);
}

inline void check_ok(const Status& status, const char* what) {
  if (!status.is_ok()) RC_FAIL(std::string(what) + ": " + status.to_string());
}

template <typename T>
T checked(Result<T> result, const char* what) {
  check_ok(result.status(), what);
  return std::move(result).value();
}

// What clients get at `checkpoint` must be `expected`: a client reducing
// every op from zero, the incremental client syncing from its last
// checkpoint, and the checksums both would verify.
inline void check_clients(StoreUnderTest& store, int64_t checkpoint, const BucketView& expected) {
  auto view = checked(reduced_view(store.storage(), checkpoint), "reduce");
  check_same(difference("buckets at the checkpoint", view, expected));
  std::string mismatch = checked(checksum_mismatch(store.storage(), checkpoint), "checksums");
  if (!mismatch.empty()) RC_FAIL(mismatch);
  mismatch = checked(totals_mismatch(store.storage()), "bucket totals");
  if (!mismatch.empty()) RC_FAIL(mismatch);
  check_ok(store.client().sync(store.storage(), checkpoint), "incremental sync");
  check_same(difference("incremental client", store.client().view(), expected));
}

}  // namespace walsim::model
