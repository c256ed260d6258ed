// The one-writer lock (engine/store_lock.h): a second acquire of a held
// store is refused with the holder named; a released lock is free again.
#include "engine/store_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace walsim {
namespace {

std::string temp_store(const char* name) { return ::testing::TempDir() + "/" + name; }

TEST(StoreLock, ASecondWriterIsRefusedNamingTheHolder) {
  const std::string store = temp_store("lock_second.db");
  FileStoreLocks locks;
  auto first = locks.acquire(store);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  // flock conflicts between two open files also within one process.
  auto second = locks.acquire(store);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "store '" + store + "' is in use by another walsim (process " +
                std::to_string(::getpid()) +
                "); one writer per store: stop it first, or use another --store");
}

TEST(StoreLock, AReleasedLockIsFreeAgain) {
  const std::string store = temp_store("lock_release.db");
  FileStoreLocks locks;
  {
    auto held = locks.acquire(store);
    ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  }
  auto again = locks.acquire(store);
  EXPECT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(::access(store_lock_path(store).c_str(), F_OK), 0) << "the lock file is beside it";
}

TEST(StoreLock, AStoreInADirectoryThatDoesNotExistIsAUsageError) {
  FileStoreLocks locks;
  auto lock = locks.acquire(temp_store("no/such/dir/store.db"));
  ASSERT_FALSE(lock.is_ok());
  EXPECT_EQ(lock.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(lock.status().message().find("cannot lock the store"), std::string::npos)
      << lock.status().message();
}

}  // namespace
}  // namespace walsim
