#include "sim/sim_disk_faults.h"

#include "engine/assert.h"

namespace walsim::sim {

void SimDiskFaults::record(const char* fault, const char* io, const IoSite& site,
                           const std::string& more) {
  trace_.record(std::string("fault:") + fault + " " + io + " " + file_kind_name(site.kind) +
                " offset=" + std::to_string(site.offset) + more);
}

bool SimDiskFaults::dies_at(const char* io, const IoSite& site) {
  if (death_) return true;  // a new handle of the dead process: it dies too
  if (buggify_.fire(FaultKind::kCrashAtIo)) {
    death_ = Death{"fault:crash_at_io", false};
  } else if (buggify_.fire(FaultKind::kPowerLossAtIo)) {
    death_ = Death{"fault:power_loss_at_io", true};
  } else {
    return false;
  }
  record(death_->power_loss ? "power_loss_at_io" : "crash_at_io", io, site);
  return true;
}

void SimDiskFaults::arm(bool armed) {
  armed_ = armed;
  if (armed && !read_error_due_) read_error_due_ = buggify_.fire(FaultKind::kDiskReadError);
  if (buggify_.healed()) read_error_due_ = false;
}

FaultAction SimDiskFaults::on_read(const IoSite& site) {
  if (!armed_) return FaultAction::proceed();
  if (dies_at("read", site)) return FaultAction::process_dies();
  if (read_error_due_) {
    read_error_due_ = false;
    record("disk_read_error", "read", site);
    return FaultAction::io_error();
  }
  return FaultAction::proceed();
}

// Space runs out for a while: this write and the next few, whichever file.
std::optional<FaultAction> SimDiskFaults::full_disk(const IoSite& site) {
  if (buggify_.healed()) full_writes_left_ = 0;
  if (full_writes_left_ > 0) {
    if (--full_writes_left_ == 0) trace_.record("disk space returns");
    return FaultAction::disk_full();
  }
  if (!buggify_.fire(FaultKind::kDiskFull)) return std::nullopt;
  full_writes_left_ = static_cast<int>(buggify_.range(0, 49));
  record("disk_full", "write", site, " for_writes=" + std::to_string(full_writes_left_ + 1));
  if (full_writes_left_ == 0) trace_.record("disk space returns");
  return FaultAction::disk_full();
}

FaultAction SimDiskFaults::on_write(const IoSite& site) {
  if (!armed_) return FaultAction::proceed();
  if (dies_at("write", site)) return FaultAction::process_dies();
  if (std::optional<FaultAction> full = full_disk(site)) return *full;
  if (is_wal_commit_frame_header(site)) {
    commit_page_offset_ = site.offset + 24;
  } else if (site.kind == FileKind::kWal && commit_page_offset_ == site.offset) {
    commit_page_offset_.reset();
    if (buggify_.fire(FaultKind::kAmbiguousCommit)) {
      record("ambiguous_commit", "write", site);
      return FaultAction::lands_but_fails();
    }
  }
  if (buggify_.fire(FaultKind::kWriteError)) {
    record("write_error", "write", site);
    return FaultAction::io_error();
  }
  if (site.size_bytes > 0 && buggify_.fire(FaultKind::kShortWrite)) {
    const int64_t landed = buggify_.range(0, site.size_bytes - 1);
    record("short_write", "write", site, " landed=" + std::to_string(landed));
    return FaultAction::short_write(landed);
  }
  return FaultAction::proceed();
}

FaultAction SimDiskFaults::on_sync(const IoSite& site) {
  if (!armed_) return FaultAction::proceed();
  if (dies_at("sync", site)) return FaultAction::process_dies();
  if (buggify_.fire(FaultKind::kSyncError)) {
    record("sync_error", "sync", site);
    return FaultAction::io_error();
  }
  return FaultAction::proceed();
}

FaultAction SimDiskFaults::on_truncate(const IoSite& site) {
  if (!armed_) return FaultAction::proceed();
  return dies_at("truncate", site) ? FaultAction::process_dies() : FaultAction::proceed();
}

FaultAction SimDiskFaults::on_shm_map(const IoSite& site) {
  if (!armed_) return FaultAction::proceed();
  return dies_at("shm_map", site) ? FaultAction::process_dies() : FaultAction::proceed();
}

}  // namespace walsim::sim
