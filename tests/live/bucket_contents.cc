#include "tests/live/bucket_contents.h"

#include <nlohmann/json.hpp>

namespace walsim::live::testing {

namespace {

using json = nlohmann::json;  // objects sort their keys: a canonical dump

Result<std::string> canonical_json(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status(ErrorCode::kCorrupt, "not JSON: " + text);
  return parsed.dump();
}

Result<std::string> canonical_bucket(const std::string& name, const std::string& parameters) {
  WALSIM_ASSIGN_OR_RETURN(std::string canonical, canonical_json(parameters));
  return name + canonical;
}

// "by_owner[\"a\"]" -> name "by_owner", parameters "[\"a\"]".
Result<std::string> canonical_bucket_id(const std::string& id) {
  size_t bracket = id.find('[');
  if (bracket == std::string::npos) return Status(ErrorCode::kCorrupt, "bucket id " + id);
  return canonical_bucket(id.substr(0, bracket), id.substr(bracket));
}

}  // namespace

Result<BucketContents> store_buckets(BucketStorage& storage) {
  BucketContents contents;
  WALSIM_ASSIGN_OR_RETURN(std::optional<Checkpoint> checkpoint, storage.checkpoint());
  if (!checkpoint) return contents;
  int64_t up_to = checkpoint->op_id;
  WALSIM_ASSIGN_OR_RETURN(std::vector<std::string> buckets, storage.buckets(up_to));
  for (const std::string& bucket : buckets) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<StoredOp> ops, storage.bucket_ops(bucket, 0, up_to));
    WALSIM_ASSIGN_OR_RETURN(std::string id, canonical_bucket_id(bucket));
    for (const auto& [row, op] : reduce_ops(ops)) {
      if (op.kind != OpKind::kPut) continue;
      WALSIM_ASSIGN_OR_RETURN(std::string data, canonical_json(op.data.value_or("null")));
      contents[id].insert(data);
    }
  }
  return contents;
}

Result<BucketContents> source_buckets(PgConnection& connection,
                                      const std::vector<std::string>& queries) {
  BucketContents contents;
  for (const std::string& query : queries) {
    WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows, connection.query(query));
    for (const Row& row : rows) {
      if (row.size() != 3) return Status(ErrorCode::kInvalidArgument, "3 columns: " + query);
      WALSIM_ASSIGN_OR_RETURN(std::string id, canonical_bucket(row[0].text, row[1].text));
      WALSIM_ASSIGN_OR_RETURN(std::string data, canonical_json(row[2].text));
      contents[id].insert(data);
    }
  }
  return contents;
}

std::string describe_difference(const BucketContents& expected, const BucketContents& actual) {
  std::string out;
  int shown = 0;
  auto note = [&](const std::string& line) {
    if (shown++ < 12) out += "  " + line + "\n";
  };
  std::set<std::string> ids;
  for (const auto& [id, rows] : expected) ids.insert(id);
  for (const auto& [id, rows] : actual) ids.insert(id);
  static const std::multiset<std::string> kNone;
  for (const std::string& id : ids) {
    auto want = expected.count(id) ? expected.at(id) : kNone;
    auto got = actual.count(id) ? actual.at(id) : kNone;
    for (const std::string& row : want) {
      if (got.count(row) < want.count(row)) note("missing in " + id + ": " + row);
    }
    for (const std::string& row : got) {
      if (want.count(row) < got.count(row)) note("unexpected in " + id + ": " + row);
    }
  }
  if (shown > 12) out += "  ... and " + std::to_string(shown - 12) + " more\n";
  return out;
}

size_t row_count(const BucketContents& contents) {
  size_t rows = 0;
  for (const auto& [id, bucket_rows] : contents) rows += bucket_rows.size();
  return rows;
}

}  // namespace walsim::live::testing
