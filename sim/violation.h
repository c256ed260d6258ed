// Violation: an invariant the run broke, named so a report and a test can
// say which one, with the details (bucket, row, expected vs actual).
#pragma once

#include <string>

namespace walsim::sim {

struct Violation {
  std::string invariant;  // e.g. "checkpoint_content"
  std::string detail;
};

}  // namespace walsim::sim
