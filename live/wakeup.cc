#include "live/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "engine/assert.h"

namespace walsim::live {

Wakeup::Wakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  WALSIM_ASSERT(fd_ >= 0, "an eventfd is a file descriptor; out of them is not recoverable");
}

Wakeup::~Wakeup() { ::close(fd_); }

void Wakeup::notify() {
  uint64_t one = 1;
  // Fails only when the counter would overflow (it is readable then anyway).
  ssize_t written = ::write(fd_, &one, sizeof one);
  WALSIM_ASSERT(written == sizeof one || errno == EAGAIN, "an eventfd write adds to its counter");
}

void Wakeup::drain() {
  uint64_t count = 0;
  ssize_t got = ::read(fd_, &count, sizeof count);
  WALSIM_ASSERT(got == sizeof count || errno == EAGAIN, "an eventfd read takes its counter");
}

}  // namespace walsim::live
