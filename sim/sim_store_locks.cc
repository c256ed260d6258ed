#include "sim/sim_store_locks.h"

#include "engine/assert.h"

namespace walsim::sim {

class SimStoreLocks::Lock : public StoreLock {
 public:
  Lock(SimStoreLocks& locks, std::string path) : locks_(locks), path_(std::move(path)) {}
  ~Lock() override {
    const size_t erased = locks_.holders_.erase(path_);
    WALSIM_ASSERT(erased == 1, "a lock is released once, by its holder");
  }

 private:
  SimStoreLocks& locks_;
  std::string path_;
};

Result<std::unique_ptr<StoreLock>> SimStoreLocks::acquire(const std::string& store_path) {
  WALSIM_ASSERT(!store_path.empty(), "a store has a path");
  if (auto holder = holders_.find(store_path); holder != holders_.end()) {
    return store_in_use(store_path, "process " + std::to_string(holder->second));
  }
  holders_.emplace(store_path, process_);
  WALSIM_ASSERT(held(store_path));
  return std::unique_ptr<StoreLock>(std::make_unique<Lock>(*this, store_path));
}

}  // namespace walsim::sim
