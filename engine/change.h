// ChangeMessage: one logical replication message, decoded from pgoutput (live)
// or produced by the simulated WAL. The streamer consumes these in order.
//
// A source transaction arrives as Begin, then Relation/Insert/Update/Delete/
// Truncate messages, then Commit. Keepalive arrives only between transactions
// and says the source has nothing before `lsn` that was not sent; the
// streamer asserts it (a source that sees one inside a transaction drops
// it). Part of the source seam (source.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/lsn.h"
#include "engine/relation.h"

namespace walsim {

struct BeginMessage {
  Lsn final_lsn;  // the commit LSN of this transaction
  uint32_t xid = 0;
};

struct CommitMessage {
  Lsn commit_lsn;  // the checkpoint LSN for this transaction's changes
  Lsn end_lsn;     // the position after the commit: what the slot is acked to
};

// Sent before the first change of a relation in a stream session and again
// after its schema changed.
struct RelationMessage {
  Relation relation;
};

struct InsertMessage {
  uint32_t relid = 0;
  Row new_row;
};

// old_key is set when a replica identity column changed ('K' tuple: key
// columns only, the rest null) or under REPLICA IDENTITY FULL ('O' tuple: the
// whole old row). new_row may hold unchanged-TOAST markers.
struct UpdateMessage {
  uint32_t relid = 0;
  std::optional<Row> old_key;
  Row new_row;
};

struct DeleteMessage {
  uint32_t relid = 0;
  Row old_key;  // full row width; non-identity columns are null
};

struct TruncateMessage {
  std::vector<uint32_t> relids;
};

struct KeepaliveMessage {
  Lsn lsn;
};

using ChangeMessage =
    std::variant<BeginMessage, CommitMessage, RelationMessage, InsertMessage,
                 UpdateMessage, DeleteMessage, TruncateMessage, KeepaliveMessage>;

// "commit 0/1A0", "insert relid=16384" ...: for traces and errors.
std::string describe(const ChangeMessage& message);

}  // namespace walsim
