// The shape both sides of the oracle's comparison share: per bucket, the
// rows it holds, keyed by (source table, row id), each with its data JSON.
// Empty buckets are not kept, so "bucket absent" and "bucket empty" are one
// state on both sides.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace walsim::sim {

using RowRef = std::pair<std::string, std::string>;  // (table, row id)
using BucketRows = std::map<RowRef, std::string>;    // -> data JSON
using BucketMap = std::map<std::string, BucketRows>;
// Rows that changed on either side since the last comparison.
using DirtyRows = std::set<std::pair<std::string, RowRef>>;  // (bucket, row)

inline const std::string* find_row(const BucketMap& buckets, const std::string& bucket,
                                   const RowRef& row) {
  auto in_bucket = buckets.find(bucket);
  if (in_bucket == buckets.end()) return nullptr;
  auto found = in_bucket->second.find(row);
  return found == in_bucket->second.end() ? nullptr : &found->second;
}

inline void put_row(BucketMap& buckets, const std::string& bucket, const RowRef& row,
                    std::string data) {
  buckets[bucket][row] = std::move(data);
}

inline void erase_row(BucketMap& buckets, const std::string& bucket, const RowRef& row) {
  auto in_bucket = buckets.find(bucket);
  if (in_bucket == buckets.end()) return;
  in_bucket->second.erase(row);
  if (in_bucket->second.empty()) buckets.erase(in_bucket);
}

}  // namespace walsim::sim
