// The fuzz targets' oracle: a broken promise of the code under test (an
// error of the wrong kind, a decoded value that contradicts its input) must
// stop the run like a crash does, so libFuzzer saves the input and the
// corpus replay test fails on it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace walsim::fuzz {

inline void require(bool ok, const char* promise, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "fuzz oracle: broken promise: %s%s%s\n", promise,
               detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

}  // namespace walsim::fuzz
