// Text for the values the model tests compare, so a failed comparison (and
// the shrunk counterexample) says what differed, not just that it did.
#pragma once

#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "tests/engine/storage_model.h"
#include "tests/engine/storage_model_domain.h"

namespace walsim::model {

std::string describe(const ModelOp& op);
std::string describe(const std::vector<ModelOp>& ops);
std::string describe(const ReplicationState& state);
std::string describe(const BucketView& view);
std::string describe(const TableProgress& progress);
std::string describe(const Outcome& outcome);

// "" when equal; otherwise what differs, expected first.
template <typename T>
std::string difference(const char* what, const T& actual, const T& expected) {
  if (actual == expected) return "";
  return std::string(what) + " differs\n  expected: " + describe(expected) +
         "\n  actual:   " + describe(actual);
}

}  // namespace walsim::model
