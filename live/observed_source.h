// ObservedSource: the live SourceConnector as the runtime sees it.
//
// It forwards every call to a PgSourceConnector and remembers what the
// runtime needs but the engine does not expose: the socket of the open
// replication stream (to wait on when every task is idle) and the latest
// source error (to show while the engine retries it). Tests also use it to
// act between a snapshot chunk's read and its write.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/source.h"
#include "engine/status.h"
#include "live/pg_source_connector.h"

namespace walsim::live {

class ObservedSource : public SourceConnector {
 public:
  // `source` must outlive this object and every stream and reader it opens.
  explicit ObservedSource(PgSourceConnector& source) : source_(source) {}

  Result<std::unique_ptr<ChangeStream>> open_stream() override;
  Result<std::unique_ptr<TableReader>> open_table_reader() override;
  Result<std::vector<Relation>> describe_tables(const std::vector<std::string>& names) override;

  // The open replication stream's socket, or -1 while none is open.
  int stream_socket() const;
  // Sends the stream's periodic status update if due (PgChangeStream::
  // keep_alive); a broken stream is left for the streamer to notice.
  void keep_stream_alive();
  // Readable when a table reader has an answer.
  int reader_wakeup_fd() { return source_.wakeup().fd(); }
  void drain_reader_wakeup() { source_.wakeup().drain(); }
  // The latest failed source call's error; cleared by the next success.
  const std::optional<Status>& last_error() const { return last_error_; }

  // Runs when a chunk is handed to the engine, before the engine writes it:
  // a test can change the source exactly there (e.g. delete rows the chunk
  // holds). The reader may have read the next chunk ahead already.
  using ChunkHook = std::function<void(const Relation& table, const TableChunk& chunk)>;
  void set_chunk_hook(ChunkHook hook) { chunk_hook_ = std::move(hook); }

 private:
  class Stream;
  class Reader;

  // Records the outcome of a source call and passes it through.
  template <typename T>
  Result<T> observe(Result<T> result) {
    record(result.status());
    return result;
  }
  Status observe(Status status) {
    record(status);
    return status;
  }
  // A read still in flight says nothing about the source yet: only an
  // answer or an error is recorded.
  template <typename T>
  Result<std::optional<T>> observe_answer(Result<std::optional<T>> result) {
    if (!result.is_ok() || result->has_value()) record(result.status());
    return result;
  }
  void record(const Status& status);

  PgSourceConnector& source_;
  Stream* current_stream_ = nullptr;  // the newest stream, while it lives
  std::optional<Status> last_error_;
  ChunkHook chunk_hook_;
};

}  // namespace walsim::live
