// The shape both sides of the oracle's comparison share: per bucket, the
// rows it holds, keyed by (source table, row id), each with its data JSON.
// Empty buckets are not kept, so "bucket absent" and "bucket empty" are one
// state on both sides.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace walsim::sim {

using RowRef = std::pair<std::string, std::string>;  // (table, row id)
using BucketRows = std::map<RowRef, std::string>;    // -> data JSON
using BucketMap = std::map<std::string, BucketRows>;
// Rows that changed on either side since the last comparison, as
// (bucket, row). Read in sorted order, each once. Collected in a vector and
// sorted when first read: both sides add a row per op or change, mostly
// the same rows, and one sort costs less than a tree insert per add.
class DirtyRows {
 public:
  using Entry = std::pair<std::string, RowRef>;

  void insert(Entry entry) {
    entries_.push_back(std::move(entry));
    sorted_ = false;
  }
  std::vector<Entry>::const_iterator begin() const {
    settle();
    return entries_.begin();
  }
  std::vector<Entry>::const_iterator end() const {
    settle();
    return entries_.end();
  }
  size_t size() const {
    settle();
    return entries_.size();
  }

 private:
  void settle() const {
    if (sorted_) return;
    std::sort(entries_.begin(), entries_.end());
    entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
    sorted_ = true;
  }

  mutable std::vector<Entry> entries_;
  mutable bool sorted_ = true;
};

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
