#include "live/progress_line.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace walsim::live {
namespace {

ProgressSample copying_sample() {
  ProgressSample sample;
  sample.at_ms = 10'000;
  sample.tables = {{"items", false, 450'000, 1'000'000},
                   {"lists", true, 300, 300},
                   {"tags", false, 1200, std::nullopt},
                   {"waiting", false, 0, 50}};
  sample.snapshot_rows = 451'500;
  sample.changes = 40;
  sample.lag_bytes = 3 * 1024 * 1024 / 2;
  return sample;
}

TEST(ProgressLineTest, FirstLineHasCountsButNoRates) {
  EXPECT_EQ(format_progress(copying_sample(), nullptr),
            "snapshot 1/4 tables [items 45% (450000/~1000000), tags 1200 rows] | stream 40 "
            "changes | lag 1.5 MiB | no checkpoint yet");
}

TEST(ProgressLineTest, RatesComeFromThePreviousSample) {
  ProgressSample previous = copying_sample();
  ProgressSample now = previous;
  now.at_ms += 2'000;
  now.snapshot_rows += 100'000;
  now.changes += 30;
  now.checkpoint = Checkpoint{1234, Lsn::from_parts(0, 0x1A2B3C)};
  EXPECT_EQ(format_progress(now, &previous),
            "snapshot 1/4 tables [items 45% (450000/~1000000), tags 1200 rows] 50000 rows/s | "
            "stream 15 changes/s | lag 1.5 MiB | checkpoint op 1234 at 0/1A2B3C");
}

TEST(ProgressLineTest, DoneSnapshotAndRetriedError) {
  ProgressSample sample;
  sample.tables = {{"items", true, 10, 10}};
  sample.snapshots_done = true;
  sample.waiting = "replication slot \"walsim\" is active for PID 42";
  EXPECT_EQ(format_progress(sample, nullptr),
            "snapshot done (1 tables) | stream 0 changes | lag ? | no checkpoint yet | "
            "retrying: replication slot \"walsim\" is active for PID 42");
}

// A store on a full file system used to show only 0 rows/s and a growing lag.
TEST(ProgressLineTest, AFullDiskIsSaid) {
  ProgressSample sample;
  sample.tables = {{"items", true, 10, 10}};
  sample.snapshots_done = true;
  sample.store_error = Status(ErrorCode::kStorageFull,
                              "store '/data/s.db': sqlite 'COMMIT': database or disk is full");
  EXPECT_EQ(format_progress(sample, nullptr),
            "snapshot done (1 tables) | stream 0 changes | lag ? | no checkpoint yet | store "
            "disk full, retrying: store '/data/s.db': sqlite 'COMMIT': database or disk is full");
  sample.store_error = Status::ok();  // space came back, a write went through
  EXPECT_EQ(format_progress(sample, nullptr).find("store"), std::string::npos);
}

TEST(ProgressLineTest, NeverClaimsAFullTableBeforeItIsDone) {
  ProgressSample sample;
  sample.tables = {{"items", false, 1200, 1000}};
  EXPECT_EQ(format_progress(sample, nullptr).substr(0, 40),
            "snapshot 0/1 tables [items 99% (1200/~10");
}

TEST(ProgressLineTest, FormatsBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t{5} << 30), "5.0 GiB");
}

std::string printed(bool redraw, const std::vector<int64_t>& times) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buffer, &size);
  {
    ProgressPrinter printer(out, redraw, /*line_interval_ms=*/10'000);
    for (int64_t at : times) {
      ProgressSample sample;
      sample.at_ms = at;
      printer.update(sample);
    }
    printer.finish();
  }
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(ProgressLineTest, LogOutputPrintsALineEveryInterval) {
  std::string text = printed(false, {0, 1'000, 9'000, 10'000, 15'000, 20'500});
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressLineTest, TerminalOutputRedrawsOneLine) {
  std::string text = printed(true, {0, 1'000, 2'000});
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;  // from finish()
}

}  // namespace
}  // namespace walsim::live
