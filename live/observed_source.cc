#include "live/observed_source.h"

namespace walsim::live {

class ObservedSource::Stream : public ChangeStream {
 public:
  Stream(ObservedSource& owner, std::unique_ptr<PgChangeStream> stream)
      : owner_(owner), stream_(std::move(stream)) {
    WALSIM_ASSERT(stream_ != nullptr);
    owner_.current_stream_ = this;
  }
  // An older stream that goes away after a newer one opened leaves it be.
  ~Stream() override {
    if (owner_.current_stream_ == this) owner_.current_stream_ = nullptr;
    owner_.forget(this);
  }

  int socket() const { return stream_->socket(); }
  void keep_alive() { (void)stream_->keep_alive().is_ok(); }

  Result<std::optional<ChangeMessage>> next() override {
    return owner_.observe(this, stream_->next());
  }
  Status acknowledge(Lsn flush_lsn) override {
    return owner_.observe(this, stream_->acknowledge(flush_lsn));
  }

 private:
  ObservedSource& owner_;
  std::unique_ptr<PgChangeStream> stream_;
};

class ObservedSource::Reader : public TableReader {
 public:
  Reader(ObservedSource& owner, std::unique_ptr<TableReader> reader)
      : owner_(owner), reader_(std::move(reader)) {}
  ~Reader() override { owner_.forget(this); }

  Result<std::optional<TableChunk>> read_chunk(const Relation& table,
                                               const std::optional<Row>& after_key,
                                               const std::optional<Row>& until_key,
                                               size_t limit) override {
    auto chunk =
        owner_.observe_answer(this, reader_->read_chunk(table, after_key, until_key, limit));
    if (chunk.is_ok() && *chunk && owner_.chunk_hook_) owner_.chunk_hook_(table, **chunk);
    return chunk;
  }
  Result<std::optional<TableChunk>> read_rows(const Relation& table,
                                              const std::vector<Row>& keys) override {
    return owner_.observe_answer(this, reader_->read_rows(table, keys));
  }
  Result<std::optional<Lsn>> current_lsn() override {
    return owner_.observe_answer(this, reader_->current_lsn());
  }

 private:
  ObservedSource& owner_;
  std::unique_ptr<TableReader> reader_;
};

int ObservedSource::stream_socket() const {
  return current_stream_ ? current_stream_->socket() : -1;
}

void ObservedSource::keep_stream_alive() {
  if (current_stream_) current_stream_->keep_alive();
}

Result<std::unique_ptr<ChangeStream>> ObservedSource::open_stream() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgChangeStream> stream,
                          observe(this, source_.open_pg_stream()));
  return std::unique_ptr<ChangeStream>(std::make_unique<Stream>(*this, std::move(stream)));
}

Result<std::unique_ptr<TableReader>> ObservedSource::open_table_reader() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                          observe(this, source_.open_table_reader()));
  return std::unique_ptr<TableReader>(std::make_unique<Reader>(*this, std::move(reader)));
}

Result<std::vector<Relation>> ObservedSource::describe_tables(
    const std::vector<std::string>& names) {
  return observe(this, source_.describe_tables(names));
}

Result<std::map<std::string, std::string>> ObservedSource::publication_members(
    const std::vector<std::string>& names) {
  return observe(this, source_.publication_members(names));
}

void ObservedSource::record(const void* user, const Status& status) {
  WALSIM_ASSERT(user != nullptr);
  if (status.is_ok()) {
    failing_.erase(user);
  } else {
    failing_.insert_or_assign(user, Failure{++failures_, status});
  }
}

std::optional<Status> ObservedSource::last_error() const {
  const Failure* latest = nullptr;
  for (const auto& [user, failure] : failing_) {
    if (!latest || failure.sequence > latest->sequence) latest = &failure;
  }
  if (!latest) return std::nullopt;
  return latest->status;
}

}  // namespace walsim::live
