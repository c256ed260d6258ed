// Fuzz target: the bucket-rules parser and evaluator (engine/bucket_rules.h).
//
// The input is a rules file. Malformed rules must be kInvalidArgument naming
// a line. Rules that parse are resolved against each table they name, and
// evaluated on fixed rows whose values need JSON escaping; every bucket id
// must be `name[<JSON array of strings>]` and every bucket data a JSON object.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bucket_rules.h"
#include "fuzz/fuzz_check.h"

namespace walsim::fuzz {
namespace {

// Values that must be escaped or that rules often compare with. Rows are
// full rows, as evaluate() requires: no unchanged-TOAST markers.
const std::vector<std::string> kTexts = {"1", "a", "", "x\"y\\z", "line\nbreak\t\x01", "é"};

std::vector<Row> sample_rows(size_t width) {
  std::vector<Row> rows;
  for (const std::string& text : kTexts) rows.push_back(Row(width, Value::of(text)));
  rows.push_back(Row(width, Value::null()));
  Row mixed;
  for (size_t i = 0; i < width; i++) {
    mixed.push_back(i % 2 == 0 ? Value::of(kTexts[i % kTexts.size()]) : Value::null());
  }
  rows.push_back(mixed);
  return rows;
}

// The column for_table said the table lacks, taken from its message
// ("... name column 'C', which the table lacks"); nullopt for other errors.
std::optional<std::string> missing_column(const std::string& message) {
  static constexpr std::string_view kBefore = "name column '";
  static constexpr std::string_view kAfter = "', which the table lacks";
  size_t start = message.find(kBefore);
  if (start == std::string::npos || !message.ends_with(kAfter)) return std::nullopt;
  start += kBefore.size();
  return message.substr(start, message.size() - kAfter.size() - start);
}

// Resolves the rules for `table`, adding each column they name that is
// missing, so that evaluation is reached for any rules, not only those that
// happen to name a fixed set of columns.
std::optional<TableRules> resolve(const BucketRules& rules, Relation& relation) {
  for (int attempt = 0; attempt < 32; attempt++) {
    auto resolved = rules.for_table(relation);
    if (resolved.is_ok()) return std::move(resolved).value();
    require(resolved.status().code() == ErrorCode::kInvalidArgument,
            "unresolvable rules are kInvalidArgument", resolved.status().to_string());
    auto column = missing_column(resolved.status().message());
    require(column.has_value(), "for_table fails only for a missing column",
            resolved.status().message());
    require(!relation.column_index(*column), "the missing column is really missing", *column);
    relation.columns.push_back({*column});
  }
  return std::nullopt;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
    unsigned char lead = byte(i);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                  : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; k++) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
      code = (code << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

void check_bucket_row(const BucketRow& placed) {
  size_t open = placed.bucket.find('[');
  require(open != std::string::npos && open > 0 && placed.bucket.back() == ']',
          "a bucket id is name[...]", placed.bucket);
  auto parameters = nlohmann::json::parse(placed.bucket.substr(open), nullptr, false);
  require(parameters.is_array(), "bucket parameters are a JSON array", placed.bucket);
  for (const auto& parameter : parameters) {
    require(parameter.is_string(), "bucket parameters are strings", placed.bucket);
  }
  auto data = nlohmann::json::parse(placed.data_json, nullptr, false);
  require(data.is_object(), "bucket data is a JSON object", placed.data_json);
}

void check_rules(std::string_view text) {
  auto rules = BucketRules::parse(text);
  require(rules.is_ok() ? is_utf8(text) : true, "rules that are not UTF-8 are refused");
  if (!rules.is_ok()) {
    require(rules.status().code() == ErrorCode::kInvalidArgument,
            "malformed rules are kInvalidArgument", rules.status().to_string());
    require(rules.status().message().starts_with("rules line "), "an error names its line",
            rules.status().message());
    return;
  }
  std::vector<std::string> tables = rules->tables();
  require(!tables.empty(), "parsed rules name at least one table");
  for (const std::string& table : tables) {
    Relation relation;
    relation.relid = 16384;
    relation.name = table;
    relation.columns = {{"id", 23, true}};
    auto table_rules = resolve(*rules, relation);
    if (!table_rules) continue;
    for (const Row& row : sample_rows(relation.columns.size())) {
      for (const BucketRow& bucket_row : table_rules->evaluate(row)) check_bucket_row(bucket_row);
    }
  }
}

}  // namespace
}  // namespace walsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  walsim::fuzz::check_rules(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
