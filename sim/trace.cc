#include "sim/trace.h"

namespace walsim::sim {

std::string format_event(const TraceEvent& event) {
  std::string line = "step=" + std::to_string(event.step) + " task=" + event.task +
                     " action=" + event.action;
  line += " lsn=" + (event.lsn ? event.lsn->to_string() : std::string("-"));
  line += " op=" + (event.op_id ? std::to_string(*event.op_id) : std::string("-"));
  return line;
}

void Trace::record(std::string action, std::optional<Lsn> lsn, std::optional<int64_t> op_id) {
  mix(static_cast<uint64_t>(step_));
  mix(task_);
  mix(action);
  mix(lsn ? lsn->value() : ~0ull);
  mix(op_id ? static_cast<uint64_t>(*op_id) : ~0ull);
  events_++;
  TraceEvent event{step_, task_, std::move(action), lsn, op_id};
  if (file_) {
    std::string line = format_event(event);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), file_);
  }
  if (observer_) observer_->on_event(event);
  if (ring_.size() < kRecentEvents) {
    ring_.push_back(std::move(event));
  } else {
    ring_[ring_next_] = std::move(event);
    ring_next_ = (ring_next_ + 1) % kRecentEvents;
  }
}

std::vector<std::string> Trace::recent() const {
  std::vector<std::string> lines;
  for (size_t i = 0; i < ring_.size(); i++) {
    lines.push_back(format_event(ring_[(ring_next_ + i) % ring_.size()]));
  }
  return lines;
}

void Trace::mix(std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash_ ^= c;
    hash_ *= 0x100000001B3ull;
  }
  hash_ ^= 0xFF;  // separator: ("ab","c") and ("a","bc") hash differently
  hash_ *= 0x100000001B3ull;
}

void Trace::mix(uint64_t value) {
  for (int i = 0; i < 8; i++) {
    hash_ ^= (value >> (8 * i)) & 0xFF;
    hash_ *= 0x100000001B3ull;
  }
}

}  // namespace walsim::sim
