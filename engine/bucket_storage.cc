#include "engine/bucket_storage.h"

#include "engine/current_data.h"
#include "engine/mutant.h"
#include "engine/row_applier.h"
#include "engine/rules_fingerprint.h"
#include "engine/rules_versions.h"
#include "engine/storage_schema.h"
#include "engine/write_batch.h"

namespace walsim {

namespace {

Status not_registered(const std::string& table) {
  return Status(ErrorCode::kNotFound, "table '" + table + "' is not registered");
}

}  // namespace

BucketStorage::BucketStorage(SqliteDb& db, const BucketRules& rules, Options options)
    : rules_(rules), writer_(db, options) {}

Result<std::unique_ptr<BucketStorage>> BucketStorage::open(SqliteDb& db,
                                                           const BucketRules& rules,
                                                           Options options) {
  WALSIM_RETURN_IF_ERROR(prepare_store_schema(db));
  // Before anything is written: a store built with other rules is refused.
  WALSIM_RETURN_IF_ERROR(check_store_rules(db, rules));
  return std::unique_ptr<BucketStorage>(new BucketStorage(db, rules, options));
}

Result<StoreFacts> BucketStorage::probe(SqliteDb& db) {
  WALSIM_RETURN_IF_ERROR(check_store_schema(db));
  StoreFacts facts;
  WALSIM_ASSIGN_OR_RETURN(facts.slot_name, read_slot_name(db));
  WALSIM_ASSIGN_OR_RETURN(facts.has_tables, any_tables(db));
  return facts;
}

// --- snapshot bookkeeping ---------------------------------------------------

Result<bool> BucketStorage::register_table(const Relation& relation) {
  WALSIM_ASSERT(!relation.name.empty(), "the rules name tables by their name");
  WALSIM_ASSERT(!relation.key_indexes().empty(),
                "only a table with a replica identity is registered (check_replicable)");
  bool changed = false;
  WALSIM_RETURN_IF_ERROR(writer_.write("register_table", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(auto stored, read_table(txn.db(), relation.name));
    if (!stored) {
      changed = true;
      return insert_table(txn, relation);
    }
    if (!needs_new_copy(stored->relation, relation)) return Status::ok();
    changed = true;
    // The old rows belong to a table that no longer exists in this form.
    WALSIM_RETURN_IF_ERROR(remove_table_rows(txn, relation.name));
    WALSIM_RETURN_IF_ERROR(update_relation(txn, relation));
    WALSIM_RETURN_IF_ERROR(require_copy(txn, relation.name));
    // A checkpoint created before (by a process that died before its
    // durable commit) must not be published now that a table is not copied
    // (found by the simulator's identity_changed kind: the catalog's new
    // identity registered at start-up, then published_before_snapshot).
    if (WALSIM_MUTANT("registered_relation_keeps_checkpoint")) return Status::ok();
    return withdraw_unpublished_checkpoint(txn);
  }));
  return changed;
}

Result<std::vector<TableState>> BucketStorage::tables() { return read_tables(db()); }

Result<std::optional<TableState>> BucketStorage::table(const std::string& name) {
  return read_table(db(), name);
}

Status BucketStorage::mark_table_snapshot_done(const std::string& table, Lsn lsn,
                                               std::optional<int64_t> generation) {
  return writer_.write("mark_table_snapshot_done", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn.db(), table));
    if (!state) return not_registered(table);
    if (generation && state->generation != *generation) {
      return Status(ErrorCode::kFailedPrecondition,
                    "the copy of table '" + table + "' was superseded by a new one");
    }
    WALSIM_RETURN_IF_ERROR(mark_copy_done(txn, table));
    return raise_no_checkpoint_before(txn, lsn);
  });
}

Status BucketStorage::mark_table_snapshot_required(const std::string& table) {
  return writer_.write("mark_table_snapshot_required",
                       [&](StoreTransaction& txn) { return require_copy(txn, table); });
}

Status BucketStorage::mark_all_snapshot_done(Lsn lsn) {
  return writer_.write("mark_all_snapshot_done", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(std::vector<TableState> all, read_tables(txn.db()));
    std::vector<std::string> not_done;
    for (const TableState& state : all) {
      if (!state.snapshot_done) not_done.push_back(state.table);
    }
    return set_all_snapshots_done(txn, lsn, not_done);
  });
}

// --- the publication (issue 10 part A) ---------------------------------------

namespace {

Status withdraw_table_in(StoreTransaction& txn, const std::string& table) {
  WALSIM_RETURN_IF_ERROR(remove_table_rows(txn, table));
  WALSIM_RETURN_IF_ERROR(require_copy(txn, table));
  WALSIM_RETURN_IF_ERROR(set_publication_member(txn, table, kWithdrawnMember));
  // The stream left changes of the table out: its next copy must wait for
  // the stream to pass its start, also under the membership the slot saw.
  WALSIM_ASSIGN_OR_RETURN(auto slot_members, read_slot_members(txn.db()));
  if (slot_members.erase(table) > 0) WALSIM_RETURN_IF_ERROR(write_slot_members(txn, slot_members));
  return withdraw_unpublished_checkpoint(txn);
}

// How far the store holds the stream: every transaction it brings from
// then on commits past it.
Result<bool> stream_passed(SqliteDb& db, Lsn lsn) {
  WALSIM_ASSIGN_OR_RETURN(ReplicationState state, read_replication_state(db));
  const Lsn applied = std::max(state.last_applied_lsn.value_or(Lsn::zero()),
                               state.durable_lsn.value_or(Lsn::zero()));
  return applied >= lsn;
}

}  // namespace

Result<BucketStorage::CopyStart> BucketStorage::start_copy(const std::string& table,
                                                           int64_t generation,
                                                           const std::string& member,
                                                           Lsn start_lsn) {
  WALSIM_ASSERT(member != kWithdrawnMember, "a membership has an identity");
  CopyStart start;
  WALSIM_RETURN_IF_ERROR(writer_.write("start_copy", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn.db(), table));
    if (!state) return not_registered(table);
    if (state->generation != generation) {
      return Status(ErrorCode::kFailedPrecondition,
                    "the copy of table '" + table + "' was superseded by a new one");
    }
    start.wait = false;
    const bool resumed = state->resume_key.has_value();
    if (resumed && state->publication_member == member) {
      start.table = std::move(*state);
      return Status::ok();
    }
    // Published since before the slot: the stream carries every change of
    // the table, so there is no gap to wait out (the first copies after a
    // start must not wait for a stream that lags behind a busy writer).
    WALSIM_ASSIGN_OR_RETURN(auto slot_members, read_slot_members(txn.db()));
    auto since_slot = slot_members.find(table);
    const bool published_since_slot = since_slot != slot_members.end() &&
                                      since_slot->second == member;
    // A copy resumed under another membership: the stream left changes out
    // while it ran. Withdrawn, it starts over.
    if (resumed) WALSIM_RETURN_IF_ERROR(withdraw_table_in(txn, table));
    // A copy started over (a truncate) under another membership than the
    // last copy's: the checkpoint not yet published may show the table as
    // of the gap.
    const std::optional<std::string>& last = state->publication_member;
    if (!resumed && last && *last != member && *last != kWithdrawnMember) {
      WALSIM_RETURN_IF_ERROR(withdraw_unpublished_checkpoint(txn));
    }
    bool passed = published_since_slot;
    if (!passed) {
      WALSIM_ASSIGN_OR_RETURN(passed, stream_passed(txn.db(), start_lsn));
    }
    if (passed) {
      WALSIM_RETURN_IF_ERROR(remove_table_rows(txn, table));
      WALSIM_RETURN_IF_ERROR(set_publication_member(txn, table, member));
    }
    start.wait = !passed;
    WALSIM_ASSIGN_OR_RETURN(state, read_table(txn.db(), table));
    start.table = std::move(*state);
    return Status::ok();
  }));
  WALSIM_ASSERT(start.wait || start.table.publication_member == member,
                "a copy starts under the membership it was told");
  return start;
}

Status BucketStorage::withdraw_table(const std::string& table) {
  return writer_.write("withdraw_table", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn.db(), table));
    if (!state) return not_registered(table);
    return withdraw_table_in(txn, table);
  });
}

// --- schema changes (issue 10, DDL) ---------------------------------------------

Status BucketStorage::drop_table(const std::string& table, Lsn lsn) {
  return writer_.write("drop_table", [&](StoreTransaction& txn) -> Status {
    WALSIM_ASSIGN_OR_RETURN(auto state, read_table(txn.db(), table));
    if (!state) return not_registered(table);
    WALSIM_RETURN_IF_ERROR(remove_table_rows(txn, table));
    WALSIM_RETURN_IF_ERROR(delete_table(txn, table));
    return raise_no_checkpoint_before(txn, lsn);
  });
}

// --- slot pairing -------------------------------------------------------------

Result<std::optional<std::string>> BucketStorage::slot_name() { return read_slot_name(db()); }

Status BucketStorage::set_slot_members(const std::map<std::string, std::string>& members) {
  return writer_.write("set_slot_members", [&](StoreTransaction& txn) {
    return write_slot_members(txn, members);
  });
}

Status BucketStorage::set_slot_name(const std::string& slot) {
  WALSIM_ASSERT(!slot.empty(), "a slot has a name");
  return writer_.write("set_slot_name",
                       [&](StoreTransaction& txn) { return write_slot_name(txn, slot); });
}

// Durable: the LSN reset must not be taken back by a power loss once the
// new slot exists (its stream may number its LSNs from lower down).
Status BucketStorage::start_new_replication_state() {
  return writer_.write(
      "start_new_replication_state",
      [&](StoreTransaction& txn) -> Status {
        WALSIM_ASSIGN_OR_RETURN(std::vector<TableState> all, read_tables(txn.db()));
        for (const TableState& table : all) {
          WALSIM_RETURN_IF_ERROR(remove_table_rows(txn, table.table));
          WALSIM_RETURN_IF_ERROR(require_copy(txn, table.table));
        }
        // The old slot's members say nothing of the new slot's stream.
        WALSIM_RETURN_IF_ERROR(write_slot_members(txn, {}));
        return reset_lsn_state(txn);
      },
      Durability::kSurvivesPowerLoss);
}

// --- rules versions (issue 11) -----------------------------------------------

Result<std::vector<RulesVersion>> BucketStorage::rules_versions() {
  return read_rules_versions(db());
}

Result<CheckpointVersions> BucketStorage::checkpoint_versions() {
  return read_checkpoint_versions(db());
}

Result<DeployPlan> BucketStorage::plan_deploy(const BucketRules& rules) {
  WALSIM_ASSERT(!rules.queries().empty(), "a rules file has a definition");
  WALSIM_ASSIGN_OR_RETURN(std::optional<RulesVersion> active, read_active_version(db()));
  if (!active) {
    return Status(ErrorCode::kFailedPrecondition,
                  "store '" + db().path() + "' has no rules recorded yet: its first"
                  " `walsim replicate` records the rules it is given");
  }
  // Sized after planning: only the tables to copy are counted (a count
  // reads all of a table's current data).
  DeployPlan plan = walsim::plan_deploy(active->id, active->definitions, rules, {});
  for (TableCopy& copy : plan.copies) {
    WALSIM_ASSIGN_OR_RETURN(std::optional<TableState> state, read_table(db(), copy.table));
    if (!state) continue;  // no old definition reads it: not in the store
    WALSIM_ASSIGN_OR_RETURN(int64_t rows, count_live_rows(db(), copy.table));
    copy.rows = rows;
  }
  return plan;
}

// --- read side ----------------------------------------------------------------

Result<ReplicationState> BucketStorage::replication_state() {
  return read_replication_state(db());
}

Result<std::optional<Checkpoint>> BucketStorage::checkpoint() {
  if (options().unsafe_publish_unsynced) return created_checkpoint();
  return read_published_checkpoint(db());
}

// --- compaction (issue 11 item 3) ----------------------------------------------
Result<CompactionStats> BucketStorage::compact(std::optional<int64_t> up_to_op,
                                               const Compactor::Progress& progress) {
  Compactor compactor(writer_);
  WALSIM_ASSIGN_OR_RETURN(int64_t bound_op, compactor.choose_bound(up_to_op));
  return compactor.run(bound_op, progress);
}
// --- end of compaction -------------------------------------------------------------

Result<std::optional<Checkpoint>> BucketStorage::created_checkpoint() {
  WALSIM_ASSIGN_OR_RETURN(ReplicationState state, replication_state());
  if (!state.last_checkpoint_lsn) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(
      Checkpoint{state.last_checkpoint.value_or(0), *state.last_checkpoint_lsn});
}

Result<std::vector<StoredOp>> BucketStorage::bucket_ops(const std::string& bucket,
                                                        int64_t after_op, int64_t up_to_op) {
  return read_bucket_ops(db(), bucket, after_op, up_to_op);
}

Result<std::vector<StoredOp>> BucketStorage::ops(int64_t after_op, int64_t up_to_op) {
  return read_ops(db(), after_op, up_to_op);
}

Result<std::vector<std::string>> BucketStorage::buckets(int64_t up_to_op) {
  return read_buckets(db(), up_to_op);
}

Result<std::vector<std::string>> BucketStorage::changed_buckets(int64_t after_op,
                                                                int64_t up_to_op) {
  return read_changed_buckets(db(), after_op, up_to_op);
}

Result<uint32_t> BucketStorage::bucket_checksum(const std::string& bucket, int64_t up_to_op) {
  return read_bucket_checksum(db(), bucket, up_to_op);
}

Result<std::vector<BucketTotals>> BucketStorage::bucket_totals() {
  return read_bucket_totals(db());
}

Result<std::optional<std::map<std::string, OpsAfter>>> BucketStorage::ops_after(int64_t after_op,
                                                                                int64_t limit) {
  return read_ops_after(db(), after_op, limit);
}

Result<int64_t> BucketStorage::live_row_count(const std::string& table) {
  return count_live_rows(db(), table);
}

Result<bool> BucketStorage::has_incomplete_rows() { return any_incomplete_rows(db()); }

Result<std::pair<std::string, std::vector<Row>>> BucketStorage::incomplete_rows(size_t limit) {
  return read_incomplete_rows(db(), limit);
}

// --- durability ---------------------------------------------------------------

Status BucketStorage::make_durable(Lsn lsn) {
  return writer_.write(
      "make_durable",
      [&](StoreTransaction& txn) -> Status {
        WALSIM_RETURN_IF_ERROR(record_durable(txn, lsn));
        // Ids for the commits until the next durable one, so they need no
        // reservation of their own.
        WALSIM_RETURN_IF_ERROR(txn.op_log().reserve_ahead(txn.options().op_ids_reserved_ahead));
        return publish_checkpoint(txn);
      },
      Durability::kSurvivesPowerLoss);
}

// --- writing ------------------------------------------------------------------

std::unique_ptr<WriteBatch> BucketStorage::stream_batch() {
  return std::make_unique<WriteBatch>(writer_, rules_, WriteBatch::Kind::kStream, "", 0);
}

Result<std::unique_ptr<WriteBatch>> BucketStorage::snapshot_batch(const std::string& table) {
  WALSIM_ASSIGN_OR_RETURN(auto state, this->table(table));
  if (!state) return not_registered(table);
  return std::make_unique<WriteBatch>(writer_, rules_, WriteBatch::Kind::kSnapshot, table,
                                      state->generation);
}

}  // namespace walsim
