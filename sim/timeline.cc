#include "sim/timeline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

#include "engine/assert.h"

namespace walsim::sim {

namespace {

// --- what an event is -----------------------------------------------------------

enum class Kind : uint8_t {
  kCommit,      // the writer committed a source transaction
  kWalNoise,    // the writer moved the WAL only
  kDeliver,     // the stream delivered a message
  kRead,        // a table chunk (or rows by key) read from the source
  kSourceCall,  // an acknowledgement, a stream opened, ...
  kStoreWrite,  // an engine step that was a storage transaction
  kIdle,        // an engine step that found nothing to do
  kSync,        // a client synced
  kFault,
  kCrash,
  kCheckpoint,
  kCount,
};
constexpr size_t kKinds = static_cast<size_t>(Kind::kCount);

struct KindStyle {
  const char* name;
  const char* color;
};
constexpr std::array<KindStyle, kKinds> kStyles = {{
    {"commit", "#1f77b4"},
    {"WAL noise", "#aec7e8"},
    {"delivered change", "#2ca02c"},
    {"chunk read", "#ff7f0e"},
    {"ack / stream call", "#17becf"},
    {"store write", "#8c564b"},
    {"idle", "#d0d0d0"},
    {"client sync", "#9467bd"},
    {"fault", "#e377c2"},
    {"crash / restart", "#a00000"},
    {"checkpoint", "#000000"},
}};

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// A source call leaves its own event before the step's result ("progress"),
// so a result right after one is part of that call, not a store write.
bool is_source_call(const std::string& action) {
  return starts_with(action, "deliver") || starts_with(action, "read ") ||
         starts_with(action, "read_rows") || starts_with(action, "ack") ||
         starts_with(action, "open_stream") || starts_with(action, "refuse stream");
}

std::optional<Kind> kind_of(const std::string& action, bool after_source_call) {
  if (starts_with(action, "commit xid=")) return Kind::kCommit;
  if (action == "wal_noise") return Kind::kWalNoise;
  if (starts_with(action, "deliver")) return Kind::kDeliver;
  if (starts_with(action, "read ") || starts_with(action, "read_rows")) return Kind::kRead;
  if (is_source_call(action)) return Kind::kSourceCall;
  if (action == "progress") return after_source_call ? std::nullopt : std::optional(Kind::kStoreWrite);
  if (action == "idle") return Kind::kIdle;
  if (action == "sync") return Kind::kSync;
  if (action == "checkpoint") return Kind::kCheckpoint;
  if (starts_with(action, "fault:crash") || starts_with(action, "restart after failure")) {
    return Kind::kCrash;
  }
  if (starts_with(action, "fault:")) return Kind::kFault;
  return std::nullopt;  // clock jumps, healing, done: drawn otherwise or not at all
}

// --- lanes ------------------------------------------------------------------------

constexpr size_t kStoryMax = 40;  // events of the failing row drawn and listed
constexpr const char* kFaultLane = "faults";
constexpr const char* kCheckpointLane = "checkpoints";

// Which lane an event goes in: its task's, except faults and checkpoints.
std::string lane_of(const TraceEvent& event, Kind kind) {
  if (kind == Kind::kFault || kind == Kind::kCrash) return kFaultLane;
  if (kind == Kind::kCheckpoint) return kCheckpointLane;
  return event.task;
}

// writer, streamer, snapshot-0.., client-0.., faults, checkpoints.
int lane_rank(const std::string& lane) {
  if (lane == "writer") return 0;
  if (lane == "streamer") return 1;
  if (starts_with(lane, "snapshot-")) return 2;
  if (starts_with(lane, "client-")) return 3;
  if (lane == kFaultLane) return 4;
  if (lane == kCheckpointLane) return 5;
  return 6;
}

bool lane_before(const std::string& a, const std::string& b) {
  if (lane_rank(a) != lane_rank(b)) return lane_rank(a) < lane_rank(b);
  if (a.size() != b.size()) return a.size() < b.size();  // snapshot-2 before snapshot-10
  return a < b;
}

struct Mark {
  int64_t step = 0;
  std::string lane;
  Kind kind = Kind::kIdle;
  const TraceEvent* event = nullptr;
};

// Every drawable event as a mark in its lane, and the lanes in order:
// every actor the run had, whether it did anything or not.
std::vector<Mark> marks_of(const std::vector<TraceEvent>& events, const SimParams& params,
                           std::vector<std::string>& lanes) {
  std::vector<Mark> marks;
  std::map<std::string, std::pair<int64_t, bool>> last_of_task;  // task -> (step, source call)
  for (const TraceEvent& event : events) {
    auto& [last_step, called] = last_of_task[event.task];
    const bool after_call = last_step == event.step && called;
    last_step = event.step;
    called = is_source_call(event.action);
    const std::optional<Kind> kind = kind_of(event.action, after_call);
    if (!kind) continue;
    marks.push_back({event.step, lane_of(event, *kind), *kind, &event});
  }
  for (const Mark& mark : marks) {
    if (std::find(lanes.begin(), lanes.end(), mark.lane) == lanes.end()) lanes.push_back(mark.lane);
  }
  std::vector<std::string> always = {"writer", "streamer", kFaultLane, kCheckpointLane};
  for (int i = 0; i < params.engine.workers; i++) always.push_back("snapshot-" + std::to_string(i));
  for (int i = 0; i < params.scheduler.clients; i++) always.push_back("client-" + std::to_string(i));
  for (const std::string& lane : always) {
    if (std::find(lanes.begin(), lanes.end(), lane) == lanes.end()) lanes.push_back(lane);
  }
  std::sort(lanes.begin(), lanes.end(), lane_before);
  return marks;
}

// --- the failing row's story -------------------------------------------------------

struct StoryItem {
  int64_t step = 0;
  std::string lane;
  std::string what;
  bool verdict = false;  // the oracle's finding, at the run's last step
};

// "read t0 rows=5 ids=00000006..00000010": whether the chunk's key range
// holds `id` (ids are zero-padded, so text order is key order).
bool read_covers(const std::string& action, const NamedRow& row) {
  if (!starts_with(action, ("read " + row.table + " ").c_str())) return false;
  const size_t ids = action.find(" ids=");
  if (ids == std::string::npos) return false;
  const size_t dots = action.find("..", ids);
  if (dots == std::string::npos) return false;
  const std::string first = action.substr(ids + 5, dots - ids - 5);
  const std::string last = action.substr(dots + 2, action.find(' ', dots) - dots - 2);
  return first <= row.id && row.id <= last;
}

// "deliver delete t0 00000006", "deliver update t1 00000020 old 00000006".
bool delivers_row(const std::string& action, const NamedRow& row) {
  if (!starts_with(action, "deliver ")) return false;
  const std::string table = " " + row.table + " ";
  const size_t at = action.find(table);
  if (at == std::string::npos) return false;
  const std::string rest = " " + action.substr(at + table.size()) + " ";
  return rest.find(" " + row.id + " ") != std::string::npos;
}

// The first step after `step` in which `task` wrote to the store.
std::optional<int64_t> next_store_write(const std::vector<Mark>& marks, const std::string& task,
                                        int64_t step) {
  for (const Mark& mark : marks) {
    if (mark.step > step && mark.lane == task && mark.kind == Kind::kStoreWrite) return mark.step;
  }
  return std::nullopt;
}

std::vector<StoryItem> story_of(const TimelineInput& input, const std::vector<Mark>& marks,
                                const NamedRow& row) {
  std::vector<StoryItem> story;
  for (const TimelineRecorder::Commit& commit : input.recording->commits()) {
    for (const auto& [table, id] : commit.rows) {
      if (table != row.table || id != row.id) continue;
      story.push_back({commit.step, "writer",
                       "commits xid " + std::to_string(commit.xid) + ", which changes the row"});
      break;
    }
  }
  for (const Mark& mark : marks) {
    const std::string& action = mark.event->action;
    if (delivers_row(action, row)) {
      story.push_back({mark.step, mark.lane, "delivers " + action.substr(8)});
    } else if (mark.kind == Kind::kRead && read_covers(action, row)) {
      story.push_back({mark.step, mark.lane, "reads a chunk holding the row: " + action});
      if (auto write = next_store_write(marks, mark.lane, mark.step)) {
        story.push_back({*write, mark.lane, "writes that chunk to the store"});
      }
    }
  }
  std::stable_sort(story.begin(), story.end(),
                   [](const StoryItem& a, const StoryItem& b) { return a.step < b.step; });
  if (story.size() > kStoryMax - 1) story.resize(kStoryMax - 1);
  const RunResult& result = *input.result;
  story.push_back({result.stats.steps, kCheckpointLane,
                   "the oracle finds the row wrong: " + result.violation->invariant, true});
  return story;
}

// --- SVG writing -----------------------------------------------------------------

// Text for an SVG text node or attribute: XML escapes, no control bytes.
std::string escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

class Svg {
 public:
  void rect(double x, double y, double w, double h, const char* fill, const std::string& title = "",
            const char* extra = "") {
    out_ += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) +
            "\" height=\"" + number(h) + "\" fill=\"" + fill + "\"" + extra;
    out_ += title.empty() ? "/>\n" : "><title>" + escaped(title) + "</title></rect>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* stroke, double width,
            const char* dash = nullptr) {
    out_ += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) +
            "\" y2=\"" + number(y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"" +
            number(width) + "\"" + (dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : "") +
            "/>\n";
  }
  void text(double x, double y, const std::string& content, const char* attributes = "") {
    out_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" " + attributes + ">" +
            escaped(content) + "</text>\n";
  }
  void raw(const std::string& markup) { out_ += markup; }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// --- layout ----------------------------------------------------------------------

constexpr double kWidth = 1600;
constexpr double kLeft = 130;  // lane labels
constexpr double kRight = 30;
constexpr double kPlot = kWidth - kLeft - kRight;
constexpr double kLaneHeight = 26;
constexpr double kLaneGap = 6;
constexpr double kMinBinPx = 2;
constexpr const char* kFont = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

struct Panel {
  int64_t first_step = 1;
  int64_t last_step = 1;
  double top = 0;  // y of the first lane
  double x(int64_t step) const {
    const double span = static_cast<double>(last_step - first_step + 1);
    return kLeft + kPlot * static_cast<double>(step - first_step) / span;
  }
  double step_px() const { return kPlot / static_cast<double>(last_step - first_step + 1); }
  double lane_y(size_t lane) const { return top + static_cast<double>(lane) * (kLaneHeight + kLaneGap); }
};

struct Drawing {
  const TimelineInput& input;
  std::vector<std::string> lanes;
  std::vector<Mark> marks;
  std::optional<NamedRow> row;
  std::vector<StoryItem> story;
  int64_t last_step = 1;
  std::optional<int64_t> heal_step;
  Svg svg;
};

size_t lane_index(const Drawing& d, const std::string& lane) {
  return static_cast<size_t>(std::find(d.lanes.begin(), d.lanes.end(), lane) - d.lanes.begin());
}

// Step ticks at 1, 2 or 5 times a power of ten, about ten of them.
void draw_axis(Drawing& d, const Panel& p) {
  const double span = static_cast<double>(p.last_step - p.first_step + 1);
  double tick = std::pow(10, std::floor(std::log10(std::max(1.0, span / 10))));
  if (span / tick > 25) tick *= 5;
  else if (span / tick > 12) tick *= 2;
  const double y = p.top - 6;
  for (double step = std::ceil(static_cast<double>(p.first_step) / tick) * tick;
       step <= static_cast<double>(p.last_step); step += tick) {
    const double x = p.x(static_cast<int64_t>(step));
    d.svg.line(x, y, x, y + 4, "#888", 1);
    d.svg.text(x, y - 3, std::to_string(static_cast<int64_t>(step)),
               "font-size=\"10\" fill=\"#555\" text-anchor=\"middle\" font-family=\"monospace\"");
  }
}

// One lane's bars: events binned, each bin a stack of its kinds, as tall
// as the square root of its share of the lane's busiest bin.
void draw_lane(Drawing& d, const Panel& p, size_t lane) {
  const double y = p.lane_y(lane);
  d.svg.rect(kLeft, y, kPlot, kLaneHeight, lane % 2 ? "#f4f4f4" : "#fafafa");
  d.svg.text(kLeft - 8, y + kLaneHeight / 2 + 4, d.lanes[lane],
             "font-size=\"12\" text-anchor=\"end\" font-family=\"monospace\"");
  const int64_t span = p.last_step - p.first_step + 1;
  const int64_t bins = std::max<int64_t>(1, std::min<int64_t>(span, static_cast<int64_t>(kPlot / kMinBinPx)));
  std::vector<std::array<int64_t, kKinds>> counts(static_cast<size_t>(bins));
  for (const Mark& mark : d.marks) {
    if (mark.lane != d.lanes[lane] || mark.step < p.first_step || mark.step > p.last_step) continue;
    counts[static_cast<size_t>((mark.step - p.first_step) * bins / span)][static_cast<size_t>(mark.kind)]++;
  }
  int64_t peak = 1;
  for (const auto& bin : counts) {
    int64_t total = 0;
    for (int64_t c : bin) total += c;
    peak = std::max(peak, total);
  }
  const double bin_px = kPlot / static_cast<double>(bins);
  const int64_t steps_per_bin = (span + bins - 1) / bins;
  for (size_t b = 0; b < counts.size(); b++) {
    int64_t total = 0;
    for (int64_t c : counts[b]) total += c;
    if (total == 0) continue;
    const double height = kLaneHeight * std::sqrt(static_cast<double>(total) / static_cast<double>(peak));
    double bottom = y + kLaneHeight;
    const int64_t first = p.first_step + static_cast<int64_t>(b) * span / bins;
    for (size_t k = 0; k < kKinds; k++) {
      if (counts[b][k] == 0) continue;
      const double h = height * static_cast<double>(counts[b][k]) / static_cast<double>(total);
      const std::string title = d.lanes[lane] + ": " + std::to_string(counts[b][k]) + " " +
                                kStyles[k].name + (steps_per_bin > 1 ? " in steps " : " at step ") +
                                std::to_string(first) +
                                (steps_per_bin > 1 ? "-" + std::to_string(first + steps_per_bin - 1) : "");
      d.svg.rect(kLeft + bin_px * static_cast<double>(b), bottom - h, std::max(1.0, bin_px - 0.3), h,
                 kStyles[k].color, title);
      bottom -= h;
    }
  }
}

// Lines across every lane: crashes, the start of healing, the failure.
void draw_run_lines(Drawing& d, const Panel& p) {
  const double top = p.top - 2;
  const double bottom = p.lane_y(d.lanes.size()) - kLaneGap + 2;
  auto across = [&](int64_t step, const char* color, double width, const char* dash,
                    const std::string& label, double label_y) {
    if (step < p.first_step || step > p.last_step) return;
    const double x = p.x(step) + std::min(p.step_px(), 4.0) / 2;
    d.svg.line(x, top, x, bottom, color, width, dash);
    if (label.empty()) return;
    // Near the right edge the label goes left of its line.
    const bool left = x > kLeft + kPlot * 0.75;
    d.svg.text(left ? x - 4 : x + 4, label_y, label,
               (std::string("font-size=\"11\" font-weight=\"bold\" fill=\"") + color + "\" " +
                (left ? "text-anchor=\"end\" " : "") + kFont)
                   .c_str());
  };
  size_t crashes = 0;
  for (const Mark& mark : d.marks) crashes += mark.kind == Kind::kCrash;
  bool labeled = false;  // many crashes: only the first says what its line is
  for (const Mark& mark : d.marks) {
    if (mark.kind != Kind::kCrash) continue;
    across(mark.step, "#a00000", 1, "3,3",
           crashes <= 12 || !labeled ? (crashes <= 12 ? "crash" : "crashes (" + std::to_string(crashes) + ")") : "",
           bottom + 12);
    labeled = true;
  }
  if (d.heal_step) across(*d.heal_step, "#1f5fbf", 1.5, "6,3", "healing: faults off, writer done", bottom + 12);
  const RunResult& result = *d.input.result;
  if (!result.passed()) {
    across(result.stats.steps, "#d00000", 2.5, nullptr, "broken: " + result.violation->invariant,
           top - 16);
  }
}

// The story's events, numbered, on their lanes, with a faint line across.
void draw_story_marks(Drawing& d, const Panel& p, bool labels) {
  for (size_t i = 0; i < d.story.size(); i++) {
    const StoryItem& item = d.story[i];
    if (item.step < p.first_step || item.step > p.last_step) continue;
    const size_t lane = lane_index(d, item.lane);
    if (lane >= d.lanes.size()) continue;
    const double x = p.x(item.step) + std::min(p.step_px(), 4.0) / 2;
    const double y = p.lane_y(lane) + kLaneHeight / 2;
    d.svg.line(x, p.top - 2, x, p.lane_y(d.lanes.size()) - kLaneGap, "#c9a000", 0.8, "2,2");
    d.svg.raw("<circle cx=\"" + number(x) + "\" cy=\"" + number(y) +
              "\" r=\"7\" fill=\"#ffd700\" stroke=\"#000\" stroke-width=\"1.2\"><title>" +
              escaped(std::to_string(i + 1) + ". step " + std::to_string(item.step) + " " +
                      item.lane + " " + item.what) +
              "</title></circle>\n");
    if (labels) {
      d.svg.text(x, y + 4, std::to_string(i + 1),
                 (std::string("font-size=\"10\" font-weight=\"bold\" text-anchor=\"middle\" ") + kFont).c_str());
    }
  }
}

// A panel: its title, axis, lanes, lines and the story's marks. Returns
// the y below it.
double draw_panel(Drawing& d, Panel p, const std::string& title, bool labels,
                  std::optional<std::pair<int64_t, int64_t>> zoomed = std::nullopt) {
  d.svg.text(kLeft, p.top, title, (std::string("font-size=\"13\" font-weight=\"bold\" ") + kFont).c_str());
  p.top += 40;
  draw_axis(d, p);
  for (size_t lane = 0; lane < d.lanes.size(); lane++) draw_lane(d, p, lane);
  if (zoomed) {  // where the panel below looks
    const double x = p.x(zoomed->first);
    const double width = std::max(4.0, p.x(zoomed->second + 1) - x);
    d.svg.rect(x, p.top - 2, width, p.lane_y(d.lanes.size()) - kLaneGap - p.top + 4, "#ffd700",
               "zoomed below: steps " + std::to_string(zoomed->first) + "-" +
                   std::to_string(zoomed->second),
               " fill-opacity=\"0.25\" stroke=\"#c9a000\"");
  }
  draw_run_lines(d, p);
  draw_story_marks(d, p, labels);
  const double below = p.lane_y(d.lanes.size()) + 24;
  if (p.first_step > 1 || p.last_step < d.last_step) return below + 4;  // a zoomed panel
  d.svg.text(kLeft, below, "faults fired: " + d.input.result->faults_summary,
             (std::string("font-size=\"11\" fill=\"#555\" ") + kFont).c_str());
  return below + 24;
}

// The story's steps, padded, if they are a small part of the run (else
// the whole-run panel shows them well enough).
std::optional<std::pair<int64_t, int64_t>> zoom_window(const Drawing& d) {
  if (d.story.size() < 2) return std::nullopt;  // the verdict alone
  const int64_t first = d.story.front().step;
  const int64_t last = d.story[d.story.size() - 2].step;
  const int64_t pad = std::max<int64_t>(8, (last - first) / 10);
  const int64_t from = std::max<int64_t>(1, first - pad);
  const int64_t to = std::min<int64_t>(d.last_step, last + pad);
  if (to - from + 1 > d.last_step * 2 / 5) return std::nullopt;
  return std::make_pair(from, to);
}

double draw_header(Drawing& d) {
  const RunResult& result = *d.input.result;
  const std::string verdict =
      result.passed() ? "PASS" : "FAIL: " + result.violation->invariant + " at step " +
                                     std::to_string(result.stats.steps);
  auto counted = [](int64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  d.svg.text(20, 28, "walsim timeline: " + verdict + "  (" + counted(result.stats.steps, "step") +
                         ", " + counted(result.stats.checkpoints, "checkpoint") + " checked, " +
                         counted(result.stats.engine_restarts, "restart") + ")",
             (std::string("font-size=\"18\" font-weight=\"bold\" ") + kFont).c_str());
  double y = 50;
  for (const std::string& line : d.input.header) {
    d.svg.text(20, y, line.substr(0, 215), "font-size=\"11\" font-family=\"monospace\" fill=\"#333\"");
    y += 15;
  }
  if (!result.passed()) {
    const std::string& detail = result.violation->detail;
    size_t at = 0;
    for (int lines = 0; at < detail.size() && lines < 3; lines++) {
      size_t end = std::min(detail.size(), at + 200);
      if (end < detail.size()) {
        const size_t space = detail.rfind(' ', end);
        if (space != std::string::npos && space > at + 100) end = space + 1;
      }
      d.svg.text(20, y, (lines == 2 && end < detail.size()) ? detail.substr(at, end - at) + "..."
                                                            : detail.substr(at, end - at),
                 "font-size=\"11\" font-family=\"monospace\" fill=\"#b00000\"");
      y += 15;
      at = end;
    }
  }
  if (d.row) {
    d.svg.text(20, y + 4, "highlighted: row " + d.row->table + " " + d.row->row_id + " of bucket " +
                              d.row->bucket + " (numbered gold marks; the list is below)",
               (std::string("font-size=\"12\" font-weight=\"bold\" fill=\"#8a6d00\" ") + kFont).c_str());
    y += 18;
  }
  return y + 16;
}

double draw_story_list(Drawing& d, double y) {
  if (!d.row) return y;
  d.svg.text(20, y, "the row's story (" + d.row->table + " " + d.row->row_id + "):",
             (std::string("font-size=\"13\" font-weight=\"bold\" ") + kFont).c_str());
  y += 18;
  if (d.story.empty()) {
    d.svg.text(30, y, "no event of the run names this row", "font-size=\"11\" font-family=\"monospace\"");
    return y + 20;
  }
  for (size_t i = 0; i < d.story.size(); i++) {
    const StoryItem& item = d.story[i];
    d.svg.text(30, y, std::to_string(i + 1) + ". step " + std::to_string(item.step) + "  " +
                          item.lane + ": " + item.what.substr(0, 170),
               item.verdict ? "font-size=\"11\" font-family=\"monospace\" fill=\"#b00000\""
                            : "font-size=\"11\" font-family=\"monospace\"");
    y += 15;
  }
  return y + 10;
}

double draw_legend(Drawing& d, double y) {
  double x = 20;
  for (const KindStyle& kind : kStyles) {
    const double width = 22 + 7.0 * static_cast<double>(std::string(kind.name).size());
    if (x + width > kWidth - 20) {
      x = 20;
      y += 18;
    }
    d.svg.rect(x, y - 10, 12, 12, kind.color);
    d.svg.text(x + 16, y, kind.name, (std::string("font-size=\"11\" ") + kFont).c_str());
    x += width + 10;
  }
  d.svg.text(20, y + 18,
             "Bar height: how busy the lane was in that bin (square root of its share of the lane's "
             "busiest bin); hover a bar or mark for its steps and counts.",
             (std::string("font-size=\"11\" fill=\"#555\" ") + kFont).c_str());
  return y + 30;
}

}  // namespace

std::optional<NamedRow> row_named_in(const std::string& detail) {
  const size_t bucket_at = detail.find("bucket ");
  if (bucket_at == std::string::npos) return std::nullopt;
  const size_t row_at = detail.find(" row ", bucket_at);
  if (row_at == std::string::npos) return std::nullopt;
  NamedRow row;
  row.bucket = detail.substr(bucket_at + 7, row_at - bucket_at - 7);
  const size_t table_end = detail.find(' ', row_at + 5);
  if (table_end == std::string::npos) return std::nullopt;
  row.table = detail.substr(row_at + 5, table_end - row_at - 5);
  const size_t id_end = detail.find("]:", table_end);
  if (id_end == std::string::npos || detail[table_end + 1] != '[') return std::nullopt;
  row.row_id = detail.substr(table_end + 1, id_end - table_end);
  // The first value of ["00000006", ...]: ids are digits, never escaped.
  const size_t quote = row.row_id.find('"');
  const size_t close = quote == std::string::npos ? quote : row.row_id.find('"', quote + 1);
  if (close == std::string::npos) return std::nullopt;
  row.id = row.row_id.substr(quote + 1, close - quote - 1);
  return row;
}

std::string timeline_svg(const TimelineInput& input) {
  WALSIM_ASSERT(input.recording != nullptr && input.result != nullptr && input.params != nullptr);
  Drawing d{input, {}, {}, std::nullopt, {}, std::max<int64_t>(1, input.result->stats.steps),
            std::nullopt, {}};
  d.marks = marks_of(input.recording->events(), *input.params, d.lanes);
  for (const TraceEvent& event : input.recording->events()) {
    if (starts_with(event.action, "heal ")) d.heal_step = event.step;
  }
  if (!input.result->passed()) d.row = row_named_in(input.result->violation->detail);
  if (d.row) d.story = story_of(input, d.marks, *d.row);

  double y = draw_header(d);
  const auto zoom = zoom_window(d);
  const int64_t bin_steps = (d.last_step + static_cast<int64_t>(kPlot / kMinBinPx) - 1) /
                            static_cast<int64_t>(kPlot / kMinBinPx);
  y = draw_panel(d, Panel{1, d.last_step, y},
                 "the whole run: steps 1-" + std::to_string(d.last_step) +
                     (bin_steps > 1 ? " (a bar is " + std::to_string(bin_steps) + " steps)" : ""),
                 !zoom, zoom);
  if (zoom) {
    y = draw_panel(d, Panel{zoom->first, zoom->second, y},
                   "zoomed to the row's story: steps " + std::to_string(zoom->first) + "-" +
                       std::to_string(zoom->second),
                   true);
  }
  y = draw_story_list(d, y + 4);
  y = draw_legend(d, y + 6);

  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(kWidth) +
                    "\" height=\"" + number(y) + "\" viewBox=\"0 0 " + number(kWidth) + " " +
                    number(y) + "\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  svg += d.svg.str();
  svg += "</svg>\n";
  return svg;
}

}  // namespace walsim::sim
