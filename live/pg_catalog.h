// What the source's system catalog says: a table's columns and replica
// identity, what a publication publishes (which tables, which rows, which
// columns, and since when), whether the server and role can do logical
// replication at all. Plain SQL over a PgConnection; the connector
// (pg_source_connector.h) opens the connection.
//
// Tables are TableNames (table_name.h): schema and name, exact. Every name
// reaches the server as a parameter or quoted by quote_identifier, so a
// name needs no care from callers, whatever it holds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/relation.h"
#include "engine/status.h"
#include "live/pg_connection.h"
#include "live/table_name.h"

namespace walsim::live {

// The table `table` names (an ordinary or partitioned table; nullopt when
// there is none). relation.schema and relation.name are the catalog's, so
// two tables of one name in two schemas come back as two relations with
// their own relids. The key columns follow the replica identity as
// pgoutput flags them; generated columns are left out, as pgoutput leaves
// them out.
Result<std::optional<Relation>> describe_table(PgConnection& connection, const TableName& table);
// The same for a name in TableName's text form ("t", "s.t", "\"a.b\".t");
// kInvalidArgument when it does not parse.
Result<std::optional<Relation>> describe_table(PgConnection& connection, const std::string& name);

// Why a publication publishes a table, and since when: the catalog row
// that makes the table a member. The row is created by CREATE PUBLICATION
// or ALTER PUBLICATION ... ADD and deleted by ... DROP, so a table dropped
// from a publication and added back has a new row with a new oid: compare
// memberships (kind and oid) to tell "published all along" from "left and
// came back", which the stream does not say (it simply stops sending the
// table's changes meanwhile).
struct PublicationMembership {
  enum class Kind : uint8_t {
    kTable,      // FOR TABLE t (or a partition's root): oid is pg_publication_rel.oid
    kSchema,     // FOR TABLES IN SCHEMA s: oid is pg_publication_namespace.oid
    kAllTables,  // FOR ALL TABLES: no per-table row exists; oid is pg_publication.oid
  };
  Kind kind = Kind::kTable;
  uint32_t oid = 0;
  bool operator==(const PublicationMembership&) const = default;
};

const char* membership_kind_name(PublicationMembership::Kind kind);

struct PublishedTable {
  TableName table;
  uint32_t relid = 0;
  // The row filter as the server prints it (pg_publication_tables.rowfilter,
  // e.g. "(id > 5)"); nullopt when every row is published.
  std::optional<std::string> row_filter;
  // The column list (pg_publication_tables.attnames) when the publication
  // names one: the only columns the stream sends, in the table's column
  // order. nullopt when it sends every column (that is every column but
  // the generated ones, which pgoutput never sends).
  std::optional<std::vector<std::string>> column_list;
  PublicationMembership membership;
  bool operator==(const PublishedTable&) const = default;
};

struct Publication {
  std::string name;
  uint32_t oid = 0;
  bool all_tables = false;
  // Which changes it publishes (publish = '...'): a change kind it leaves
  // out never reaches the stream.
  bool publishes_insert = true;
  bool publishes_update = true;
  bool publishes_delete = true;
  bool publishes_truncate = true;
  bool via_partition_root = false;
  // Sorted by table (schema, then name).
  std::vector<PublishedTable> tables;

  // nullptr when the publication does not publish `table`.
  const PublishedTable* find(const TableName& table) const;
};

// What `publication` publishes right now; nullopt when it does not exist.
// On Postgres 13 and 14, which have no row filters, column lists or
// schema publications, every table has neither a filter nor a list.
// kUnsupported before Postgres 13.
Result<std::optional<Publication>> read_publication(PgConnection& connection,
                                                    const std::string& publication);

// kFailedPrecondition when `publication` leaves out a kind of change
// (publish = 'insert'): the store would keep rows the source updated,
// deleted or truncated. The message names the kinds.
Status check_publishes_every_change(const Publication& publication);

// kFailedPrecondition when `publication` publishes only part of `table`:
// a row filter or a column list (Postgres 15). walsim copies whole tables,
// so the store would hold rows and columns whose changes the stream never
// sends; the message names the filter and the list and how to publish the
// whole table.
Status check_published_whole(const Publication& publication, const PublishedTable& table);

// The publication exists, publishes every kind of change (insert, update,
// delete, truncate) and every named table (TableName text form), each
// whole (check_published_whole).
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
