// The timeline's SVG: well-formed XML, a lane per actor, the failing row's
// events highlighted, and a size that stays bounded for long runs.
#include "sim/timeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/params.h"
#include "sim/simulation.h"

namespace walsim::sim {
namespace {

// A small well-formedness check (no XML library here): every tag closes in
// order, attribute values are quoted, text has no raw '<' and every '&'
// starts one of XML's five entities. Returns what is wrong, or "".
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t at = 0;
  auto entity_ok = [&xml](size_t amp) {
    for (const char* entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (xml.compare(amp, std::string(entity).size(), entity) == 0) return true;
    }
    return false;
  };
  while (at < xml.size()) {
    if (xml[at] == '&' && !entity_ok(at)) return "a bare & at " + std::to_string(at);
    if (xml[at] != '<') {
      at++;
      continue;
    }
    const size_t end = xml.find('>', at);
    if (end == std::string::npos) return "an unclosed tag at " + std::to_string(at);
    const std::string tag = xml.substr(at + 1, end - at - 1);
    at = end + 1;
    if (tag.empty()) return "an empty tag";
    if (tag[0] == '?') continue;  // the declaration
    if (tag.find('<') != std::string::npos) return "a '<' inside tag " + tag;
    size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2 != 0) return "an unquoted attribute in " + tag;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (tag.back() != '/') open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  return "";
}

struct Drawn {
  SimParams params;
  RunResult result;
  std::string svg;
};

Drawn draw(const SimParams& params) {
  TimelineRecorder recording;
  Drawn drawn{params, run_simulation(params, nullptr, nullptr, &recording), ""};
  TimelineInput input;
  input.recording = &recording;
  input.result = &drawn.result;
  input.params = &drawn.params;
  input.header = {"walsim sim --seed " + std::to_string(params.seed)};
  drawn.svg = timeline_svg(input);
  return drawn;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) count++;
  return count;
}

TEST(Timeline, APassingRunIsWellFormedWithALanePerActor) {
  Overrides quick;
  quick.preset = Preset::kQuick;
  const Drawn drawn = draw(draw_params(3, quick));
  ASSERT_TRUE(drawn.result.passed());
  EXPECT_EQ(xml_problem(drawn.svg), "");
  EXPECT_EQ(drawn.svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(drawn.svg.find("walsim timeline: PASS"), std::string::npos);
  std::vector<std::string> lanes = {"writer", "streamer", "faults", "checkpoints"};
  for (int i = 0; i < drawn.params.engine.workers; i++) lanes.push_back("snapshot-" + std::to_string(i));
  for (int i = 0; i < drawn.params.scheduler.clients; i++) lanes.push_back("client-" + std::to_string(i));
  for (const std::string& lane : lanes) {
    EXPECT_NE(drawn.svg.find(">" + lane + "</text>"), std::string::npos) << lane;
  }
  EXPECT_EQ(drawn.svg.find("the row&apos;s story"), std::string::npos);  // nothing failed
}

// The canary under the targeted schedule: a copy reads a chunk, the row is
// deleted and the delete applied, then the chunk is written. The row the
// oracle names is the story: its read, its delete, the write, the verdict.
TEST(Timeline, TheRowNamedInAFailureIsHighlighted) {
  Overrides canary;
  canary.preset = Preset::kQuick;
  canary.unsafe_hard_deletes = true;
  canary.schedule = ScheduleMode::kTargeted;
  std::optional<Drawn> failing;
  for (uint64_t seed = 1; seed <= 80 && !failing; seed++) {
    Drawn drawn = draw(draw_params(seed, canary));
    if (!drawn.result.passed() &&
        drawn.result.violation->detail.find("expected absent") != std::string::npos) {
      failing = std::move(drawn);
    }
  }
  ASSERT_TRUE(failing.has_value()) << "no canary seed resurrected a row in quick seeds 1-80";
  EXPECT_EQ(xml_problem(failing->svg), "");
  const std::optional<NamedRow> row = row_named_in(failing->result.violation->detail);
  ASSERT_TRUE(row.has_value()) << failing->result.violation->detail;
  const std::string& svg = failing->svg;
  EXPECT_NE(svg.find("the row&apos;s story (" + row->table), std::string::npos);
  // Numbered gold marks, one per event of the row, the verdict last.
  EXPECT_GE(count_of(svg, "fill=\"#ffd700\" stroke=\"#000\""), 3u);
  EXPECT_NE(svg.find("reads a chunk holding the row"), std::string::npos);
  EXPECT_NE(svg.find("writes that chunk to the store"), std::string::npos);
  // The change that removed the row: a delete, or a key change away from it.
  const size_t delivers = svg.find(". step ", svg.find("delivers "));
  ASSERT_NE(svg.find("delivers "), std::string::npos);
  const std::string delivered = svg.substr(svg.find("delivers "), delivers - svg.find("delivers "));
  EXPECT_NE(delivered.find(" " + row->id), std::string::npos) << delivered;
  EXPECT_NE(svg.find("the oracle finds the row wrong: " + failing->result.violation->invariant),
            std::string::npos);
  EXPECT_NE(svg.find("broken: " + failing->result.violation->invariant), std::string::npos);
}

TEST(Timeline, ReadsTheRowAViolationNames) {
  auto row = row_named_in(
      "at checkpoint op 481 lsn 0/100F5F8: bucket by_owner_t1[\"o1\"] row t1 "
      "[\"00000156\",\"o1\",\"a \\\"title\\\"\"]: expected absent, actual {}");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->bucket, "by_owner_t1[\"o1\"]");
  EXPECT_EQ(row->table, "t1");
  EXPECT_EQ(row->id, "00000156");
  EXPECT_EQ(row->row_id.rfind("[\"00000156\"", 0), 0u);
  EXPECT_FALSE(row_named_in("the engine did not converge within 20 healing steps").has_value());
}

// 100k steps of busy lanes: bars stand for bins, so the drawing stays a
// bounded number of elements whatever the run's length.
TEST(Timeline, ALongRunIsAggregatedIntoBins) {
  TimelineRecorder recording;
  for (int64_t step = 1; step <= 100000; step++) {
    recording.on_event({step, step % 3 ? "streamer" : "writer",
                        step % 3 ? "deliver insert t0 00000001" : "commit xid=1 changes=1",
                        std::nullopt, std::nullopt});
    if (step % 3) recording.on_event({step, "streamer", "progress", std::nullopt, std::nullopt});
  }
  RunResult result;
  result.stats.steps = 100000;
  result.faults_summary = "none";
  Overrides quick;
  quick.preset = Preset::kQuick;
  const SimParams params = draw_params(1, quick);
  TimelineInput input{&recording, &result, &params, {}};
  const std::string svg = timeline_svg(input);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_LT(count_of(svg, "<rect"), 6000u);
  EXPECT_LT(svg.size(), 2000000u);
  EXPECT_NE(svg.find("a bar is 139 steps"), std::string::npos);
}

}  // namespace
}  // namespace walsim::sim
