#include "live/pg_source_connector.h"

#include <utility>

#include "live/pg_catalog.h"
#include "live/pg_slot_admin.h"

namespace walsim::live {

PgSourceConnector::PgSourceConnector(std::string conninfo, std::string slot,
                                     std::string publication, Clock* clock,
                                     SlotPolicy slot_policy)
    : conninfo_(std::move(conninfo)),
      slot_(std::move(slot)),
      publication_(std::move(publication)),
      clock_(clock),
      slot_policy_(slot_policy) {
  WALSIM_ASSERT(clock_ != nullptr, "streams stamp their status updates");
}

Result<std::unique_ptr<PgConnection>> PgSourceConnector::connect(PgConnection::Mode mode) {
  return PgConnection::open(conninfo_, mode);
}

Status PgSourceConnector::check_slot_name() const { return live::check_slot_name(slot_); }

Result<std::unique_ptr<ChangeStream>> PgSourceConnector::open_stream() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgChangeStream> stream, open_pg_stream());
  return std::unique_ptr<ChangeStream>(std::move(stream));
}

Result<std::unique_ptr<PgChangeStream>> PgSourceConnector::open_pg_stream() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> replication,
                          connect(PgConnection::Mode::kReplication));
  if (slot_policy_ == SlotPolicy::kCreateIfMissing) {
    WALSIM_RETURN_IF_ERROR(live::ensure_slot(*replication, slot_).status());
  }
  WALSIM_RETURN_IF_ERROR(start_replication(*replication, slot_, publication_));
  return std::make_unique<PgChangeStream>(std::move(replication), clock_);
}

Result<bool> PgSourceConnector::ensure_slot() {
  WALSIM_RETURN_IF_ERROR(check_slot_name());
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> replication,
                          connect(PgConnection::Mode::kReplication));
  return live::ensure_slot(*replication, slot_);
}

Status PgSourceConnector::drop_slot() {
  WALSIM_RETURN_IF_ERROR(check_slot_name());
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
                          connect(PgConnection::Mode::kNormal));
  return live::drop_slot(*connection, slot_);
}

// Never blocks: the reader's thread connects on its first read.
Result<std::unique_ptr<TableReader>> PgSourceConnector::open_table_reader() {
  auto connect = [this] { return this->connect(PgConnection::Mode::kNormal); };
  return std::unique_ptr<TableReader>(
      std::make_unique<ThreadedTableReader>(connect, reader_options_, wakeup_, &reader_stats_));
}

Result<std::vector<Relation>> PgSourceConnector::describe_tables(
    const std::vector<std::string>& names) {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
                          connect(PgConnection::Mode::kNormal));
  std::vector<Relation> relations;
  for (const std::string& name : names) {
    WALSIM_ASSIGN_OR_RETURN(std::optional<Relation> relation, describe_table(*connection, name));
    if (relation) relations.push_back(std::move(*relation));
  }
  WALSIM_ASSERT(relations.size() <= names.size());
  return relations;
}

Result<std::map<std::string, std::string>> PgSourceConnector::publication_members(
    const std::vector<std::string>& names) {
  if (!catalog_connection_) {
    WALSIM_ASSIGN_OR_RETURN(catalog_connection_, connect(PgConnection::Mode::kNormal));
  }
  WALSIM_ASSERT(catalog_connection_ != nullptr);
  Result<std::map<std::string, std::string>> members =
      live::publication_members(*catalog_connection_, publication_, names);
  if (!members.is_ok()) catalog_connection_.reset();  // perhaps dead: the next call reconnects
  return members;
}

Status PgSourceConnector::check_publication(const std::vector<std::string>& tables) {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
                          connect(PgConnection::Mode::kNormal));
  return live::check_publication(*connection, publication_, tables);
}

Status PgSourceConnector::check_server() {
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection,
                          connect(PgConnection::Mode::kNormal));
  return live::check_server(*connection);
}

}  // namespace walsim::live
