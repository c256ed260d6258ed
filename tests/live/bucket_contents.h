// Bucket contents as sets of rows, from the store (what a client gets by
// reducing ops up to the checkpoint) and from the source (the rules applied
// by a SQL query), in one canonical form so the two compare with ==.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live::testing {

// Canonical bucket id ("by_owner[\"a\"]") -> canonical row data JSON.
using BucketContents = std::map<std::string, std::multiset<std::string>>;

// The rows of every bucket, reduced up to the published checkpoint.
// Buckets left empty by REMOVE ops are left out.
Result<BucketContents> store_buckets(BucketStorage& storage);

// Each query returns rows of (definition name, parameters as a JSON array,
// row data as a JSON object), e.g.
//   SELECT 'by_owner', json_build_array(owner), json_build_object('id', id::text)
//   FROM todos WHERE owner IS NOT NULL
Result<BucketContents> source_buckets(PgConnection& connection,
                                      const std::vector<std::string>& queries);

// A readable account of the first differences; empty when equal.
std::string describe_difference(const BucketContents& expected, const BucketContents& actual);

// Total rows over all buckets.
size_t row_count(const BucketContents& contents);

}  // namespace walsim::live::testing
