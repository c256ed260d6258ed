// PgTableReader: blocking table reads on one ordinary libpq connection. The
// engine never calls it directly: ThreadedTableReader runs it on a thread
// of its own (see threaded_table_reader.h), so a read never blocks the
// runtime.
//
// A table is read in keyset chunks: rows WHERE (key) > (last key) [AND
// (key) <= (the copy bound)] ORDER BY key LIMIT n, so a copy can stop after
// any chunk and resume from the last key it stored, and no chunk holds a
// long-running snapshot. Each chunk is
// one statement, through COPY (SELECT ...) TO STDOUT (the default; as fast
// as a SELECT, measured, and never holds a chunk twice: docs/design.md) or
// a plain SELECT.
// Every chunk's consistent_lsn is read after its rows: every commit the
// rows show lies before it.
//
// Errors: a lost connection (the server restarted, the backend was
// terminated) is kDisconnected, so the engine drops this reader and opens
// a new one; a statement cancelled by the statement timeout (a lock held
// on the table) is kIoError, which the engine retries.
#pragma once

#include <cstddef>
#include <cstdint>
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

enum class ReadMethod {
  kCopy,    // COPY (SELECT ... LIMIT n) TO STDOUT, text format
  kSelect,  // SELECT ... LIMIT n with a text-format result
};

struct ReaderOptions {
  ReadMethod method = ReadMethod::kCopy;
  // statement_timeout of each reader connection: a read stuck behind a lock
  // fails after this long and is retried. 0: none (the server's setting).
  int64_t statement_timeout_ms = 30'000;
  // Read the next chunk of a copy while the engine writes this one.
  bool read_ahead = true;
};

// The application_name of every reader connection (pg_stat_activity).
inline constexpr const char* kReaderApplicationName = "walsim_reader";

class PgTableReader {
 public:
  // Takes an open connection, names it and sets its statement timeout.
  static Result<std::unique_ptr<PgTableReader>> start(std::unique_ptr<PgConnection> connection,
                                                      const ReaderOptions& options);

  // Without an until_key, the chunk carries bound_key (SELECT keys ...
  // ORDER BY keys DESC LIMIT 1, read after the rows).
  Result<TableChunk> read_chunk(const Relation& table, const std::optional<Row>& after_key,
                                const std::optional<Row>& until_key, size_t limit);
  Result<TableChunk> read_rows(const Relation& table, const std::vector<Row>& keys);
  Result<Lsn> current_lsn();

  bool is_connected() const { return connection_->is_connected(); }
  PgConnection& connection() { return *connection_; }

 private:
  PgTableReader(std::unique_ptr<PgConnection> connection, ReadMethod method);

  // What a SELECT of `table` compares its key with: "(k1, k2) > ($1, $2)".
  struct KeyCondition {
    const char* comparison;            // ">", "<=", "="
    std::vector<std::string> values;   // SQL: placeholders or quoted literals
  };
  // SELECT cols FROM table [WHERE conditions...] ORDER BY keys [LIMIT n].
  Result<std::string> select_sql(const Relation& table,
                                 const std::vector<KeyCondition>& conditions,
                                 std::optional<size_t> limit);
  // The key's values as SQL: $first.. placeholders, or quoted literals for
  // COPY, which takes no parameters.
  Result<std::vector<std::string>> key_sql(const std::vector<std::string>& values, bool literals,
                                           size_t first_placeholder);
  Result<std::vector<Row>> copy_rows(const Relation& table, const std::string& select);
  // The table's largest key; nullopt: empty, or a NULL in it.
  Result<std::optional<Row>> read_bound_key(const Relation& table);
  // A lost connection becomes kDisconnected; other errors pass.
  Status lost_or(Status status) const;
  // lost_or, and a read that failed because `table` is gone (dropped
  // during its copy) says so by name (kNotFound still), instead of with
  // the server's message, which quotes the whole statement.
  Status failed_read(const Relation& table, Status status);

  std::unique_ptr<PgConnection> connection_;
  ReadMethod method_;
};

}  // namespace walsim::live
