// ThreadedTableReader: the engine's TableReader in live mode. Its reads run
// on a thread of its own, over a connection of its own (a PgTableReader),
// so the runtime thread, which steps every engine task and is the store's
// only writer, never waits for Postgres: a read in flight answers "not
// ready" (engine/source.h) and the worker steps again when the thread has
// the answer (it notifies the runtime's Wakeup).
//
// It reads ahead: when it answers a chunk that is not the last, it starts
// reading the next one at once (after that chunk's last key, same limit,
// and the bound the engine will ask with: the request's, else the
// chunk's bound_key),
// while the engine writes the chunk it was given. The next ask for exactly
// that chunk takes the answer; any other ask drops it.
//
// The thread connects on its first read, so opening a reader never blocks
// either. A lost connection answers kDisconnected (the engine then drops
// the reader and opens a new one, which connects afresh); a failed connect
// answers kIoError and is tried again by the next ask.
//
// Threads: the engine calls the TableReader methods from the runtime thread
// only; the reader thread touches only the PgTableReader and, under the
// mutex, the request and answer slots. Destruction cancels a read in
// flight (PQcancel) and joins the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/source.h"
#include "live/pg_connection.h"
#include "live/pg_table_reader.h"
#include "live/wakeup.h"

namespace walsim::live {

// What the readers of one source did, for benchmarks and the docs' "where
// the time goes". Updated by the reader threads.
struct ReaderStats {
  std::atomic<int64_t> reads{0};            // queries run (chunks, rows, LSNs)
  std::atomic<int64_t> read_us{0};          // time the reader threads spent in them
  std::atomic<int64_t> read_ahead_hits{0};  // chunks answered from a read ahead
  std::atomic<int64_t> not_ready{0};        // asks answered "not ready"
};

class ThreadedTableReader : public TableReader {
 public:
  using Connect = std::function<Result<std::unique_ptr<PgConnection>>()>;

  // `connect`, `wakeup` and `stats` must outlive the reader; `stats` may be
  // null.
  ThreadedTableReader(Connect connect, ReaderOptions options, Wakeup& wakeup,
                      ReaderStats* stats = nullptr);
  ~ThreadedTableReader() override;
  ThreadedTableReader(const ThreadedTableReader&) = delete;
  ThreadedTableReader& operator=(const ThreadedTableReader&) = delete;

  Result<std::optional<TableChunk>> read_chunk(const Relation& table,
                                               const std::optional<Row>& after_key,
                                               const std::optional<Row>& until_key,
                                               size_t limit) override;
  Result<std::optional<TableChunk>> read_rows(const Relation& table,
                                              const std::vector<Row>& keys) override;
  Result<std::optional<Lsn>> current_lsn() override;

 private:
  struct Request {
    enum class Kind { kChunk, kRows, kLsn } kind;
    Relation table;
    std::optional<Row> after_key;
    std::optional<Row> until_key;
    size_t limit = 0;
    std::vector<Row> keys;
    bool operator==(const Request&) const = default;
  };
  struct Answer {
    Request request;
    Result<TableChunk> result;  // for an LSN: no rows, the LSN in consistent_lsn
  };

  // The runtime thread's side: collect the answer to `request`, or start it.
  Result<std::optional<TableChunk>> ask(const Request& request);
  void read_ahead_after(const Request& request, const TableChunk& chunk);
  // The reader thread's side.
  void run();
  Result<TableChunk> execute(const Request& request);
  Status connect();

  Connect connect_;
  const ReaderOptions options_;
  Wakeup& wakeup_;
  ReaderStats* stats_;
  std::unique_ptr<PgTableReader> reader_;  // the reader thread's alone

  std::mutex mutex_;
  std::condition_variable work_;
  // Guarded by mutex_.
  std::optional<Request> queued_;   // asked for, not yet started
  std::optional<Request> running_;  // being read
  std::optional<Answer> done_;      // read, not yet collected
  bool read_ahead_ = false;         // done_/running_/queued_ is a read ahead
  std::unique_ptr<PgConnection::Canceller> canceller_;
  bool stopping_ = false;

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace walsim::live
