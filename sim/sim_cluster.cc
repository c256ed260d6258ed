#include "sim/sim_cluster.h"

#include <utility>

#include "engine/assert.h"

namespace walsim::sim {

namespace {

class ClusterStream : public ChangeStream {
 public:
  ClusterStream(const SimCluster& cluster, std::unique_ptr<ChangeStream> inner)
      : cluster_(cluster), inner_(std::move(inner)) {}

  Result<std::optional<ChangeMessage>> next() override {
    WALSIM_ASSIGN_OR_RETURN(std::optional<ChangeMessage> message, inner_->next());
    if (!message) return message;
    if (auto* begin = std::get_if<BeginMessage>(&*message)) {
      begin->final_lsn = cluster_.to_cluster(begin->final_lsn);
    } else if (auto* commit = std::get_if<CommitMessage>(&*message)) {
      commit->commit_lsn = cluster_.to_cluster(commit->commit_lsn);
      commit->end_lsn = cluster_.to_cluster(commit->end_lsn);
    } else if (auto* keepalive = std::get_if<KeepaliveMessage>(&*message)) {
      keepalive->lsn = cluster_.to_cluster(keepalive->lsn);
    }
    return message;
  }

  Status acknowledge(Lsn flush_lsn) override {
    return inner_->acknowledge(cluster_.to_source(flush_lsn));
  }

 private:
  const SimCluster& cluster_;
  std::unique_ptr<ChangeStream> inner_;
};

class ClusterReader : public TableReader {
 public:
  ClusterReader(const SimCluster& cluster, std::unique_ptr<TableReader> inner)
      : cluster_(cluster), inner_(std::move(inner)) {}

  Result<std::optional<TableChunk>> read_chunk(const Relation& table,
                                               const std::optional<Row>& after_key,
                                               const std::optional<Row>& until_key,
                                               size_t limit) override {
    return renumber(inner_->read_chunk(table, after_key, until_key, limit));
  }

  Result<std::optional<TableChunk>> read_rows(const Relation& table,
                                              const std::vector<Row>& keys) override {
    return renumber(inner_->read_rows(table, keys));
  }

  Result<std::optional<Lsn>> current_lsn() override {
    WALSIM_ASSIGN_OR_RETURN(std::optional<Lsn> lsn, inner_->current_lsn());
    if (lsn) *lsn = cluster_.to_cluster(*lsn);
    return lsn;
  }

 private:
  Result<std::optional<TableChunk>> renumber(Result<std::optional<TableChunk>> chunk) {
    if (chunk.is_ok() && *chunk) {
      (*chunk)->consistent_lsn = cluster_.to_cluster((*chunk)->consistent_lsn);
    }
    return chunk;
  }

  const SimCluster& cluster_;
  std::unique_ptr<TableReader> inner_;
};

}  // namespace

Lsn SimCluster::to_cluster(Lsn internal) const {
  WALSIM_ASSERT(internal.value() > offset_, "the engine sees only this cluster's positions");
  return Lsn(internal.value() - offset_);
}

Lsn SimCluster::to_source(Lsn cluster) const {
  // Zero is no position at all (nothing acknowledged yet): it stays zero.
  if (cluster == Lsn::zero()) return cluster;
  return Lsn(cluster.value() + offset_);
}

void SimCluster::replace(Lsn start) {
  const Lsn head = to_cluster(source_.head());
  WALSIM_ASSERT(start > Lsn::zero() && start < head, "a fresh cluster starts lower");
  offset_ = source_.head().value() - start.value();
  clusters_replaced_++;
  WALSIM_ASSERT(to_cluster(source_.head()) == start);
}

Result<std::unique_ptr<ChangeStream>> SimCluster::open_stream() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<ChangeStream> stream, source_.open_stream());
  return std::unique_ptr<ChangeStream>(std::make_unique<ClusterStream>(*this, std::move(stream)));
}

Result<std::unique_ptr<TableReader>> SimCluster::open_table_reader() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, source_.open_table_reader());
  return std::unique_ptr<TableReader>(std::make_unique<ClusterReader>(*this, std::move(reader)));
}

Result<std::vector<Relation>> SimCluster::describe_tables(const std::vector<std::string>& names) {
  return source_.describe_tables(names);
}

Result<std::map<std::string, std::string>> SimCluster::publication_members(
    const std::vector<std::string>& names) {
  return source_.publication_members(names);
}

}  // namespace walsim::sim
