#include "engine/assert.h"

#include <cstdlib>

namespace walsim {

namespace {
AssertionContext g_context = nullptr;
}  // namespace

void set_assertion_context(AssertionContext context) { g_context = context; }

void assertion_failed(const char* condition, const char* file, int line, std::string_view why) {
  std::fprintf(stderr, "walsim: assertion failed: %s\n  at %s:%d\n", condition, file, line);
  if (!why.empty()) {
    std::fprintf(stderr, "  why: %.*s\n", static_cast<int>(why.size()), why.data());
  }
  if (g_context != nullptr) g_context(stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace walsim
