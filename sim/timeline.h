// Timeline: one run drawn as lanes over steps, as a plain SVG file
// (`walsim sim --seed N --timeline FILE.svg`).
//
// A lane per actor: the writer, the streamer, each snapshot worker, each
// client, the faults, and the published checkpoints. Each lane shows what
// its actor did, step by step, colored by kind (a commit, a delivered
// change, a chunk read, a store write, an idle step, a sync); when a run
// has more steps than the lane has pixels, a bar stands for a bin of steps
// and its height for how busy the actor was in them. Crashes and healing
// are lines across the lanes. When the run broke an invariant naming a
// row ("bucket B row t0 [\"00000006\"]: expected absent ..."), that row's
// story is highlighted: every event that touched it (the writer's commit,
// the streamer's delivery, the chunk read that covered it and that
// chunk's write), numbered, with a zoomed panel around them and the list
// of those events under the lanes.
//
// Method: a TraceObserver keeps every event of the run (and the rows each
// commit touched); after the run the events are binned per lane and the
// SVG is written by hand, element by element: no dependency.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/simulation.h"
#include "sim/trace.h"

namespace walsim::sim {

class TimelineRecorder : public TraceObserver {
 public:
  struct Commit {
    int64_t step = 0;
    uint32_t xid = 0;
    std::vector<std::pair<std::string, std::string>> rows;  // (table, id)
  };

  void on_event(const TraceEvent& event) override { events_.push_back(event); }
  void on_commit(int64_t step, uint32_t xid,
                 const std::vector<std::pair<std::string, std::string>>& rows) override {
    commits_.push_back({step, xid, rows});
  }

  const std::vector<TraceEvent>& events() const { return events_; }
  const std::vector<Commit>& commits() const { return commits_; }

 private:
  std::vector<TraceEvent> events_;
  std::vector<Commit> commits_;
};

// The row a violation's detail names, as Oracle::describe writes it:
// "bucket <bucket> row <table> <row id JSON>: ...".
struct NamedRow {
  std::string bucket;
  std::string table;
  std::string row_id;  // the JSON array, e.g. ["00000006"]
  std::string id;      // its first value, the table's id column
};
std::optional<NamedRow> row_named_in(const std::string& detail);

struct TimelineInput {
  const TimelineRecorder* recording = nullptr;
  const RunResult* result = nullptr;
  const SimParams* params = nullptr;  // for lanes of actors that did nothing
  std::vector<std::string> header;  // e.g. the reproduce line and the parameters
};

// The whole SVG document.
std::string timeline_svg(const TimelineInput& input);

}  // namespace walsim::sim
