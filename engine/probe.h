// Rare paths, counted (FoundationDB's CODE_PROBE, Antithesis' "sometimes"
// assertions): WALSIM_PROBE("copy_row_skipped_for_tombstone") at a site
// counts that the path ran. A path that matters and no run reaches is a
// gap in the test, not a pass: the campaign shows every entry's hit count
// and first seed, and CI's gate fails on an entry never reached.
//
// The catalog (engine/probe.cc) is the one list, with a line of why per
// entry; a probe's name must be in it. It names the simulator's world
// events too (sim/ hits them with the same macro), so that one file says
// everything the campaign must reach. Counts are per process; a simulated
// run resets them first and reads them at its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace walsim::probe {

struct Probe {
  const char* name;
  const char* why;  // why it matters that a run gets here
  // Why the simulated world cannot reach it yet, or "": a known gap, shown
  // as such in every summary and left out of the "every entry reached"
  // gate until the world grows the event that leads there.
  const char* gap = "";
};

const std::vector<Probe>& catalog();
// The entry's index; aborts on a name not in the catalog.
size_t index_of(std::string_view name);

void hit(size_t index);
void reset();
// Hits per catalog entry since the last reset, in catalog order.
const std::vector<int64_t>& counts();

}  // namespace walsim::probe

// The index is looked up once per site.
#define WALSIM_PROBE(name)                                                          \
  do {                                                                              \
    static const size_t walsim_probe_index_ = ::walsim::probe::index_of(name);      \
    ::walsim::probe::hit(walsim_probe_index_);                                      \
  } while (0)
