#include "engine/mutant.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace walsim::mutant {

namespace {

std::string& active_storage() {
  static std::string active;
  return active;
}

}  // namespace

// The catalog. A new planted bug: a line here, a WALSIM_MUTANT site in
// engine/, and a gate run showing it caught (docs/testing.md).
const std::vector<Mutant>& catalog() {
  static const std::vector<Mutant> kCatalog = {
      {"checkpoint_ignores_no_checkpoint_before", "checkpoint rules",
       "a commit checkpoints while no_checkpoint_before is still ahead of it", ""},
      {"blocked_commit_drops_keepalive_op", "checkpoint rules",
       "a blocked commit forgets the ops it persisted (keepalive_op not raised)", ""},
      {"removed_rows_miss_keepalive_op", "checkpoint rules",
       "the REMOVE ops of a table's rows taken out at once (a re-created or withdrawn table, "
       "a new replication state) do not raise keepalive_op: if nothing is written after "
       "them, no checkpoint covers them",
       "978ca8d"},
      {"copy_overwrites_tombstone", "tombstones",
       "a copied row read before a delete replaces the delete's tombstone", ""},
      {"delete_of_unseen_key_leaves_no_tombstone", "tombstones",
       "a delete of a key the store has not seen yet leaves nothing behind", ""},
      {"copy_resume_skips_a_row", "copy resume",
       "a copy resumed after a crash starts one row past its resume key", ""},
      {"redelivered_transactions_applied", "redelivery",
       "a transaction the store already applied is applied again when the slot resends it",
       "4c5262c"},
      {"truncate_leaves_copy_running", "truncate",
       "a truncate during a copy lets the copy go on with rows read before it", ""},
      {"toast_key_change_trusts_any_new_key_row", "TOAST",
       "a key change with unchanged TOAST values merges from whatever the new key holds, "
       "a tombstone's stale values included",
       "2c39ca0"},
      {"incomplete_rows_publish", "TOAST",
       "rows with values the store never learned do not block checkpoints", "2c39ca0"},
      {"bucket_move_keeps_old_bucket", "bucket moves",
       "a row that moves to another bucket gets no REMOVE in the bucket it left", ""},
      {"ack_without_durable_commit", "acknowledgement",
       "the streamer acknowledges commits no durable commit covers yet", "b54d048"},
      {"publish_unsynced_checkpoint", "durability",
       "a checkpoint is published by a commit that is not synced", "d4ec08f"},
      {"op_ids_resume_at_last_stored", "durability",
       "a new process hands out op ids from the last stored one, not past the reservation",
       "614d126"},
      {"failed_commit_op_ids_reused", "durability",
       "the op ids of a transaction whose COMMIT failed are handed out again", "5a4d93d",
       "about one seed in 2000 (the simulator found it at seed 1482 of 1-2000): past the "
       "gate's bound; its replay file pins it"},
      // Issue 11 item 3 (engine/compactor.cc).
      {"compaction_drops_moved_checksum", "compaction",
       "a PUT or REMOVE that compaction turns into a MOVE loses its checksum", ""},
      // Issue 10, DDL (engine/streamer.cc's look before a checkpoint).
      {"checkpoint_ignores_catalog_relation", "DDL",
       "the look before a checkpoint compares only the publication, not the stored relation "
       "with the catalog's: a table whose replica identity changed is published under row "
       "ids of the identity it no longer has", ""},
      {"left_out_changes_keep_table", "DDL",
       "changes the stream leaves out (decoded with another relation than the stored one) "
       "do not withdraw the table: a change applied before them stays for good", ""},
      {"registered_relation_keeps_checkpoint", "DDL",
       "a table registered with a new relation (its rows removed, a copy required) leaves the "
       "checkpoint created before it to be published", ""},
      {"recovered_wal_served_unsynced", "durability",
       "a writer opening the store serves what SQLite recovered from the -wal without syncing "
       "it: a durable commit whose sync failed comes back after a crash, is served, and a "
       "power loss takes its checkpoint back", "",
       "rare: a durable commit's sync must fail, the process die before its next write, and "
       "the power go before anything syncs; found at seed 38 of the live schedule before this "
       "stop's streamer changes moved the runs, in none of seeds 1-2000 since (3 of 300 seeds "
       "fail with sync errors, crashes at I/O and power losses drawn 5x higher); its replay "
       "file pins it"},
      {"withdrawn_table_withdrawn_again", "DDL",
       "the look before a durable commit withdraws again, for its membership, a table that is "
       "withdrawn and not yet copied: its copy, waiting for the stream to pass its start, "
       "restarts at the head at every look",
       "", "not found by the campaign in 1500 live-schedule seeds; its replay file (a world "
       "the minimizer reached from seed 1170) pins it"},
      {"left_out_mark_kept_in_memory", "DDL",
       "changes the stream left out mark their table in memory only, to be withdrawn at the next "
       "look: a crash before it loses the mark, and the resent transaction is skipped as "
       "applied", "",
       "about one seed in 1300 (first caught at seed 1294 of 1-2000): past the gate's bound; "
       "its replay file pins it"},
      // Issue 12 (engine/run_policy.cc, live mode's schedule).
      {"runtime_one_step_per_task", "live scheduling",
       "live mode's runtime gives the streamer one step per worker step, as the runtime did "
       "before RunPolicy: N copies starve the stream", "9b474b9"},
      {"group_commit_waits_eight_times_its_bound", "checkpoint latency",
       "the group commit makes the stream's commits durable only after eight times the "
       "transactions it promises (durable_every_transactions): under a writer the stream does "
       "not catch up with, checkpoints come late, though they all come in the end", ""},
  };
  return kCatalog;
}

const Mutant* find(std::string_view name) {
  for (const Mutant& mutant : catalog()) {
    if (name == mutant.name) return &mutant;
  }
  return nullptr;
}

#ifdef WALSIM_MUTANTS
bool active(const char* name) {
  const std::string& on = active_storage();
  if (on.empty()) return false;
  if (find(name) == nullptr) {
    // Not WALSIM_ASSERT: this library is below assert.h's.
    std::fprintf(stderr, "WALSIM_MUTANT(\"%s\"): not in engine/mutant.cc's catalog\n", name);
    std::abort();
  }
  return on == name;
}
#endif

bool set_active(const std::string& name) {
  if (!name.empty() && (!kCompiled || find(name) == nullptr)) return false;
  active_storage() = name;
  return true;
}

const std::string& active_name() { return active_storage(); }

}  // namespace walsim::mutant
