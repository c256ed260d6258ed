// What the source's system catalog says: a table's columns and replica
// identity, whether a publication covers the tables, whether the server and
// role can do logical replication at all. Plain SQL over a PgConnection;
// the connector (pg_source_connector.h) opens the connection.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_connection.h"

namespace walsim::live {

// `name` is "table" (schema public) or "schema.table", unquoted. nullopt
// when there is no such table. The key columns follow the replica identity
// as pgoutput flags them; generated columns are left out, as pgoutput
// leaves them out.
Result<std::optional<Relation>> describe_table(PgConnection& connection, const std::string& name);

// The publication exists and publishes every named table.
Status check_publication(PgConnection& connection, const std::string& publication,
                         const std::vector<std::string>& tables);

// engine/source.h's SourceConnector::publication_members: for each named
// table the publication publishes, an identity of that membership.
Result<std::map<std::string, std::string>> publication_members(
    PgConnection& connection, const std::string& publication,
    const std::vector<std::string>& names);

// wal_level is logical and the connected role may replicate.
Status check_server(PgConnection& connection);

}  // namespace walsim::live
