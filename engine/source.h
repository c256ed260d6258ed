// The source seam: how the engine reads from Postgres (live: libpq and
// pgoutput; simulation: a simulated WAL, slot and tables). One of three
// seams where the simulator swaps the world: source (this file and the
// messages in change.h), storage (sqlite_db.h with its fault hook
// storage_faults.h), runtime and clock (task.h).
//
// Every call here is a source read or write, and so a point where the
// runtime may switch to another task. Reads that take time (table reads)
// answer "not ready" instead of blocking; see TableReader. Implementations are used from one task
// at a time: the engine opens one ChangeStream for its streamer and one
// TableReader per snapshot worker, and never shares them between tasks.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/change.h"
#include "engine/lsn.h"
#include "engine/relation.h"
#include "engine/status.h"

namespace walsim {

// A logical replication stream from the slot. A new stream starts after the
// slot's confirmed flush position: everything not acknowledged is sent again.
class ChangeStream {
 public:
  virtual ~ChangeStream() = default;

  // The next message, or nullopt when none is available right now (the
  // streamer then yields). kDisconnected: the stream is gone for good; the
  // caller drops it and opens a new one.
  virtual Result<std::optional<ChangeMessage>> next() = 0;

  // Tells the source that everything up to `flush_lsn` is durable in the
  // store, so the slot may release it. Must never run ahead of storage.
  virtual Status acknowledge(Lsn flush_lsn) = 0;
};

// One chunk of a table copy, ordered by the replica identity key.
struct TableChunk {
  std::vector<Row> rows;  // full rows, no unchanged-TOAST markers
  bool is_last = false;   // no rows after this chunk's last key
  // The stream must pass this LSN before the rows read so far are
  // consistent with it (the snapshot's LSN, or the head after the read).
  Lsn consistent_lsn;
  // For a chunk asked for without an until_key: the table's largest key,
  // read with it (nullopt: an empty table, or a largest key holding a NULL,
  // which keyset pages cannot compare with). A copy reads up to it: rows
  // with larger keys were written after that read, so the stream brings
  // them (the slot exists before any copy starts), and a copy that stops
  // there never chases a table that grows at its end.
  std::optional<Row> bound_key;
};

// Chunked, resumable reads of a table's current rows.
//
// The calls do not block: a read may be in flight on the source's side (on
// its own connection) while the engine writes what it read before. A call
// either starts the read it asks for and answers nullopt ("not ready: ask
// again"), or answers the read it started earlier. The caller asks again
// with the same arguments until it gets an answer; a call with other
// arguments abandons the read in flight (its answer is dropped). What an
// answer holds reflects the source at some moment after the read was first
// asked for, or, for a reader that reads ahead, after the previous chunk of
// the same copy was answered (see read_chunk).
class TableReader {
 public:
  virtual ~TableReader() = default;

  // Up to `limit` rows whose key is greater than `after_key` (all rows when
  // nullopt) and at most `until_key` (no limit when nullopt, and the chunk
  // then carries bound_key), in key order; is_last when no such row is left. Keys hold the key columns' values in
  // Relation::key_indexes() order. A reader may read the next chunk (after
  // the last key of the chunk it just answered, same bound and limit)
  // before it is asked for, so that the read overlaps the engine's write of
  // this one. The engine's rules allow it: a chunk's rows may be read any
  // time before they are written, and every read of a copy still happens
  // after the copy's first chunk was asked for (a restarted copy starts
  // over at nullopt, which no read-ahead matches).
  virtual Result<std::optional<TableChunk>> read_chunk(const Relation& table,
                                                       const std::optional<Row>& after_key,
                                                       const std::optional<Row>& until_key,
                                                       size_t limit) = 0;

  // The current rows for `keys` (key values in key_indexes() order), in key
  // order; keys with no row are left out. consistent_lsn as for chunks.
  // Used to fill values the store could not learn from the stream.
  virtual Result<std::optional<TableChunk>> read_rows(const Relation& table,
                                                      const std::vector<Row>& keys) = 0;

  // The source's current WAL position (pg_current_wal_lsn()), read after
  // the call that first asked for it.
  virtual Result<std::optional<Lsn>> current_lsn() = 0;
};

// Opens streams and readers; owns the connection details.
class SourceConnector {
 public:
  virtual ~SourceConnector() = default;

  virtual Result<std::unique_ptr<ChangeStream>> open_stream() = 0;
  virtual Result<std::unique_ptr<TableReader>> open_table_reader() = 0;

  // The named tables that exist in the source, with their schema. Tables
  // that do not exist are left out (the stream announces them if created).
  virtual Result<std::vector<Relation>> describe_tables(
      const std::vector<std::string>& names) = 0;

  // The publication's membership of the named tables, as the catalog says
  // at the call (read after the call starts). For each named table the
  // publication publishes now: an identity of that membership, a text that
  // stays the same for as long as the table stays in the publication, and
  // is different once it was dropped from it and added again, or the table
  // was dropped and re-created (live: the pg_publication_rel row's oid with
  // the table's oid; for FOR ALL TABLES or TABLES IN SCHEMA, that
  // publication's or schema entry's oid with the table's oid). Tables the
  // publication does not publish, or that do not exist, are left out. Names
  // are the rules' names ("t" is public.t, or "schema.t").
  //
  // Why the engine asks: ALTER PUBLICATION ... DROP TABLE sends nothing on
  // the stream; the table's later changes are simply not in it (pgoutput
  // decides by the publication as of each change's WAL position). So only
  // the catalog tells, and an identity that is still the same proves the
  // table was published for the whole time between two reads.
  virtual Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>& names) = 0;
};

}  // namespace walsim
