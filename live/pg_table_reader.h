// PgTableReader: the engine's TableReader over an ordinary libpq connection.
//
// A table is read in keyset chunks: SELECT ... WHERE (key) > (last key)
// ORDER BY key LIMIT n, so a copy can stop after any chunk and resume from
// the last key it stored, and no chunk holds a long-running snapshot. Every
// chunk's consistent_lsn is read after its rows: every commit the rows show
// lies before it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/source.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live {

class PgTableReader : public TableReader {
 public:
  explicit PgTableReader(std::unique_ptr<PgConnection> connection);

  Result<TableChunk> read_chunk(const Relation& table, const std::optional<Row>& after_key,
                                size_t limit) override;
  Result<TableChunk> read_rows(const Relation& table, const std::vector<Row>& keys) override;
  Result<Lsn> current_lsn() override;

 private:
  // `key_comparison`: ">" for a chunk after a key, "=" for one key's row,
  // nullptr for the first chunk.
  Result<std::string> select_sql(const Relation& table, const char* key_comparison,
                                 std::optional<size_t> limit);

  std::unique_ptr<PgConnection> connection_;
};

}  // namespace walsim::live
