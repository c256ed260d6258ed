// Replay files: a failing run's complete SimParams as JSON, so the run
// replays exactly (`walsim sim --replay FILE`) even after the seed's drawing
// rules change. Campaigns write them to tests/regressions/, and every file
// there replays as a test under `bazel test`.
#pragma once

#include <string>

#include "engine/status.h"
#include "sim/params.h"

namespace walsim::campaign {

struct ReplayFile {
  sim::SimParams params;
  // What the file expects of the run: "pass", or the invariant it must
  // break (e.g. "checkpoint_content"). A fixed bug's file says "pass".
  std::string expect = "pass";
  std::string note;  // how it was found, in words
};

std::string to_json(const ReplayFile& file);
// kInvalidArgument naming the field on anything malformed or missing.
Result<ReplayFile> replay_from_json(const std::string& text);

Result<ReplayFile> load_replay_file(const std::string& path);
// Writes to a temporary file and renames it: never a half-written file.
Status save_replay_file(const std::string& path, const ReplayFile& file);

}  // namespace walsim::campaign
