#include "engine/probe.h"

#include <cstdio>
#include <cstdlib>

namespace walsim::probe {

namespace {

std::vector<int64_t>& storage() {
  static std::vector<int64_t> counts(catalog().size(), 0);
  return counts;
}

}  // namespace

// The catalog: the paths that matter and are easy to miss. Engine sites
// first, then the simulator's world events (names starting "sim_"). Each
// fault kind firing is a rare path too; the campaign counts those itself
// (its "faults" section) and its gate requires every kind.
const std::vector<Probe>& catalog() {
  static const std::vector<Probe> kCatalog = {
      {"copy_row_skipped",
       "rule 1: a copied row the store already held (the stream's newer version) is ignored"},
      {"copy_row_skipped_for_tombstone",
       "rule 2: a copy read before a delete and written after it: the delete must win"},
      {"streamed_delete_between_copy_read_and_write",
       "rule 2's window itself: a copy read a chunk, the stream deleted one of its keys "
       "before the chunk was written (the tombstone is newer than every op committed at "
       "the read), and the copy's row was skipped"},
      {"checkpoint_blocked_by_no_checkpoint_before",
       "rule 3: a stream commit before a copy's consistent point must not publish"},
      {"checkpoint_released_past_no_checkpoint_before",
       "rule 3: the checkpoint a held-back stream publishes once it passes the copy's LSN"},
      {"commit_at_last_checkpoint_lsn",
       "rule 3: a commit at exactly last_checkpoint_lsn may checkpoint (<=, not <)"},
      {"redelivered_transaction_skipped",
       "the slot resent a transaction the store holds: it is skipped, not applied (4c5262c)"},
      {"mark_all_snapshot_done_refused",
       "rule 4: refused while a table needs a copy; the tables not done are queued again "
       "(reached since the world drops tables from the publication and adds them back)"},
      {"toast_value_filled_from_source",
       "an unchanged TOAST value nothing in the store knew, read from the source by key"},
      {"truncate_restarted_copy", "a truncate during a copy: the copy starts over"},
      {"copy_resumed_from_key", "a copy resumed after a restart from its stored resume key"},
      {"failed_commit_op_ids_burned",
       "a COMMIT failed: its op ids are never handed out again (5a4d93d)"},
      {"storage_full_seen", "the store's disk was full: a transient error, retried"},
      // Issue 10, DDL (a table dropped and re-created under the engine).
      {"stream_relation_not_registered",
       "the stream met a relation that is not the registered one (a re-created table, "
       "replayed WAL from before it): its changes are left out, the catalog decides"},
      {"copy_found_table_gone",
       "a copy's table was dropped (and re-created) under it: the copy starts over from "
       "the catalog, no stop and no crash loop"},
      {"catalog_relation_changed_withdrawn",
       "the look before a checkpoint found a table whose relation is not the stored one "
       "(ALTER TABLE ... REPLICA IDENTITY, which pgoutput announces only with the table's "
       "next change): the table is withdrawn with the checkpoint and copied again"},
      {"left_out_changes_withdrawn",
       "the stream left out changes decoded with another relation than the stored one "
       "(a stream lagging behind DDL) while applying others of the table: it is withdrawn "
       "and copied again, the copy waiting for the stream"},
      {"sim_power_loss_with_unsynced_writes",
       "world: a power loss that takes back writes the disk had not synced"},
      {"sim_ambiguous_commit_found_committed",
       "world: a COMMIT whose outcome the engine never learned (its commit frame landed, the "
       "write reported an error) that the next process's recovery found committed: its ops "
       "are in the store though no transaction of the engine returned them (5a4d93d)",
       "after an ambiguous commit the engine retries in the same process, and its next "
       "commit overwrites the failed frames: only a crash between the two lets recovery "
       "find them, and seeds 1-400 have none (one seed in an earlier, perturbed run)"},
  };
  return kCatalog;
}

size_t index_of(std::string_view name) {
  const std::vector<Probe>& probes = catalog();
  for (size_t i = 0; i < probes.size(); i++) {
    if (name == probes[i].name) return i;
  }
  // Not WALSIM_ASSERT: this library is below assert.h's.
  std::fprintf(stderr, "WALSIM_PROBE(\"%.*s\"): not in engine/probe.cc's catalog\n",
               static_cast<int>(name.size()), name.data());
  std::abort();
}

void hit(size_t index) { storage()[index]++; }

void reset() { storage().assign(catalog().size(), 0); }

const std::vector<int64_t>& counts() { return storage(); }

}  // namespace walsim::probe
