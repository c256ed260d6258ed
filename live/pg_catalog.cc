#include "live/pg_catalog.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace walsim::live {

namespace {

Result<uint32_t> parse_oid(const Value& value) {
  uint32_t oid = 0;
  const std::string& text = value.text;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), oid);
  if (!value.is_text() || error != std::errc() || end != text.data() + text.size()) {
    return Status(ErrorCode::kCorrupt, "expected an oid from the server, got \"" + text + "\"");
  }
  return oid;
}

ReplicaIdentity identity_from_code(const std::string& code) {
  if (code == "f") return ReplicaIdentity::kFull;
  if (code == "i") return ReplicaIdentity::kIndex;
  if (code == "n") return ReplicaIdentity::kNothing;
  return ReplicaIdentity::kDefault;
}

// The key columns follow the replica identity, as pgoutput flags them:
// d -> primary key, i -> the identity index, f -> every column, n -> none.
// Generated columns are left out because pgoutput leaves them out.
constexpr const char* kColumnsSql = R"sql(
SELECT a.attname, a.atttypid,
       CASE c.relreplident
         WHEN 'f' THEN true
         WHEN 'n' THEN false
         ELSE EXISTS (SELECT 1 FROM pg_index i
                      WHERE i.indrelid = c.oid
                        AND CASE c.relreplident WHEN 'd' THEN i.indisprimary
                                                ELSE i.indisreplident END
                        AND a.attnum = ANY (i.indkey))
       END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum)sql";

constexpr const char* kTableSql = R"sql(
SELECT c.oid, c.relreplident
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p'))sql";


// One row per published column of a column list, or one per table without
// a list, or one for a publication without tables; the publication's own
// columns repeat on every row, so one statement (one catalog snapshot)
// says everything. Membership: the table's own pg_publication_rel row (or
// its nearest partition ancestor's), else the pg_publication_namespace row
// of its schema (or an ancestor's), else FOR ALL TABLES.
// {ROWFILTER}, {ATTNAMES} and {NAMESPACE_OID} differ before Postgres 15.
constexpr const char* kPublicationSql = R"sql(
SELECT p.oid, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate,
       p.pubviaroot, t.schemaname, t.tablename, c.oid, {ROWFILTER}, rel.oid, rel.has_list,
       ns.oid, col.name
FROM pg_publication p
LEFT JOIN (pg_publication_tables t
           JOIN pg_namespace n ON n.nspname = t.schemaname
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename)
       ON t.pubname = p.pubname
LEFT JOIN LATERAL (
  SELECT pr.oid, pr.prattrs IS NOT NULL AS has_list
  FROM pg_publication_rel pr
  WHERE pr.prpubid = p.oid
    AND (pr.prrelid = c.oid OR pr.prrelid IN (SELECT relid FROM pg_partition_ancestors(c.oid)))
  ORDER BY pr.prrelid = c.oid DESC LIMIT 1) rel ON true
LEFT JOIN LATERAL (SELECT {NAMESPACE_OID} AS oid) ns ON true
LEFT JOIN LATERAL unnest(CASE WHEN rel.has_list THEN {ATTNAMES} END)
       WITH ORDINALITY AS col(name, position) ON true
WHERE p.pubname = $1
ORDER BY t.schemaname, t.tablename, col.position)sql";

constexpr const char* kNamespaceOid15 = R"sql((
    SELECT pn.oid FROM pg_publication_namespace pn
    WHERE pn.pnpubid = p.oid
      AND pn.pnnspid IN (SELECT a.relnamespace FROM pg_class a
                         WHERE a.oid = c.oid
                            OR a.oid IN (SELECT relid FROM pg_partition_ancestors(c.oid)))
    ORDER BY pn.oid LIMIT 1))sql";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// kPublicationSql for a server of `version_num` (server_version_num).
Result<std::string> publication_sql(int64_t version_num) {
  if (version_num < 130000) {
    return Status(ErrorCode::kUnsupported,
                  "reading a publication's details needs Postgres 13 or later (the server is " +
                      std::to_string(version_num) + ")");
  }
  const bool pg15 = version_num >= 150000;
  std::string sql = kPublicationSql;
  sql = replace_all(sql, "{ROWFILTER}", pg15 ? "t.rowfilter" : "NULL::text");
  sql = replace_all(sql, "{ATTNAMES}", pg15 ? "t.attnames" : "NULL::name[]");
  sql = replace_all(sql, "{NAMESPACE_OID}", pg15 ? kNamespaceOid15 : "NULL::oid");
  return sql;
}

Result<int64_t> server_version_num(PgConnection& connection) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows,
                          connection.query("SELECT current_setting('server_version_num')"));
  int64_t version = 0;
  const std::string text = rows.size() == 1 ? rows.front()[0].text : "";
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Status(ErrorCode::kCorrupt, "unexpected server_version_num \"" + text + "\"");
  }
  return version;
}

Result<PublicationMembership> membership_of(const Row& row, uint32_t publication_oid,
                                            bool all_tables) {
  if (row[11].is_text()) {
    WALSIM_ASSIGN_OR_RETURN(uint32_t oid, parse_oid(row[11]));
    return PublicationMembership{PublicationMembership::Kind::kTable, oid};
  }
  if (row[13].is_text()) {
    WALSIM_ASSIGN_OR_RETURN(uint32_t oid, parse_oid(row[13]));
    return PublicationMembership{PublicationMembership::Kind::kSchema, oid};
  }
  if (all_tables) return PublicationMembership{PublicationMembership::Kind::kAllTables, publication_oid};
  return Status(ErrorCode::kCorrupt, "cannot tell why the publication publishes " + row[7].text +
                                         "." + row[8].text);
}

// One kPublicationSql row into `publication`: a new table, or the next
// column of the last one's list.
Status add_publication_row(const Row& row, Publication& publication) {
  WALSIM_ASSERT(row.size() == 15, "kPublicationSql's columns");
  if (!row[7].is_text()) return Status::ok();  // a publication without tables
  TableName table{row[7].text, row[8].text};
  if (publication.tables.empty() || publication.tables.back().table != table) {
    PublishedTable published;
    published.table = std::move(table);
    WALSIM_ASSIGN_OR_RETURN(published.relid, parse_oid(row[9]));
    if (row[10].is_text()) published.row_filter = row[10].text;
    if (row[12].text == "t") published.column_list.emplace();
    WALSIM_ASSIGN_OR_RETURN(published.membership,
                            membership_of(row, publication.oid, publication.all_tables));
    publication.tables.push_back(std::move(published));
  }
  PublishedTable& last = publication.tables.back();
  if (row[14].is_text()) {
    if (!last.column_list) return Status(ErrorCode::kCorrupt, "a column without a column list");
    last.column_list->push_back(row[14].text);
  }
  return Status::ok();
}

// read_publication needs Postgres 13; row filters and column lists exist
// from 15 on (before, every table is published whole).
Status check_tables_whole(PgConnection& connection, const std::string& publication,
                          const std::vector<std::string>& tables) {
  WALSIM_ASSIGN_OR_RETURN(int64_t version, server_version_num(connection));
  if (version < 130000) return Status::ok();
  WALSIM_ASSIGN_OR_RETURN(std::optional<Publication> published,
                          read_publication(connection, publication));
  if (!published) return Status(ErrorCode::kNotFound, "publication \"" + publication + "\" is gone");
  WALSIM_RETURN_IF_ERROR(check_publishes_every_change(*published));
  for (const std::string& name : tables) {
    WALSIM_ASSIGN_OR_RETURN(TableName table, parse_table_name(name));
    // Gone since check_publication's own query: an ALTER in between.
    const PublishedTable* entry = published->find(table);
    if (entry == nullptr) {
      return Status(ErrorCode::kFailedPrecondition, "publication \"" + publication +
                                                        "\" stopped publishing " +
                                                        table.to_string() + " just now");
    }
    WALSIM_RETURN_IF_ERROR(check_published_whole(*published, *entry));
  }
  return Status::ok();
}

}  // namespace

Result<std::optional<Relation>> describe_table(PgConnection& connection,
                                               const TableName& table) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> found,
                          connection.query(kTableSql, {table.schema, table.name}));
  if (found.empty()) return std::optional<Relation>();
  WALSIM_ASSERT(found.size() == 1, "pg_class is unique on (relnamespace, relname)");
  Relation relation;
  relation.schema = table.schema;
  relation.name = table.name;
  WALSIM_ASSIGN_OR_RETURN(relation.relid, parse_oid(found.front()[0]));
  relation.identity = identity_from_code(found.front()[1].text);
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> columns,
                          connection.query(kColumnsSql, {std::to_string(relation.relid)}));
  for (const Row& row : columns) {
    WALSIM_ASSIGN_OR_RETURN(uint32_t type_oid, parse_oid(row[1]));
    relation.columns.push_back(Column{row[0].text, type_oid, row[2].text == "t"});
  }
  // kColumnsSql's CASE: FULL keys every column, NOTHING none.
  WALSIM_ASSERT(relation.identity != ReplicaIdentity::kFull ||
                relation.key_indexes().size() == relation.columns.size());
  WALSIM_ASSERT(relation.identity != ReplicaIdentity::kNothing || relation.key_indexes().empty());
  return std::optional<Relation>(std::move(relation));
}

Result<std::optional<Relation>> describe_table(PgConnection& connection,
                                               const std::string& name) {
  WALSIM_ASSIGN_OR_RETURN(TableName table, parse_table_name(name));
  return describe_table(connection, table);
}

const char* membership_kind_name(PublicationMembership::Kind kind) {
  switch (kind) {
    case PublicationMembership::Kind::kTable: return "table";
    case PublicationMembership::Kind::kSchema: return "schema";
    case PublicationMembership::Kind::kAllTables: return "all tables";
  }
  return "unknown";
}

const PublishedTable* Publication::find(const TableName& table) const {
  for (const PublishedTable& published : tables) {
    if (published.table == table) return &published;
  }
  return nullptr;
}

Result<std::optional<Publication>> read_publication(PgConnection& connection,
                                                    const std::string& publication) {
  WALSIM_ASSIGN_OR_RETURN(int64_t version, server_version_num(connection));
  WALSIM_ASSIGN_OR_RETURN(std::string sql, publication_sql(version));
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows, connection.query(sql, {publication}));
  if (rows.empty()) return std::optional<Publication>();
  Publication result;
  result.name = publication;
  const Row& first = rows.front();
  WALSIM_ASSIGN_OR_RETURN(result.oid, parse_oid(first[0]));
  result.all_tables = first[1].text == "t";
  result.publishes_insert = first[2].text == "t";
  result.publishes_update = first[3].text == "t";
  result.publishes_delete = first[4].text == "t";
  result.publishes_truncate = first[5].text == "t";
  result.via_partition_root = first[6].text == "t";
  for (const Row& row : rows) WALSIM_RETURN_IF_ERROR(add_publication_row(row, result));
  // ORDER BY schemaname, tablename: sorted, each table once. (The server
  // sorts by its collation; TableName compares bytes, so sort again.)
  std::sort(result.tables.begin(), result.tables.end(),
            [](const PublishedTable& a, const PublishedTable& b) { return a.table < b.table; });
  WALSIM_ASSERT(std::adjacent_find(result.tables.begin(), result.tables.end(),
                                   [](const PublishedTable& a, const PublishedTable& b) {
                                     return a.table == b.table;
                                   }) == result.tables.end(),
                "one entry per table");
  return std::optional<Publication>(std::move(result));
}

Status check_publication(PgConnection& connection, const std::string& publication,
                         const std::vector<std::string>& tables) {
  // Plain pg_publication_tables, which every version with logical
  // replication has (read_publication needs 13 or later).
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> published,
      connection.query("SELECT p.pubname, t.schemaname, t.tablename FROM pg_publication p "
                       "LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname "
                       "WHERE p.pubname = $1",
                       {publication}));
  if (published.empty()) {
    return Status(ErrorCode::kNotFound, "publication \"" + publication +
                                            "\" does not exist (CREATE PUBLICATION " +
                                            publication + " FOR TABLE ...)");
  }
  std::set<TableName> covered;
  for (const Row& row : published) {
    if (row[1].is_text()) covered.insert(TableName{row[1].text, row[2].text});
  }
  std::string missing;
  for (const std::string& name : tables) {
    WALSIM_ASSIGN_OR_RETURN(TableName table, parse_table_name(name));
    if (covered.count(table)) continue;
    missing += (missing.empty() ? "" : ", ") + table.schema + "." + table.name;
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kFailedPrecondition, "publication \"" + publication +
                                                      "\" does not publish " + missing +
                                                      " (ALTER PUBLICATION ... ADD TABLE)");
  }
  return check_tables_whole(connection, publication, tables);
}

Status check_publishes_every_change(const Publication& publication) {
  std::string missing;
  auto note = [&](bool published, const char* kind) {
    if (!published) missing += (missing.empty() ? "" : ", ") + std::string(kind);
  };
  note(publication.publishes_insert, "insert");
  note(publication.publishes_update, "update");
  note(publication.publishes_delete, "delete");
  note(publication.publishes_truncate, "truncate");
  if (missing.empty()) return Status::ok();
  return Status(ErrorCode::kFailedPrecondition,
                "publication \"" + publication.name + "\" does not publish " + missing +
                    ": the store would keep rows those changes alter (ALTER PUBLICATION " +
                    publication.name + " SET (publish = 'insert, update, delete, truncate'))");
}

Status check_published_whole(const Publication& publication, const PublishedTable& table) {
  WALSIM_ASSERT(publication.find(table.table) == &table, "a table of this publication");
  if (!table.row_filter && !table.column_list) return Status::ok();
  std::string parts;
  if (table.row_filter) parts = "row filter WHERE " + *table.row_filter;
  if (table.column_list) {
    std::string columns;
    for (const std::string& column : *table.column_list) {
      columns += (columns.empty() ? "" : ", ") + column;
    }
    parts += (parts.empty() ? "" : "; ") + std::string("column list ") + columns;
  }
  const std::string name = table.table.to_string();
  return Status(ErrorCode::kFailedPrecondition,
                "publication \"" + publication.name + "\" publishes only part of table " + name +
                    " (" + parts + "): walsim copies whole tables, so the store would hold rows "
                    "and columns whose changes the stream never sends; publish the whole table "
                    "(ALTER PUBLICATION " + publication.name + " DROP TABLE " + name +
                    ", then ADD TABLE " + name + ")");
}

// read_publication() in the seam's form: the membership's kind and oid and
// the table's oid, so a table dropped from the publication and added back,
// or dropped and re-created under a schema or FOR ALL TABLES publication,
// is a new member.
Result<std::map<std::string, std::string>> publication_members(
    PgConnection& connection, const std::string& publication,
    const std::vector<std::string>& names) {
  WALSIM_ASSIGN_OR_RETURN(std::optional<Publication> published,
                          read_publication(connection, publication));
  std::map<std::string, std::string> members;
  if (!published) return members;  // no publication: no table is a member
  for (const std::string& name : names) {
    WALSIM_ASSIGN_OR_RETURN(TableName parsed, parse_table_name(name));
    const PublishedTable* table = published->find(parsed);
    if (table == nullptr) continue;
    members[name] = std::string(membership_kind_name(table->membership.kind)) + ":" +
                    std::to_string(table->membership.oid) + ":" + std::to_string(table->relid);
  }
  WALSIM_ASSERT(members.size() <= names.size());
  return members;
}

Status check_server(PgConnection& connection) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.query("SELECT current_setting('wal_level'), rolreplication OR rolsuper, "
                       "current_user FROM pg_roles WHERE rolname = current_user"));
  if (rows.size() != 1) return Status(ErrorCode::kCorrupt, "cannot read the server settings");
  const Row& row = rows.front();
  if (row[0].text != "logical") {
    return Status(ErrorCode::kFailedPrecondition,
                  "wal_level is '" + row[0].text +
                      "'; logical replication needs wal_level=logical");
  }
  if (row[1].text != "t") {
    return Status(ErrorCode::kFailedPrecondition,
                  "role \"" + row[2].text + "\" lacks the REPLICATION privilege (ALTER ROLE " +
                      row[2].text + " WITH REPLICATION)");
  }
  return Status::ok();
}

}  // namespace walsim::live
