#include "live/ctid_pager.h"

#include <utility>

namespace walsim::live {

namespace {

// "(12,3)": what the server prints for a tid. Checked here so that a bad
// cursor is the caller's error, not a server syntax error.
bool is_ctid_text(const std::string& text) {
  size_t comma = text.find(',');
  if (text.size() < 5 || text.front() != '(' || text.back() != ')' ||
      comma == std::string::npos) {
    return false;
  }
  for (size_t i = 1; i + 1 < text.size(); i++) {
    if (i != comma && (text[i] < '0' || text[i] > '9')) return false;
  }
  return comma > 1 && comma + 2 < text.size();
}

// relkind of the table; nullopt when no such table exists.
Result<std::optional<std::string>> relkind_of(PgConnection& connection, const Relation& table) {
  WALSIM_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      connection.query("SELECT c.relkind FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                       {table.schema, table.name}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front()[0].text);
}

Result<std::string> page_sql(PgConnection& connection, const Relation& table, bool after,
                             size_t limit) {
  std::string columns;
  for (const Column& column : table.columns) {
    WALSIM_ASSIGN_OR_RETURN(std::string quoted, connection.quote_identifier(column.name));
    columns += ", " + quoted;
  }
  WALSIM_ASSIGN_OR_RETURN(std::string schema, connection.quote_identifier(table.schema));
  WALSIM_ASSIGN_OR_RETURN(std::string name, connection.quote_identifier(table.name));
  return "SELECT ctid" + columns + " FROM " + schema + "." + name +
         (after ? " WHERE ctid > $1::tid" : "") + " ORDER BY ctid LIMIT " + std::to_string(limit);
}

}  // namespace

Result<CtidPage> read_ctid_page(PgConnection& connection, const Relation& table,
                                const std::optional<std::string>& after_ctid, size_t limit) {
  if (limit == 0) return Status(ErrorCode::kInvalidArgument, "read_ctid_page needs a limit > 0");
  if (after_ctid && !is_ctid_text(*after_ctid)) {
    return Status(ErrorCode::kInvalidArgument, "'" + *after_ctid + "' is not a ctid");
  }
  const std::string qualified = table.schema + "." + table.name;
  WALSIM_ASSIGN_OR_RETURN(std::optional<std::string> relkind, relkind_of(connection, table));
  if (!relkind) return Status(ErrorCode::kNotFound, "table " + qualified + " does not exist");
  if (*relkind != "r") {
    return Status(ErrorCode::kUnsupported,
                  "table " + qualified + " cannot be paged by ctid (relkind '" + *relkind +
                      "': only an ordinary table has unique ctids)");
  }
  WALSIM_ASSIGN_OR_RETURN(std::string sql, page_sql(connection, table, after_ctid.has_value(),
                                                    limit));
  std::vector<std::string> params;
  if (after_ctid) params.push_back(*after_ctid);
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows, connection.query(sql, params));
  WALSIM_ASSERT(rows.size() <= limit, "LIMIT bounds the page");
  CtidPage page;
  page.is_last = rows.size() < limit;
  for (Row& row : rows) {
    WALSIM_ASSERT(row.size() == table.columns.size() + 1, "ctid, then the relation's columns");
    WALSIM_ASSERT(row.front().is_text(), "every heap row has a ctid");
    page.ctids.push_back(std::move(row.front().text));
    page.rows.emplace_back(std::make_move_iterator(row.begin() + 1),
                           std::make_move_iterator(row.end()));
  }
  return page;
}

}  // namespace walsim::live
