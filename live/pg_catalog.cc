#include "live/pg_catalog.h"

#include <charconv>
#include <set>
#include <utility>

namespace walsim::live {

namespace {

struct TableName {
  std::string schema;
  std::string table;
  std::string qualified() const { return schema + "." + table; }
};

TableName split_table_name(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return {"public", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

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

}  // namespace

Result<std::optional<Relation>> describe_table(PgConnection& connection,
                                               const std::string& name) {
  TableName table = split_table_name(name);
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> found,
                          connection.query(kTableSql, {table.schema, table.table}));
  if (found.empty()) return std::optional<Relation>();
  Relation relation;
  relation.schema = table.schema;
  relation.name = table.table;
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

Status check_publication(PgConnection& connection, const std::string& publication,
                         const std::vector<std::string>& tables) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> published,
      connection.query(
          "SELECT p.pubname, t.schemaname || '.' || t.tablename FROM pg_publication p "
          "LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = $1",
          {publication}));
  if (published.empty()) {
    return Status(ErrorCode::kNotFound, "publication \"" + publication +
                                            "\" does not exist (CREATE PUBLICATION " +
                                            publication + " FOR TABLE ...)");
  }
  std::set<std::string> covered;
  for (const Row& row : published) covered.insert(row[1].text);
  std::string missing;
  for (const std::string& name : tables) {
    std::string qualified = split_table_name(name).qualified();
    if (!covered.count(qualified)) missing += (missing.empty() ? "" : ", ") + qualified;
  }
  if (missing.empty()) return Status::ok();
  return Status(ErrorCode::kFailedPrecondition, "publication \"" + publication +
                                                    "\" does not publish " + missing +
                                                    " (ALTER PUBLICATION ... ADD TABLE)");
}

// A table's membership: the pg_publication_rel row that put it in (a new
// oid once dropped and added again), or the schema entry or FOR ALL TABLES
// publication that covers it, with the table's own oid (a table dropped and
// re-created is a new member).
constexpr const char* kMembersSql = R"sql(
SELECT t.schemaname || '.' || t.tablename,
       coalesce('rel' || pr.oid::text, 'schema' || pn.oid::text, 'all' || p.oid::text)
         || ':' || c.oid::text
FROM pg_publication p
JOIN pg_publication_tables t ON t.pubname = p.pubname
JOIN pg_namespace n ON n.nspname = t.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
LEFT JOIN pg_publication_rel pr ON pr.prpubid = p.oid AND pr.prrelid = c.oid
LEFT JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid AND pn.pnnspid = n.oid
WHERE p.pubname = $1)sql";

Result<std::map<std::string, std::string>> publication_members(
    PgConnection& connection, const std::string& publication,
    const std::vector<std::string>& names) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> published,
                          connection.query(kMembersSql, {publication}));
  std::map<std::string, std::string> by_qualified;
  for (const Row& row : published) by_qualified[row[0].text] = row[1].text;
  std::map<std::string, std::string> members;
  for (const std::string& name : names) {
    auto found = by_qualified.find(split_table_name(name).qualified());
    if (found != by_qualified.end()) members[name] = found->second;
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
