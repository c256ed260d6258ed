// Wakeup: a file descriptor that threads make readable to wake the runtime
// from poll() (an eventfd). Reader threads notify() when a read is done;
// the runtime polls fd() beside the replication socket and drain()s it
// before its next round, so a notification that lands while the runtime
// is stepping is never lost: the fd stays readable until drained.
#pragma once

namespace walsim::live {

class Wakeup {
 public:
  Wakeup();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  int fd() const { return fd_; }
  // From any thread; never blocks.
  void notify();
  // Makes fd() unreadable again (until the next notify()).
  void drain();

 private:
  int fd_;
};

}  // namespace walsim::live
