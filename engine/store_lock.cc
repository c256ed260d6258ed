#include "engine/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/assert.h"

namespace walsim {

namespace {

class FileStoreLock : public StoreLock {
 public:
  explicit FileStoreLock(int fd) : fd_(fd) { WALSIM_ASSERT(fd_ >= 0); }
  ~FileStoreLock() override {
    // Closing the last descriptor of the open file releases the flock.
    ::close(fd_);
  }

 private:
  int fd_;
};

// The pid the holder wrote, for the message; empty when unreadable.
std::string read_holder(int fd) {
  char text[32] = {};
  const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
  if (got <= 0) return "";
  std::string pid(text, static_cast<size_t>(got));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return "";
  return "process " + pid;
}

void write_holder(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  // Advice for the next one's message; the lock holds whether or not it lands.
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
}

}  // namespace

Status store_in_use(const std::string& store_path, const std::string& holder) {
  return Status(ErrorCode::kFailedPrecondition,
                "store '" + store_path + "' is in use by another walsim" +
                    (holder.empty() ? std::string() : " (" + holder + ")") +
                    "; one writer per store: stop it first, or use another --store");
}

std::string store_lock_path(const std::string& store_path) { return store_path + ".lock"; }

Result<std::unique_ptr<StoreLock>> FileStoreLocks::acquire(const std::string& store_path) {
  WALSIM_ASSERT(!store_path.empty(), "a store has a path");
  const std::string path = store_lock_path(store_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(ErrorCode::kInvalidArgument, "cannot lock the store '" + store_path +
                                                   "': cannot open '" + path +
                                                   "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    std::string holder = read_holder(fd);
    ::close(fd);
    if (error == EWOULDBLOCK) return store_in_use(store_path, holder);
    return Status(ErrorCode::kIoError, "cannot lock the store '" + store_path + "': flock '" +
                                           path + "': " + std::strerror(error));
  }
  write_holder(fd);
  return std::unique_ptr<StoreLock>(std::make_unique<FileStoreLock>(fd));
}

}  // namespace walsim
