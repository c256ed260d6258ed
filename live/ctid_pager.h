// read_ctid_page: a table read in pages by physical row address (ctid), for
// tables whose replica identity cannot page a copy: under REPLICA IDENTITY
// FULL the "key" is every column, which may hold NULLs (a row compares with
// nothing, so keyset paging skips it) and may repeat (two identical rows
// share one key, so a page boundary between them loses one). Every heap
// row has its own ctid, never NULL, so paging by ctid reads each row once.
//
// A ctid is stable only while its row is not updated (an update writes the
// new version at a new ctid) and the table is not rewritten (VACUUM FULL,
// CLUSTER, ALTER TABLE ... TYPE). So a copy paged this way is exact for the
// rows left alone during it; a row updated meanwhile may be read twice or
// not at all, and the caller must let the stream's changes settle it (as a
// keyset copy does for rows whose key changes). Ordinary tables only: the
// partitions of a partitioned table have overlapping ctids.
//
// `WHERE ctid > $1 ORDER BY ctid LIMIT n` is a TID range scan from Postgres
// 14 on (it reads only the pages after the cursor); before 14 it is a full
// scan per page, correct but slow.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live {

struct CtidPage {
  // In ctid order, each with the relation's columns in its column order.
  std::vector<Row> rows;
  // rows[i]'s ctid, as the server prints it: "(block,offset)".
  std::vector<std::string> ctids;
  // Fewer rows than asked for: the table has no rows after this page.
  bool is_last = false;
};

// The first `limit` rows after `after_ctid` (from the start without it).
// kInvalidArgument for a limit of 0 or an after_ctid that is no ctid;
// kNotFound when the table is gone; kUnsupported for a partitioned table.
Result<CtidPage> read_ctid_page(PgConnection& connection, const Relation& table,
                                const std::optional<std::string>& after_ctid, size_t limit);

}  // namespace walsim::live
