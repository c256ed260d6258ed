#include "sim/oracle.h"

#include <nlohmann/json.hpp>

namespace walsim::sim {

namespace {

std::string describe_checkpoint(const Checkpoint& checkpoint) {
  return "op " + std::to_string(checkpoint.op_id) + " lsn " + checkpoint.lsn.to_string();
}

// The engine and the oracle may spell the same JSON differently (escapes);
// only a difference in meaning is a difference.
bool same_json(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto parsed_a = nlohmann::ordered_json::parse(a, nullptr, false);
  auto parsed_b = nlohmann::ordered_json::parse(b, nullptr, false);
  return !parsed_a.is_discarded() && parsed_a == parsed_b;
}

bool same_row(const std::string* expected, const std::string* actual) {
  if (!expected || !actual) return expected == actual;
  return same_json(*expected, *actual);
}

std::optional<std::string> copy_of(const std::string* text) {
  return text ? std::optional<std::string>(*text) : std::nullopt;
}

// Walks both maps in order; the first row present on one side only, or
// with different data, is the difference.
std::optional<RowDifference> first_full_difference(const BucketMap& expected,
                                                   const BucketMap& actual) {
  std::set<std::string> buckets;
  for (const auto& [bucket, rows] : expected) buckets.insert(bucket);
  for (const auto& [bucket, rows] : actual) buckets.insert(bucket);
  for (const std::string& bucket : buckets) {
    std::set<RowRef> rows;
    if (auto it = expected.find(bucket); it != expected.end()) {
      for (const auto& [row, data] : it->second) rows.insert(row);
    }
    if (auto it = actual.find(bucket); it != actual.end()) {
      for (const auto& [row, data] : it->second) rows.insert(row);
    }
    for (const RowRef& row : rows) {
      const std::string* want = find_row(expected, bucket, row);
      const std::string* have = find_row(actual, bucket, row);
      if (!same_row(want, have)) return RowDifference{bucket, row, copy_of(want), copy_of(have)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<RowDifference> first_difference(const BucketMap& expected, const BucketMap& actual,
                                              const DirtyRows* only) {
  if (!only) {
    if (expected == actual) return std::nullopt;  // the common case, fast
    return first_full_difference(expected, actual);
  }
  for (const auto& [bucket, row] : *only) {
    const std::string* want = find_row(expected, bucket, row);
    const std::string* have = find_row(actual, bucket, row);
    if (!same_row(want, have)) return RowDifference{bucket, row, copy_of(want), copy_of(have)};
  }
  return std::nullopt;
}

Oracle::Oracle(const RulesModel& rules, const SimPostgres& source)
    : source_(source), expected_(rules, source) {}

std::optional<Violation> Oracle::poll(BucketStorage& storage) {
  auto published = storage.checkpoint();
  if (!published.is_ok()) {
    return Violation{"storage_read", "checkpoint() failed: " + published.status().to_string()};
  }
  if (!*published) {
    if (!checkpoint_) return std::nullopt;
    return Violation{"checkpoint_regressed",
                     "published checkpoint " + describe_checkpoint(*checkpoint_) + " disappeared"};
  }
  if (published_ && **published == *published_) return std::nullopt;
  published_ = **published;
  const Checkpoint checkpoint{published_->op_id, Lsn(published_->lsn.value() + cluster_offset_)};
  if (checkpoint_ && (checkpoint.op_id < checkpoint_->op_id || checkpoint.lsn < checkpoint_->lsn)) {
    return Violation{"checkpoint_regressed", "checkpoint went from " +
                                                 describe_checkpoint(*checkpoint_) + " to " +
                                                 describe_checkpoint(checkpoint)};
  }
  if (checkpoint.lsn > source_.head()) {
    return Violation{"checkpoint_ahead_of_source",
                     "checkpoint " + describe_checkpoint(checkpoint) +
                         " is past the source's WAL head " + source_.head().to_string()};
  }
  if (auto violation = check_gate(storage, checkpoint)) return violation;

  // Only rows changed on either side since the last checkpoint can differ:
  // everything else was equal then and has not moved since.
  const bool first = !checkpoint_;
  DirtyRows dirty;
  expected_.advance_to(checkpoint.lsn, &dirty);
  if (auto violation = view_.sync(storage, checkpoint.op_id, &dirty)) return violation;
  checkpoint_ = checkpoint;
  checkpoints_checked_++;
  if (auto difference = first_difference(expected_.buckets(), view_.buckets(),
                                         first ? nullptr : &dirty)) {
    return Violation{"checkpoint_content",
                     "at checkpoint " + describe_checkpoint(checkpoint) + ": " + describe(*difference)};
  }
  return std::nullopt;
}

// Nothing may be published before every table is copied: the store must
// say so, and the source must have served each table's last chunk at an LSN
// the checkpoint has passed (a copy is consistent only from there).
std::optional<Violation> Oracle::check_gate(BucketStorage& storage, const Checkpoint& checkpoint) {
  auto state = storage.replication_state();
  if (!state.is_ok()) {
    return Violation{"storage_read", "replication_state() failed: " + state.status().to_string()};
  }
  if (!state->snapshot_done) {
    return Violation{"published_before_snapshot", "checkpoint " + describe_checkpoint(checkpoint) +
                                                      " published while snapshot_done is false"};
  }
  for (size_t t = 0; t < source_.table_count(); t++) {
    // Issue 10 part A: the stream leaves out the changes of a table not in
    // the publication, so no checkpoint can show such a table as of then.
    if (source_.out_of_publication_at(t, checkpoint.lsn)) {
      return Violation{"published_outside_publication",
                       "checkpoint " + describe_checkpoint(checkpoint) + " published but table " +
                           source_.table(t).name() +
                           " was not in the publication at that LSN: the stream left out its"
                           " changes"};
    }
    std::optional<Lsn> complete = source_.copy_complete_lsn(t);
    if (!complete || *complete > checkpoint.lsn) {
      return Violation{
          "published_before_snapshot",
          "checkpoint " + describe_checkpoint(checkpoint) + " published but table " +
              source_.table(t).name() +
              (complete ? " was copied to its end only at " + complete->to_string()
                        : " was never read to its end")};
    }
  }
  return std::nullopt;
}

std::optional<Violation> Oracle::on_acknowledge(Lsn lsn, Lsn sent) {
  if (lsn <= sent) return std::nullopt;
  return Violation{"ack_ahead_of_received", "acknowledged " + lsn.to_string() +
                                                " but the slot has sent only up to " +
                                                sent.to_string()};
}

std::optional<Violation> Oracle::watch_ops(BucketStorage& storage) {
  auto ops = storage.ops(watched_up_to_op_, INT64_MAX);
  if (!ops.is_ok()) return Violation{"storage_read", "ops() failed: " + ops.status().to_string()};
  for (const StoredOp& op : *ops) {
    auto [seen, added] = seen_ops_.emplace(op.op_id, op.checksum);
    if (!added && seen->second != op.checksum) {
      return Violation{"op_id_reused",
                       "op " + std::to_string(op.op_id) + " now names " + op_kind_name(op.kind) +
                           " of " + op.table + " " + op.row_id + " in bucket " + op.bucket +
                           " (checksum " + std::to_string(op.checksum) +
                           "), but the store held a different op under that id before (checksum " +
                           std::to_string(seen->second) + ")"};
    }
    watched_up_to_op_ = std::max(watched_up_to_op_, op.op_id);
  }
  return std::nullopt;
}

// A power loss may have taken back ops past the published checkpoint:
// read again from there, so ids handed out anew are compared too. A crash
// alone loses no committed op (the disk keeps every write it accepted), so
// reading on from the last op seen is enough: re-reading the whole log
// after every restart made restart-heavy seeds quadratic (seed 787: 700
// restarts of a 270,000-op log, no checkpoint published in between).
std::optional<Violation> Oracle::after_restart(BucketStorage& storage, Lsn confirmed,
                                               bool power_lost) {
  auto state = storage.replication_state();
  if (!state.is_ok()) {
    return Violation{"storage_read", "replication_state() failed: " + state.status().to_string()};
  }
  const SourceTxn* last_confirmed = nullptr;
  for (const SourceTxn& txn : source_.transactions()) {
    if (txn.end_lsn > confirmed) break;
    if (txn.commit_lsn > source_.slot_start()) last_confirmed = &txn;
  }
  if (last_confirmed &&
      (!state->last_applied_lsn ||
       Lsn(state->last_applied_lsn->value() + cluster_offset_) < last_confirmed->commit_lsn)) {
    return Violation{
        "acknowledged_lost",
        "the slot confirmed " + confirmed.to_string() + ", so the source will not send xid " +
            std::to_string(last_confirmed->xid) + " (commit " +
            last_confirmed->commit_lsn.to_string() + ") again, but after the restart the store" +
            " has applied transactions only up to " +
            (state->last_applied_lsn ? state->last_applied_lsn->to_string() : std::string("none"))};
  }
  if (power_lost) watched_up_to_op_ = checkpoint_ ? checkpoint_->op_id : 0;
  return watch_ops(storage);
}

std::string Oracle::describe(const RowDifference& difference) const {
  std::string text = "bucket " + difference.bucket + " row " + difference.row.first + " " +
                     difference.row.second + ": expected " +
                     difference.expected.value_or("absent") + ", actual " +
                     difference.actual.value_or("absent");
  if (const SourceTxn* txn = expected_.last_writer(difference.row.first, difference.row.second)) {
    text += "; last source change: xid " + std::to_string(txn->xid) + " commit " +
            txn->commit_lsn.to_string();
  } else {
    text += "; the source never wrote this row as of the checkpoint";
  }
  return text;
}

}  // namespace walsim::sim
