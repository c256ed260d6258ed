// ObservedSource: the live SourceConnector as the runtime sees it.
//
// It forwards every call to a PgSourceConnector and remembers what the
// runtime needs but the engine does not expose: the socket of the open
// replication stream (to wait on when every task is idle) and the latest
// source error (to show while the engine retries it). Tests also use it to
// act between a snapshot chunk's read and its write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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
  Result<std::map<std::string, std::string>> publication_members(
      const std::vector<std::string>& names) override;

  // The open replication stream's socket, or -1 while none is open.
  int stream_socket() const;
  // Sends the stream's periodic status update if due (PgChangeStream::
  // keep_alive); a broken stream is left for the streamer to notice.
  void keep_stream_alive();
  // What the table readers did (time reading, reads ahead, waits).
  const ReaderStats& reader_stats() const { return source_.reader_stats(); }
  // Readable when a table reader has an answer.
  int reader_wakeup_fd() { return source_.wakeup().fd(); }
  void drain_reader_wakeup() { source_.wakeup().drain(); }
  // The latest error among the source's users (the stream, each reader,
  // the connector's own calls) whose last call failed; each user's error is
  // cleared by its own next success, so a reader that keeps failing (a
  // statement timeout) shows even while the stream flows.
  std::optional<Status> last_error() const;

  // Runs when a chunk is handed to the engine, before the engine writes it:
  // a test can change the source exactly there (e.g. delete rows the chunk
  // holds). The reader may have read the next chunk ahead already.
  using ChunkHook = std::function<void(const Relation& table, const TableChunk& chunk)>;
  void set_chunk_hook(ChunkHook hook) { chunk_hook_ = std::move(hook); }

 private:
  class Stream;
  class Reader;

  // Records the outcome of a source call by `user` and passes it through.
  template <typename T>
  Result<T> observe(const void* user, Result<T> result) {
    record(user, result.status());
    return result;
  }
  Status observe(const void* user, Status status) {
    record(user, status);
    return status;
  }
  // A read still in flight says nothing about the source yet: only an
  // answer or an error is recorded.
  template <typename T>
  Result<std::optional<T>> observe_answer(const void* user, Result<std::optional<T>> result) {
    if (!result.is_ok() || result->has_value()) record(user, result.status());
    return result;
  }
  void record(const void* user, const Status& status);
  void forget(const void* user) { failing_.erase(user); }

  struct Failure {
    uint64_t sequence;  // larger: more recent
    Status status;
  };

  PgSourceConnector& source_;
  Stream* current_stream_ = nullptr;  // the newest stream, while it lives
  std::map<const void*, Failure> failing_;  // users whose last call failed
  uint64_t failures_ = 0;
  ChunkHook chunk_hook_;
};

}  // namespace walsim::live
