// SimDiskFaults: the simulated disk's fault sites (sim/disk_faults.h),
// drawn from the run's Buggify like every other site, each firing traced.
//
//   crash_at_io       the process dies at an I/O, before it happens
//   power_loss_at_io  the same, and then the power goes (the simulation cuts
//                     it once SQLite's call has returned: a dead process
//                     writes nothing, so that is a power loss at this I/O)
//   disk_read_error   xRead: EIO, for the next read after an engine step
//                     the site fired at (drawn per step, not per read: a
//                     checkpoint reads every frame it copies, and a rate per
//                     read high enough to matter would fail them all)
//   write_error       xWrite: EIO, nothing lands
//   disk_full         xWrite: ENOSPC for this write and the next 0-49 (any
//                     file); then space returns
//   short_write       xWrite: some of the bytes land, ENOSPC
//   ambiguous_commit  the page of a WAL commit frame (the write right after
//                     its header) lands, and the write reports EIO: COMMIT
//                     fails, yet the next process recovers the transaction
//   sync_error        xSync: EIO, nothing becomes durable
//
// The sites fire only while armed: during the engine's steps. The oracle's
// and the clients' reads and the opening of the store after a restart see a
// healthy disk, so every fault lands on the engine. After heal() (Buggify's)
// nothing fires and a full disk has space again.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "sim/buggify.h"
#include "sim/disk_faults.h"
#include "sim/trace.h"

namespace walsim::sim {

class SimDiskFaults : public DiskFaults {
 public:
  SimDiskFaults(Buggify& buggify, Trace& trace) : buggify_(buggify), trace_(trace) {}

  // Before and after each engine step.
  void arm(bool armed);

  // A fault killed the process at an I/O: why, and whether the power went.
  struct Death {
    std::string why;
    bool power_loss = false;
  };
  // The death since the last call, if any; the simulation restarts the
  // engine after the step.
  std::optional<Death> take_death() { return std::exchange(death_, std::nullopt); }

  FaultAction on_read(const IoSite& site) override;
  FaultAction on_write(const IoSite& site) override;
  FaultAction on_sync(const IoSite& site) override;
  FaultAction on_truncate(const IoSite& site) override;
  FaultAction on_shm_map(const IoSite& site) override;

 private:
  // Whether the process dies at this I/O (crash_at_io, power_loss_at_io);
  // once dead, every I/O it still attempts dies too.
  bool dies_at(const char* io, const IoSite& site);
  std::optional<FaultAction> full_disk(const IoSite& site);
  void record(const char* fault, const char* io, const IoSite& site, const std::string& more = "");

  Buggify& buggify_;
  Trace& trace_;
  bool armed_ = false;
  std::optional<Death> death_;
  int full_writes_left_ = 0;
  bool read_error_due_ = false;
  // The offset of the page that follows a WAL commit frame's header.
  std::optional<int64_t> commit_page_offset_;
};

}  // namespace walsim::sim
