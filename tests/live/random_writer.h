// RandomWriter: a thread that keeps changing items tables (id int primary
// key, owner text, title text, n int) with small transactions spanning
// tables: inserts, updates of values, owners (bucket moves) and keys, and
// deletes. Seeded, so a failing run's workload can be repeated.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace walsim::live::testing {

class RandomWriter {
 public:
  // Existing rows have ids 1..max_id; new rows get ids from 100000 up.
  RandomWriter(std::string conninfo, std::vector<std::string> tables, int max_id,
               unsigned seed);
  ~RandomWriter();  // stops

  void start();
  // Stops after the transaction in flight; returns the first error, if any.
  std::string stop();
  int transactions() const { return transactions_; }

 private:
  void run();

  std::string conninfo_;
  std::vector<std::string> tables_;
  int max_id_;
  unsigned seed_;
  int next_id_ = 100'000;
  std::atomic<bool> stop_{false};
  std::atomic<int> transactions_{0};
  std::string error_;
  std::thread thread_;
};

}  // namespace walsim::live::testing
