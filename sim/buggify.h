// Buggify: the simulator's fault sites, FoundationDB style.
//
// Each fault kind is a site in the simulated world (the source, the disk,
// the scheduler). A seed enables some sites for the whole run and gives each
// a firing probability; a site that is off never fires, which is what lets
// swarm testing explore runs without, say, any crash at all. heal() turns
// every site off for good: the liveness phase runs fault free.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sim/prng.h"

namespace walsim::sim {

enum class FaultKind : uint8_t {
  kEngineCrash,       // the engine process dies between two steps (crash_process)
  kCrashAtAck,        // the engine process dies the instant it acknowledges
  kStreamDisconnect,  // next() breaks the replication connection
  kStreamStall,       // next() has nothing right now, mid-transaction
  kAckLost,           // acknowledge() breaks the connection, not applied
  kRedeliverAcked,    // the slot rewinds: acknowledged transactions again
  kConnectError,      // opening a stream or a table reader fails
  kReadError,         // a table chunk or current_lsn() read fails
  kTaskStall,         // one task is not scheduled for a while (slow)
  kStorageBusy,       // a storage write transaction finds the db busy
  kStorageIoError,    // a storage write transaction fails with I/O error
  // The simulated disk (sim/sim_disk.h) and the SQLite wrapper's statement
  // hook (engine/storage_faults.h). Added after the others, so the draws of
  // the older kinds stay as they were.
  kPowerLoss,         // the power goes out between two steps (maybe tearing)
  kPowerLossAtAck,    // the power goes out the instant the engine acknowledges
  kCrashAtIo,         // the process dies at a disk I/O, before it happens
  kPowerLossAtIo,     // the power goes out at a disk I/O, before it happens
  kSyncError,         // xSync fails with EIO; nothing becomes durable
  kWriteError,        // xWrite fails with EIO; nothing lands
  kDiskFull,          // the disk is full (ENOSPC) for the next 1-50 writes
  kShortWrite,        // xWrite lands only part of its bytes (ENOSPC)
  kDiskReadError,     // xRead fails with EIO
  kAmbiguousCommit,   // a WAL commit frame lands but its write reports EIO
  kStatementError,    // a statement inside a write transaction fails (transient)
  kCommitError,       // COMMIT fails before doing anything (transient)
  kStorageRefused,    // a statement fails with a non-transient error, every
                      // time it runs, until the engine is restarted
  // --- issue 10 part B: events from outside the engine process, drawn
  // from a stream of their own (draw_outside_faults in params.cc).
  kSlotDropped,       // the replication slot is dropped while the engine is down
  kFreshCluster,      // the source is replaced by a fresh cluster (dump and
                      // restore) whose LSNs start lower; its slot is new
  kSecondWriter,      // a second walsim starts on the store (must be refused)
  kRulesEdited,       // the engine is started with an edited rules file
  // --- end of part B's kinds
  // --- issue 10 part A: a world that changes (sim/sim_postgres.h). ---------
  kPublicationChange,  // a writer step: ALTER PUBLICATION ... DROP TABLE of a
                       // published table, or ADD TABLE of a dropped one
  kReaderDisconnect,   // a table reader's connection dies (pg_terminate_backend):
                       // every later call on it answers kDisconnected
  kServerRestart,      // between steps: the source restarts, and the stream
                       // and every reader connection die at once
  // --- end of issue 10 part A. ----------------------------------------------
  // --- issue 10, DDL: tables change identity under the engine. -------------
  kTableRecreated,          // a writer step: DROP TABLE and CREATE TABLE of the
                            // same name with other rows (also mid-copy)
  kTableRecreatedWhileDown, // the same between two engine runs, per restart
  // --- end of issue 10, DDL. -------------------------------------------------
  // --- issue 11 item 3: compaction (sim/compaction.h). ------------------------
  kCompaction,         // between steps: the engine's background compaction runs
                       // once over every bucket, up to the published checkpoint
  // --- end of issue 11 item 3. ---------------------------------------------------
  // --- issue 10, DDL: a table's replica identity changes under the engine. ---
  kIdentityChanged,    // a writer step: ALTER TABLE t REPLICA IDENTITY FULL (or
                       // DEFAULT again); later changes decode with the new one
  // --- end of the identity change. --------------------------------------------
  kCount,             // not a fault: how many there are
};
// Tied to the enum: a new fault kind joins every plan and counter.
constexpr size_t kFaultKinds = static_cast<size_t>(FaultKind::kCount);
static_assert(kFaultKinds == static_cast<size_t>(FaultKind::kIdentityChanged) + 1,
              "a new fault kind needs a name (fault_name), a rate (draw_faults), a row in "
              "docs/simulation.md's fault table and a look at replay_file.cc; then name it here");

const char* fault_name(FaultKind kind);

// Firing probability per site, in parts per million; 0 = site disabled.
using FaultPlan = std::array<uint32_t, kFaultKinds>;

class Buggify {
 public:
  Buggify(uint64_t seed, const FaultPlan& plan) : prng_(seed), plan_(plan) {}

  // Whether the fault fires at this call of its site. Draws from the fault
  // stream only for enabled sites, so disabling one changes no other draw
  // order than its own.
  bool fire(FaultKind kind) {
    uint32_t ppm = healed_ ? 0 : plan_[index(kind)];
    if (ppm == 0) return false;
    if (!prng_.ppm(ppm)) return false;
    fired_[index(kind)]++;
    return true;
  }

  // A value for the fault that just fired (a delay, a rewind distance).
  int64_t range(int64_t low, int64_t high) { return prng_.range(low, high); }

  void heal() { healed_ = true; }
  bool healed() const { return healed_; }

  int64_t fired(FaultKind kind) const { return fired_[index(kind)]; }
  int64_t fired_total() const;
  bool enabled(FaultKind kind) const { return plan_[index(kind)] > 0; }
  // "crash=3 disconnect=5" for the faults that fired; "none" otherwise.
  std::string describe_fired() const;

 private:
  static size_t index(FaultKind kind) { return static_cast<size_t>(kind); }

  Prng prng_;
  FaultPlan plan_;
  std::array<int64_t, kFaultKinds> fired_{};
  bool healed_ = false;
};

}  // namespace walsim::sim
