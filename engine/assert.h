// WALSIM_ASSERT: assertions that are never compiled out.
//
// Why not <cassert>: `-c opt` defines NDEBUG, which removes every assert(),
// and the campaign is built with -c opt. A harness whose invariants vanish
// in the build that runs the most seeds checks nothing there. These checks
// stay in every build mode; a failure prints the condition, where it is,
// an optional reason and the context a runner registered (the simulator
// registers the seed), then aborts, so a campaign worker that trips one
// dies by SIGABRT and is reported with its seed.
//
// Use them for what the code relies on, in pairs where a contract has two
// sides: what must happen, and what must not.
//   WALSIM_ASSERT(lsn <= durable_lsn);
//   WALSIM_ASSERT(op_id > previous_op, "op ids only grow");
#pragma once

#include <cstdio>
#include <string_view>

namespace walsim {

[[noreturn]] void assertion_failed(const char* condition, const char* file, int line,
                                   std::string_view why = {});

// Something that describes the running program on an assertion failure
// (e.g. "seed=42"). Written to `out`; must not assert itself. One per
// process; nullptr clears it. Not thread-safe: set it before threads start.
using AssertionContext = void (*)(std::FILE* out);
void set_assertion_context(AssertionContext context);

}  // namespace walsim

#define WALSIM_ASSERT(condition, ...)                                             \
  ((condition) ? static_cast<void>(0)                                             \
               : ::walsim::assertion_failed(#condition, __FILE__,                 \
                                            __LINE__ __VA_OPT__(, ) __VA_ARGS__))
