#include "sim/buggify.h"

namespace walsim::sim {

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kEngineCrash: return "crash";
    case FaultKind::kCrashAtAck: return "crash_at_ack";
    case FaultKind::kStreamDisconnect: return "disconnect";
    case FaultKind::kStreamStall: return "stream_stall";
    case FaultKind::kAckLost: return "ack_lost";
    case FaultKind::kRedeliverAcked: return "redeliver_acked";
    case FaultKind::kConnectError: return "connect_error";
    case FaultKind::kReadError: return "read_error";
    case FaultKind::kTaskStall: return "task_stall";
    case FaultKind::kStorageBusy: return "storage_busy";
    case FaultKind::kStorageIoError: return "storage_io_error";
    case FaultKind::kPowerLoss: return "power_loss";
    case FaultKind::kPowerLossAtAck: return "power_loss_at_ack";
    case FaultKind::kCrashAtIo: return "crash_at_io";
    case FaultKind::kPowerLossAtIo: return "power_loss_at_io";
    case FaultKind::kSyncError: return "sync_error";
    case FaultKind::kWriteError: return "write_error";
    case FaultKind::kDiskFull: return "disk_full";
    case FaultKind::kShortWrite: return "short_write";
    case FaultKind::kDiskReadError: return "disk_read_error";
    case FaultKind::kAmbiguousCommit: return "ambiguous_commit";
    case FaultKind::kStatementError: return "statement_error";
    case FaultKind::kCommitError: return "commit_error";
    case FaultKind::kStorageRefused: return "storage_refused";
    case FaultKind::kSlotDropped: return "slot_dropped";
    case FaultKind::kFreshCluster: return "fresh_cluster";
    case FaultKind::kSecondWriter: return "second_writer";
    case FaultKind::kRulesEdited: return "rules_edited";
    case FaultKind::kPublicationChange: return "publication_change";  // issue 10 part A
    case FaultKind::kReaderDisconnect: return "reader_disconnect";    // issue 10 part A
    case FaultKind::kServerRestart: return "server_restart";          // issue 10 part A
    case FaultKind::kTableRecreated: return "table_recreated";  // issue 10, DDL
    case FaultKind::kTableRecreatedWhileDown: return "table_recreated_while_down";
    case FaultKind::kCompaction: return "compaction";  // issue 11 item 3
    case FaultKind::kIdentityChanged: return "identity_changed";  // issue 10, DDL
    case FaultKind::kCount: break;
  }
  return "unknown";
}

int64_t Buggify::fired_total() const {
  int64_t total = 0;
  for (int64_t count : fired_) total += count;
  return total;
}

std::string Buggify::describe_fired() const {
  std::string out;
  for (size_t i = 0; i < kFaultKinds; i++) {
    if (fired_[i] == 0) continue;
    if (!out.empty()) out += ' ';
    out += fault_name(static_cast<FaultKind>(i));
    out += '=';
    out += std::to_string(fired_[i]);
  }
  return out.empty() ? "none" : out;
}

}  // namespace walsim::sim
