// The progress display of `walsim replicate`: one line that says how far
// the snapshot got, how fast rows arrive, how far behind the source the
// slot is, and what was last published.
//
// On a terminal the line is redrawn in place every tick; otherwise (a log
// file, a pipe) a full line is printed every `line_interval_ms`, so logs stay
// readable.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"

namespace walsim::live {

struct TableProgress {
  std::string name;
  bool done = false;
  int64_t rows_copied = 0;
  std::optional<int64_t> estimated_rows;  // the source's estimate, if known
};

struct ProgressSample {
  int64_t at_ms = 0;  // monotonic
  std::vector<TableProgress> tables;
  int64_t snapshot_rows = 0;  // copied by this process
  int64_t changes = 0;        // streamed changes applied by this process
  bool snapshots_done = false;
  std::optional<uint64_t> lag_bytes;  // source's WAL position - slot's confirmed
  std::optional<Checkpoint> checkpoint;
  std::optional<std::string> waiting;  // the source error being retried
  Status store_error;                  // the store's last write error, while retried
};

// "snapshot 1/2 tables [items 45% (450000/~1000000)] 52000 rows/s | stream 120
// changes/s | lag 1.2 MiB | checkpoint op 1234 at 0/1A2B3C". Rates need a
// `previous` sample. While the store's writes fail and are retried, the
// line ends with "| store disk full, retrying: ..." (or "| store retrying:
// ..." for another transient error).
std::string format_progress(const ProgressSample& sample, const ProgressSample* previous);

// "812 B", "1.2 MiB", "3.4 GiB".
std::string format_bytes(uint64_t bytes);

class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool redraw, int64_t line_interval_ms = 10'000)
      : out_(out), redraw_(redraw), line_interval_ms_(line_interval_ms) {}

  void update(const ProgressSample& sample);
  // A message on its own line, without tearing the redrawn one.
  void message(std::FILE* stream, const std::string& text);
  // Ends the redrawn line, so what follows starts on a fresh one.
  void finish();

 private:
  void clear_line();

  std::FILE* out_;
  bool redraw_;
  int64_t line_interval_ms_;
  std::optional<ProgressSample> previous_;
  bool line_open_ = false;
};

}  // namespace walsim::live
