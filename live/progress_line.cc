#include "live/progress_line.h"

#include <cinttypes>

#include "engine/assert.h"

namespace walsim::live {

namespace {

std::string format_double(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string format_rate(int64_t count, int64_t previous_count, int64_t elapsed_ms) {
  if (elapsed_ms <= 0) return "?";
  // Counters restart with a new engine (after a lost slot): no negative rates.
  int64_t delta = count >= previous_count ? count - previous_count : 0;
  return format_double("%.0f", static_cast<double>(delta) * 1000.0 /
                                   static_cast<double>(elapsed_ms));
}

std::string table_progress(const TableProgress& table) {
  std::string text = table.name + " ";
  if (table.estimated_rows && *table.estimated_rows > 0) {
    double share = 100.0 * static_cast<double>(table.rows_copied) /
                   static_cast<double>(*table.estimated_rows);
    // An estimate may be low: never claim 100% before the copy is done.
    text += format_double("%.0f%%", share > 99.0 ? 99.0 : share) + " (" +
            std::to_string(table.rows_copied) + "/~" + std::to_string(*table.estimated_rows) +
            ")";
  } else {
    text += std::to_string(table.rows_copied) + " rows";
  }
  return text;
}

// Tables being copied are listed; waiting and finished ones only counted.
std::string snapshot_part(const ProgressSample& sample, const ProgressSample* previous,
                          int64_t elapsed_ms) {
  size_t done = 0;
  std::string copying;
  for (const TableProgress& table : sample.tables) {
    if (table.done) {
      done++;
    } else if (table.rows_copied > 0) {
      copying += (copying.empty() ? "" : ", ") + table_progress(table);
    }
  }
  if (sample.snapshots_done && done == sample.tables.size()) {
    return "snapshot done (" + std::to_string(done) + " tables)";
  }
  std::string text = "snapshot " + std::to_string(done) + "/" +
                     std::to_string(sample.tables.size()) + " tables";
  if (!copying.empty()) text += " [" + copying + "]";
  if (previous) {
    text += " " + format_rate(sample.snapshot_rows, previous->snapshot_rows, elapsed_ms) +
            " rows/s";
  }
  return text;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 3) {
    value /= 1024.0;
    unit++;
  }
  return format_double("%.1f ", value) + units[unit];
}

std::string format_progress(const ProgressSample& sample, const ProgressSample* previous) {
  int64_t elapsed_ms = previous ? sample.at_ms - previous->at_ms : 0;
  // Samples come from a monotonic clock: a negative interval would print
  // negative rates.
  WALSIM_ASSERT(elapsed_ms >= 0, "progress samples are in time order");
  std::string line = snapshot_part(sample, previous, elapsed_ms);
  line += " | stream ";
  line += previous ? format_rate(sample.changes, previous->changes, elapsed_ms) + " changes/s"
                   : std::to_string(sample.changes) + " changes";
  line += " | lag " + (sample.lag_bytes ? format_bytes(*sample.lag_bytes) : std::string("?"));
  if (sample.checkpoint) {
    line += " | checkpoint op " + std::to_string(sample.checkpoint->op_id) + " at " +
            sample.checkpoint->lsn.to_string();
  } else {
    line += " | no checkpoint yet";
  }
  if (sample.waiting) line += " | retrying: " + *sample.waiting;
  if (sample.store_error.code() == ErrorCode::kStorageFull) {
    line += " | store disk full, retrying: " + sample.store_error.message();
  } else if (sample.store_error.is_transient()) {
    line += " | store retrying: " + sample.store_error.message();
  }
  return line;
}

void ProgressPrinter::update(const ProgressSample& sample) {
  if (!redraw_ && previous_ && sample.at_ms - previous_->at_ms < line_interval_ms_) return;
  std::string line = format_progress(sample, previous_ ? &*previous_ : nullptr);
  if (redraw_) {
    // Carriage return, the line, then erase whatever a longer line left.
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    line_open_ = true;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
  previous_ = sample;
}

void ProgressPrinter::clear_line() {
  if (!line_open_) return;
  std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
  line_open_ = false;
}

void ProgressPrinter::message(std::FILE* stream, const std::string& text) {
  clear_line();
  std::fprintf(stream, "%s\n", text.c_str());
  std::fflush(stream);
}

void ProgressPrinter::finish() {
  if (!line_open_) return;
  std::fprintf(out_, "\n");
  std::fflush(out_);
  line_open_ = false;
}

}  // namespace walsim::live
