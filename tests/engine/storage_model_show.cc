#include "tests/engine/storage_model_show.h"

#include <sstream>

namespace walsim::model {
namespace {

template <typename T>
std::string optional_text(const std::optional<T>& value) {
  if (!value) return "null";
  std::ostringstream os;
  os << *value;
  return os.str();
}

std::string optional_text(const std::optional<Lsn>& lsn) {
  return lsn ? lsn->to_string() : "null";
}

}  // namespace

std::string describe(const ModelOp& op) {
  return std::to_string(op.op_id) + " " + (op.kind == OpKind::kPut ? "PUT " : "REMOVE ") +
         op.bucket + " " + op.table + op.row_id + (op.data ? " " + *op.data : "");
}

std::string describe(const std::vector<ModelOp>& ops) {
  std::string text = std::to_string(ops.size()) + " ops";
  for (const ModelOp& op : ops) text += "\n    " + describe(op);
  return text;
}

std::string describe(const ReplicationState& state) {
  return std::string("snapshot_done=") + (state.snapshot_done ? "true" : "false") +
         " last_checkpoint=" + optional_text(state.last_checkpoint) +
         " last_checkpoint_lsn=" + optional_text(state.last_checkpoint_lsn) +
         " no_checkpoint_before=" + optional_text(state.no_checkpoint_before) +
         " keepalive_op=" + optional_text(state.keepalive_op) +
         " last_applied_lsn=" + optional_text(state.last_applied_lsn);
}

std::string describe(const BucketView& view) {
  if (view.empty()) return "(no rows)";
  std::string text;
  for (const auto& [bucket, rows] : view) {
    text += "\n    " + bucket + ":";
    for (const auto& [row, data] : rows) text += " " + row.first + row.second + "=" + data;
  }
  return text;
}

std::string describe(const TableProgress& progress) {
  return std::string("done=") + (progress.snapshot_done ? "true" : "false") +
         " generation=" + std::to_string(progress.generation) +
         " rows_copied=" + std::to_string(progress.rows_copied) +
         " resume_key=" + optional_text(progress.resume_key) +
         " live_rows=" + std::to_string(progress.live_rows);
}

std::string describe(const Outcome& outcome) {
  if (outcome.code != ErrorCode::kOk) return error_code_name(outcome.code);
  return std::string("ok blocked=") + (outcome.result.checkpoint_blocked ? "true" : "false") +
         " created=" + (outcome.result.checkpoint_created ? "true" : "false");
}

}  // namespace walsim::model
