// Replay files: a run's complete SimParams as JSON, so the run replays
// exactly (`walsim sim --replay FILE`) even after the seed's drawing rules
// change. The format serializes the simulation's own parameters, so it
// lives with them in sim/; campaigns write these files to
// tests/regressions/, and every file there replays as a test under
// `bazel test` (tests/sim/regression_replay_test.cc).
#pragma once

#include <string>

#include "engine/status.h"
#include "sim/params.h"

namespace walsim::sim {

struct ReplayFile {
  SimParams params;
  // What the file expects of the run: "pass", or the invariant it must
  // break (e.g. "checkpoint_content"). A fixed bug's file says "pass".
  std::string expect = "pass";
  std::string note;  // how it was found, in words
  // The planted bug (engine/mutant.h) that undoes this file's fix, or "":
  // with it on, the run must fail (tests/sim/regression_replay_test.cc).
  std::string reverts;
};

std::string to_json(const ReplayFile& file);
// kInvalidArgument naming the field on anything malformed or missing.
Result<ReplayFile> replay_from_json(const std::string& text);

Result<ReplayFile> load_replay_file(const std::string& path);
// Writes to a temporary file and renames it: never a half-written file.
Status save_replay_file(const std::string& path, const ReplayFile& file);

}  // namespace walsim::sim
