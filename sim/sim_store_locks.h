// SimStoreLocks: the one-writer lock (engine/store_lock.h) of the
// simulated machine. Like flock, a lock belongs to the process that took
// it and goes with it: the simulation releases it when the engine process
// dies. A second writer asking while it is held is refused with the same
// message live mode gives.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "engine/store_lock.h"

namespace walsim::sim {

class SimStoreLocks : public StoreLocks {
 public:
  // `process` names the asking process in a refusal ("process 2").
  void set_process(int process) { process_ = process; }
  Result<std::unique_ptr<StoreLock>> acquire(const std::string& store_path) override;
  bool held(const std::string& store_path) const { return holders_.count(store_path) > 0; }

 private:
  class Lock;
  int process_ = 1;
  std::map<std::string, int> holders_;  // store path -> holding process
};

}  // namespace walsim::sim
