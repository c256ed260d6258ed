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
