#include "live/threaded_table_reader.h"

#include <chrono>
#include <utility>

namespace walsim::live {

ThreadedTableReader::ThreadedTableReader(Connect connect, ReaderOptions options, Wakeup& wakeup,
                                         ReaderStats* stats)
    : connect_(std::move(connect)),
      options_(options),
      wakeup_(wakeup),
      stats_(stats),
      thread_([this] { run(); }) {
  WALSIM_ASSERT(connect_ != nullptr, "the reader connects itself");
}

ThreadedTableReader::~ThreadedTableReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // A read in flight may wait on a lock or a slow scan: end it now
    // rather than when the statement timeout does.
    if (running_ && canceller_) canceller_->cancel();
  }
  work_.notify_all();
  thread_.join();
}

Result<std::optional<TableChunk>> ThreadedTableReader::read_chunk(
    const Relation& table, const std::optional<Row>& after_key,
    const std::optional<Row>& until_key, size_t limit) {
  return ask(Request{Request::Kind::kChunk, table, after_key, until_key, limit, {}});
}

Result<std::optional<TableChunk>> ThreadedTableReader::read_rows(const Relation& table,
                                                                 const std::vector<Row>& keys) {
  return ask(Request{Request::Kind::kRows, table, std::nullopt, std::nullopt, 0, keys});
}

Result<std::optional<Lsn>> ThreadedTableReader::current_lsn() {
  WALSIM_ASSIGN_OR_RETURN(
      std::optional<TableChunk> answer,
      ask(Request{Request::Kind::kLsn, Relation(), std::nullopt, std::nullopt, 0, {}}));
  if (!answer) return std::optional<Lsn>();
  return std::optional(answer->consistent_lsn);
}

Result<std::optional<TableChunk>> ThreadedTableReader::ask(const Request& request) {
  std::lock_guard lock(mutex_);
  if (done_ && done_->request == request) {
    Answer answer = std::move(*done_);
    done_.reset();
    if (read_ahead_ && stats_) stats_->read_ahead_hits++;
    read_ahead_ = false;
    if (!answer.result.is_ok()) return answer.result.status();
    read_ahead_after(answer.request, *answer.result);
    return std::optional(std::move(answer.result).value());
  }
  done_.reset();  // an answer nobody asks for any more
  if (stats_) stats_->not_ready++;
  if (running_ && *running_ == request) return std::optional<TableChunk>();
  if (queued_ != request) {
    // Replaces a queued read ahead nobody wants; a running read that is not
    // this one finishes first (the connection does one thing at a time).
    queued_ = request;
    read_ahead_ = false;
    work_.notify_one();
  }
  return std::optional<TableChunk>();
}

// Called with the mutex held, as a chunk is handed over.
void ThreadedTableReader::read_ahead_after(const Request& request, const TableChunk& chunk) {
  if (!options_.read_ahead || request.kind != Request::Kind::kChunk) return;
  if (chunk.is_last || chunk.rows.empty() || running_ || queued_) return;
  WALSIM_ASSERT(!done_, "the answer just handed over was the only one");
  // The snapshotter bounds the rest of a copy by its first chunk's bound_key.
  const std::optional<Row>& until = request.until_key ? request.until_key : chunk.bound_key;
  queued_ = Request{Request::Kind::kChunk, request.table, request.table.key_of(chunk.rows.back()),
                    until, request.limit, {}};
  read_ahead_ = true;
  work_.notify_one();
}

void ThreadedTableReader::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || queued_.has_value(); });
    if (stopping_) return;
    running_ = std::move(queued_);
    queued_.reset();
    Request request = *running_;
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    Result<TableChunk> result = execute(request);
    if (stats_) {
      stats_->reads++;
      stats_->read_us += std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    }
    lock.lock();
    WALSIM_ASSERT(running_ && *running_ == request, "only the reader thread ends a read");
    running_.reset();
    done_ = Answer{std::move(request), std::move(result)};
    wakeup_.notify();
  }
}

Status ThreadedTableReader::connect() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, connect_());
  std::unique_ptr<PgConnection::Canceller> canceller = connection->canceller();
  WALSIM_ASSIGN_OR_RETURN(reader_, PgTableReader::start(std::move(connection), options_));
  std::lock_guard lock(mutex_);
  canceller_ = std::move(canceller);
  return Status::ok();
}

Result<TableChunk> ThreadedTableReader::execute(const Request& request) {
  if (!reader_ || !reader_->is_connected()) {
    reader_.reset();
    WALSIM_RETURN_IF_ERROR(connect());
  }
  WALSIM_ASSERT(reader_ != nullptr, "a read runs on a connection");
  switch (request.kind) {
    case Request::Kind::kChunk:
      return reader_->read_chunk(request.table, request.after_key, request.until_key,
                                 request.limit);
    case Request::Kind::kRows: return reader_->read_rows(request.table, request.keys);
    case Request::Kind::kLsn: {
      WALSIM_ASSIGN_OR_RETURN(Lsn lsn, reader_->current_lsn());
      return TableChunk{{}, true, lsn};
    }
  }
  return Status(ErrorCode::kInvalidArgument, "unknown read");
}

}  // namespace walsim::live
