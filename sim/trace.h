// Trace: the simulator's event log.
//
// Every event (a scheduler step, a message the source delivered, an
// acknowledgement, a fault, a checkpoint) is one line: step, task, action,
// LSN, op id. The run keeps a rolling hash of all events, which is how the
// determinism test compares two runs of one seed, the last events for a
// failure report, and writes every line to a file when asked (--trace).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/lsn.h"

namespace walsim::sim {

struct TraceEvent {
  int64_t step = 0;
  std::string task;
  std::string action;
  std::optional<Lsn> lsn;
  std::optional<int64_t> op_id;
};

std::string format_event(const TraceEvent& event);

// Sees every event as it is recorded (the timeline, sim/timeline.h, keeps
// them all), and for each transaction the writer commits the rows it
// touched, as (table, id), which its trace line leaves out to stay short.
class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void on_event(const TraceEvent& event) = 0;
  virtual void on_commit(int64_t step, uint32_t xid,
                         const std::vector<std::pair<std::string, std::string>>& rows) {
    (void)step, (void)xid, (void)rows;
  }
};

class Trace {
 public:
  static constexpr size_t kRecentEvents = 24;

  // `file` and `observer` may be null; neither is owned.
  explicit Trace(std::FILE* file, TraceObserver* observer = nullptr)
      : file_(file), observer_(observer) {}
  TraceObserver* observer() const { return observer_; }

  // The step and task that the following events belong to.
  void set_context(int64_t step, std::string_view task) {
    step_ = step;
    task_ = task;
  }

  void record(std::string action, std::optional<Lsn> lsn = std::nullopt,
              std::optional<int64_t> op_id = std::nullopt);

  uint64_t hash() const { return hash_; }
  int64_t events() const { return events_; }
  // The last kRecentEvents events, oldest first, formatted.
  std::vector<std::string> recent() const;

 private:
  void mix(std::string_view bytes);
  void mix(uint64_t value);

  std::FILE* file_;
  TraceObserver* observer_;
  int64_t step_ = 0;
  std::string task_ = "sim";
  uint64_t hash_ = 0xCBF29CE484222325ull;
  int64_t events_ = 0;
  std::vector<TraceEvent> ring_;  // circular once full
  size_t ring_next_ = 0;
};

}  // namespace walsim::sim
