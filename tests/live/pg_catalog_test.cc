// The catalog functions (pg_catalog.h, ctid_pager.h) against the real
// Postgres the test starts.
#include "live/pg_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "live/ctid_pager.h"
#include "live/pg_test_server.h"

namespace walsim::live {
namespace {

using testing::PgTestServer;

#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    ::walsim::Status assert_status_ = (expr);                          \
    ASSERT_TRUE(assert_status_.is_ok()) << assert_status_.to_string(); \
  } while (0)

// One server for the suite: each test uses its own schemas, tables and
// publications.
class PgCatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PgTestServer::binaries_available()) return;
    Result<std::unique_ptr<PgTestServer>> started = PgTestServer::start();
    if (started.is_ok()) {
      server_ = std::move(started).value();
    } else {
      start_error_ = started.status().to_string();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!PgTestServer::binaries_available()) {
      GTEST_SKIP() << "Postgres binaries not found in " << PgTestServer::bin_dir();
    }
    ASSERT_NE(server_, nullptr) << "cannot start Postgres: " << start_error_;
    Result<std::unique_ptr<PgConnection>> opened =
        PgConnection::open(server_->conninfo(), PgConnection::Mode::kNormal);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    connection_ = std::move(opened).value();
  }

  std::string value(const std::string& sql) {
    Result<std::string> result = server_->query_value(sql);
    EXPECT_TRUE(result.is_ok()) << sql << ": " << result.status().to_string();
    return result.is_ok() ? *result : "";
  }
  uint32_t oid(const std::string& sql) { return static_cast<uint32_t>(std::stoul(value(sql))); }

  Relation describe(const TableName& table) {
    Result<std::optional<Relation>> described = describe_table(*connection_, table);
    EXPECT_TRUE(described.is_ok()) << described.status().to_string();
    if (!described.is_ok() || !described->has_value()) {
      ADD_FAILURE() << table.to_string() << " not found";
      return Relation();
    }
    return **described;
  }

  Publication publication(const std::string& name) {
    Result<std::optional<Publication>> read = read_publication(*connection_, name);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    if (!read.is_ok() || !read->has_value()) {
      ADD_FAILURE() << "publication " << name << " not found";
      return Publication();
    }
    return **read;
  }

  static inline std::unique_ptr<PgTestServer> server_;
  static inline std::string start_error_;
  std::unique_ptr<PgConnection> connection_;
};

// ---- describe_table ---------------------------------------------------------

TEST_F(PgCatalogTest, TwoTablesOfOneNameInTwoSchemasAreTwoRelations) {
  ASSERT_OK(server_->exec(
      "CREATE SCHEMA twin_a; CREATE SCHEMA twin_b;"
      "CREATE TABLE twin_a.items (id int PRIMARY KEY, a text);"
      "CREATE TABLE twin_b.items (key text PRIMARY KEY, b int, c int)"));
  Relation a = describe({"twin_a", "items"});
  Relation b = describe({"twin_b", "items"});
  EXPECT_EQ(a.schema, "twin_a");
  EXPECT_EQ(b.schema, "twin_b");
  EXPECT_EQ(a.relid, oid("SELECT 'twin_a.items'::regclass::oid"));
  EXPECT_EQ(b.relid, oid("SELECT 'twin_b.items'::regclass::oid"));
  EXPECT_NE(a.relid, b.relid);
  EXPECT_EQ(a.columns, (std::vector<Column>{{"id", 23, true}, {"a", 25, false}}));
  EXPECT_EQ(b.columns,
            (std::vector<Column>{{"key", 25, true}, {"b", 23, false}, {"c", 23, false}}));
  // No public.items: the schema is part of the name.
  Result<std::optional<Relation>> public_items = describe_table(*connection_, "items");
  ASSERT_TRUE(public_items.is_ok()) << public_items.status().to_string();
  EXPECT_FALSE(public_items->has_value());
}

TEST_F(PgCatalogTest, DescribesNamesThatNeedQuotes) {
  ASSERT_OK(server_->exec(
      "CREATE SCHEMA \"My.App\";"
      "CREATE TABLE \"My.App\".\"To\"\"do\" (\"Id\" int PRIMARY KEY, \"a b\" text)"));
  Result<std::optional<Relation>> described =
      describe_table(*connection_, "\"My.App\".\"To\"\"do\"");
  ASSERT_TRUE(described.is_ok()) << described.status().to_string();
  ASSERT_TRUE(described->has_value());
  EXPECT_EQ((*described)->schema, "My.App");
  EXPECT_EQ((*described)->name, "To\"do");
  EXPECT_EQ((*described)->columns, (std::vector<Column>{{"Id", 23, true}, {"a b", 25, false}}));
  // Case-sensitive: my.app is another schema.
  Result<std::optional<Relation>> folded = describe_table(*connection_, TableName{"my.app", "To\"do"});
  ASSERT_TRUE(folded.is_ok());
  EXPECT_FALSE(folded->has_value());
  Result<std::optional<Relation>> malformed = describe_table(*connection_, "a.b.c");
  ASSERT_FALSE(malformed.is_ok());
  EXPECT_EQ(malformed.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(PgCatalogTest, ReplicaIdentityFollowsAlterTable) {
  ASSERT_OK(server_->exec("CREATE TABLE ident_items (id int PRIMARY KEY, code text NOT NULL, v int);"
                          "CREATE UNIQUE INDEX ident_code ON ident_items (code)"));
  EXPECT_EQ(describe({"public", "ident_items"}).identity, ReplicaIdentity::kDefault);
  ASSERT_OK(server_->exec("ALTER TABLE ident_items REPLICA IDENTITY USING INDEX ident_code"));
  Relation by_index = describe({"public", "ident_items"});
  EXPECT_EQ(by_index.identity, ReplicaIdentity::kIndex);
  EXPECT_EQ(by_index.key_indexes(), (std::vector<size_t>{1}));
  ASSERT_OK(server_->exec("ALTER TABLE ident_items REPLICA IDENTITY FULL"));
  Relation full = describe({"public", "ident_items"});
  EXPECT_EQ(full.identity, ReplicaIdentity::kFull);
  EXPECT_EQ(full.key_indexes(), (std::vector<size_t>{0, 1, 2}));
  ASSERT_OK(server_->exec("ALTER TABLE ident_items REPLICA IDENTITY NOTHING"));
  EXPECT_EQ(describe({"public", "ident_items"}).identity, ReplicaIdentity::kNothing);
}

// ---- read_publication --------------------------------------------------------

TEST_F(PgCatalogTest, MissingPublicationIsNullopt) {
  Result<std::optional<Publication>> read = read_publication(*connection_, "no_such_pub");
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_FALSE(read->has_value());
}

TEST_F(PgCatalogTest, ReadsRowFilterAndColumnList) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE filt_items (id int PRIMARY KEY, owner text, secret text, score int);"
      "CREATE TABLE filt_plain (id int PRIMARY KEY);"
      "CREATE PUBLICATION filt_pub FOR TABLE filt_items (id, owner, score) WHERE (score > 5), "
      "filt_plain WITH (publish = 'insert, update')"));
  Publication pub = publication("filt_pub");
  EXPECT_EQ(pub.oid, oid("SELECT oid FROM pg_publication WHERE pubname = 'filt_pub'"));
  EXPECT_FALSE(pub.all_tables);
  EXPECT_TRUE(pub.publishes_insert);
  EXPECT_TRUE(pub.publishes_update);
  EXPECT_FALSE(pub.publishes_delete);
  EXPECT_FALSE(pub.publishes_truncate);
  ASSERT_EQ(pub.tables.size(), 2u);
  const PublishedTable* items = pub.find({"public", "filt_items"});
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(items->relid, oid("SELECT 'filt_items'::regclass::oid"));
  EXPECT_EQ(items->row_filter, std::optional<std::string>("(score > 5)"));
  EXPECT_EQ(items->column_list, (std::optional<std::vector<std::string>>(
                                    std::vector<std::string>{"id", "owner", "score"})));
  EXPECT_EQ(items->membership.kind, PublicationMembership::Kind::kTable);
  EXPECT_EQ(items->membership.oid,
            oid("SELECT oid FROM pg_publication_rel WHERE prrelid = 'filt_items'::regclass"));
  const PublishedTable* plain = pub.find({"public", "filt_plain"});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->row_filter, std::nullopt);
  EXPECT_EQ(plain->column_list, std::nullopt);
  EXPECT_EQ(pub.find({"public", "no_such"}), nullptr);
}

TEST_F(PgCatalogTest, DropAndAddBackGivesANewMembership) {
  ASSERT_OK(server_->exec("CREATE TABLE member_items (id int PRIMARY KEY);"
                          "CREATE TABLE member_other (id int PRIMARY KEY);"
                          "CREATE PUBLICATION member_pub FOR TABLE member_items, member_other"));
  Publication before = publication("member_pub");
  ASSERT_NE(before.find({"public", "member_items"}), nullptr);
  ASSERT_OK(server_->exec("ALTER PUBLICATION member_pub DROP TABLE member_items"));
  Publication dropped = publication("member_pub");
  EXPECT_EQ(dropped.find({"public", "member_items"}), nullptr);
  ASSERT_EQ(dropped.tables.size(), 1u);
  ASSERT_OK(server_->exec("ALTER PUBLICATION member_pub ADD TABLE member_items"));
  Publication after = publication("member_pub");
  const PublishedTable* back = after.find({"public", "member_items"});
  ASSERT_NE(back, nullptr);
  // Same table, same relid, a new membership: it left and came back.
  EXPECT_EQ(back->relid, before.find({"public", "member_items"})->relid);
  EXPECT_NE(back->membership, before.find({"public", "member_items"})->membership);
  // The other table stayed all along.
  EXPECT_EQ(after.find({"public", "member_other"})->membership,
            before.find({"public", "member_other"})->membership);
}

// The seam's form (engine/source.h publication_members): a member's
// identity changes when it leaves and comes back, and when its table is
// dropped and re-created; a table out of the publication is absent.
TEST_F(PgCatalogTest, PublicationMembersChangeIdentityWhenATableLeavesAndComesBack) {
  ASSERT_OK(server_->exec("CREATE TABLE seam_items (id int PRIMARY KEY);"
                          "CREATE TABLE seam_other (id int PRIMARY KEY);"
                          "CREATE PUBLICATION seam_pub FOR TABLE seam_items, seam_other"));
  const std::vector<std::string> names = {"seam_items", "public.seam_other", "seam_absent"};
  auto before = publication_members(*connection_, "seam_pub", names);
  ASSERT_TRUE(before.is_ok()) << before.status().to_string();
  ASSERT_EQ(before->size(), 2u);
  ASSERT_OK(server_->exec("ALTER PUBLICATION seam_pub DROP TABLE seam_items"));
  auto dropped = publication_members(*connection_, "seam_pub", names);
  ASSERT_TRUE(dropped.is_ok());
  EXPECT_EQ(dropped->count("seam_items"), 0u);
  EXPECT_EQ(dropped->at("public.seam_other"), before->at("public.seam_other"));
  ASSERT_OK(server_->exec("ALTER PUBLICATION seam_pub ADD TABLE seam_items"));
  auto back = publication_members(*connection_, "seam_pub", names);
  ASSERT_TRUE(back.is_ok());
  ASSERT_EQ(back->count("seam_items"), 1u);
  EXPECT_NE(back->at("seam_items"), before->at("seam_items"));
  auto missing = publication_members(*connection_, "seam_no_such_pub", names);
  ASSERT_TRUE(missing.is_ok());
  EXPECT_TRUE(missing->empty());
}

TEST_F(PgCatalogTest, SchemaAndAllTablesMemberships) {
  ASSERT_OK(server_->exec("CREATE SCHEMA pubschema;"
                          "CREATE TABLE pubschema.one (id int PRIMARY KEY);"
                          "CREATE TABLE pubschema.two (id int PRIMARY KEY);"
                          "CREATE PUBLICATION schema_pub FOR TABLES IN SCHEMA pubschema;"
                          "CREATE PUBLICATION empty_pub;"
                          "CREATE PUBLICATION all_pub FOR ALL TABLES"));
  Publication by_schema = publication("schema_pub");
  ASSERT_EQ(by_schema.tables.size(), 2u);
  const uint32_t schema_row =
      oid("SELECT oid FROM pg_publication_namespace WHERE pnnspid = 'pubschema'::regnamespace");
  for (const PublishedTable& table : by_schema.tables) {
    EXPECT_EQ(table.table.schema, "pubschema");
    EXPECT_EQ(table.membership.kind, PublicationMembership::Kind::kSchema);
    EXPECT_EQ(table.membership.oid, schema_row);
  }
  EXPECT_EQ(by_schema.tables[0].table.name, "one");
  EXPECT_EQ(by_schema.tables[1].table.name, "two");

  EXPECT_TRUE(publication("empty_pub").tables.empty());

  Publication all = publication("all_pub");
  EXPECT_TRUE(all.all_tables);
  const PublishedTable* one = all.find({"pubschema", "one"});
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->membership.kind, PublicationMembership::Kind::kAllTables);
  EXPECT_EQ(one->membership.oid, all.oid);
  EXPECT_TRUE(std::is_sorted(all.tables.begin(), all.tables.end(),
                             [](const PublishedTable& a, const PublishedTable& b) {
                               return a.table < b.table;
                             }));
  ASSERT_OK(server_->exec("DROP PUBLICATION all_pub"));
}

TEST_F(PgCatalogTest, PartitionsArePublishedThroughTheirRoot) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE part_root (id int PRIMARY KEY) PARTITION BY RANGE (id);"
      "CREATE TABLE part_low PARTITION OF part_root FOR VALUES FROM (0) TO (100);"
      "CREATE PUBLICATION part_pub FOR TABLE part_root WITH (publish_via_partition_root)"));
  Publication pub = publication("part_pub");
  EXPECT_TRUE(pub.via_partition_root);
  ASSERT_EQ(pub.tables.size(), 1u);
  EXPECT_EQ(pub.tables[0].table, (TableName{"public", "part_root"}));
  EXPECT_EQ(pub.tables[0].membership.oid,
            oid("SELECT oid FROM pg_publication_rel WHERE prrelid = 'part_root'::regclass"));
  ASSERT_OK(server_->exec("ALTER PUBLICATION part_pub SET (publish_via_partition_root = false)"));
  Publication leaves = publication("part_pub");
  ASSERT_EQ(leaves.tables.size(), 1u);
  EXPECT_EQ(leaves.tables[0].table, (TableName{"public", "part_low"}));
  // The leaf is a member through its root's row.
  EXPECT_EQ(leaves.tables[0].membership, pub.tables[0].membership);
}

TEST_F(PgCatalogTest, CheckPublicationNamesTheMissingQualifiedTable) {
  ASSERT_OK(server_->exec("CREATE SCHEMA chk; CREATE TABLE chk.items (id int PRIMARY KEY);"
                          "CREATE TABLE chk_items (id int PRIMARY KEY);"
                          "CREATE PUBLICATION chk_pub FOR TABLE chk_items"));
  ASSERT_OK(check_publication(*connection_, "chk_pub", {"chk_items", "public.chk_items"}));
  Status missing = check_publication(*connection_, "chk_pub", {"chk_items", "chk.items"});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("chk.items"), std::string::npos) << missing.message();
  Status no_pub = check_publication(*connection_, "chk_nopub", {"chk_items"});
  EXPECT_EQ(no_pub.code(), ErrorCode::kNotFound) << no_pub.to_string();
}

TEST_F(PgCatalogTest, CheckPublicationRefusesAPartlyPublishedTable) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE part_filtered (id int PRIMARY KEY, v text);"
      "CREATE TABLE part_listed (id int PRIMARY KEY, v text, w text);"
      "CREATE TABLE part_whole (id int PRIMARY KEY);"
      "CREATE PUBLICATION partly_pub FOR TABLE part_filtered WHERE (id > 3), "
      "part_listed (id, v), part_whole"));
  ASSERT_OK(check_publication(*connection_, "partly_pub", {"part_whole"}));
  Status filtered = check_publication(*connection_, "partly_pub", {"part_whole", "part_filtered"});
  EXPECT_EQ(filtered.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(filtered.message(),
            "publication \"partly_pub\" publishes only part of table part_filtered (row filter "
            "WHERE (id > 3)): walsim copies whole tables, so the store would hold rows and "
            "columns whose changes the stream never sends; publish the whole table (ALTER "
            "PUBLICATION partly_pub DROP TABLE part_filtered, then ADD TABLE part_filtered)");
  ASSERT_OK(server_->exec("CREATE PUBLICATION inserts_pub FOR TABLE part_whole "
                          "WITH (publish = 'insert, delete')"));
  Status inserts = check_publication(*connection_, "inserts_pub", {"part_whole"});
  EXPECT_EQ(inserts.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(inserts.message().find("does not publish update, truncate: the store would keep"),
            std::string::npos)
      << inserts.message();
  Status listed = check_publication(*connection_, "partly_pub", {"part_listed"});
  EXPECT_EQ(listed.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(listed.message().find("part_listed (column list id, v)"), std::string::npos)
      << listed.message();
}

// ---- read_ctid_page ----------------------------------------------------------

TEST_F(PgCatalogTest, CtidPagesReadDuplicatesAndNullsOnce) {
  // 25 rows under FULL identity: each of 10 values twice, NULLs in both
  // columns, and 5 rows that are all NULL.
  ASSERT_OK(server_->exec(
      "CREATE TABLE full_items (a int, b text);"
      "ALTER TABLE full_items REPLICA IDENTITY FULL;"
      "INSERT INTO full_items SELECT i % 10, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || (i % 10) END "
      "FROM generate_series(0, 19) i;"
      "INSERT INTO full_items SELECT NULL, NULL FROM generate_series(1, 5)"));
  Relation table = describe({"public", "full_items"});
  ASSERT_EQ(table.identity, ReplicaIdentity::kFull);
  std::vector<std::string> copied;
  std::optional<std::string> after;
  int pages = 0;
  for (bool last = false; !last; pages++) {
    ASSERT_LT(pages, 10) << "the pager does not advance";
    Result<CtidPage> page = read_ctid_page(*connection_, table, after, 10);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    ASSERT_EQ(page->rows.size(), page->ctids.size());
    for (const Row& row : page->rows) {
      ASSERT_EQ(row.size(), 2u);
      copied.push_back((row[0].is_null() ? "NULL" : row[0].text) + "|" +
                       (row[1].is_null() ? "NULL" : row[1].text));
    }
    if (!page->ctids.empty()) after = page->ctids.back();
    last = page->is_last;
  }
  EXPECT_EQ(pages, 3);
  Result<std::vector<Row>> source = server_->query(
      "SELECT coalesce(a::text, 'NULL') || '|' || coalesce(b, 'NULL') FROM full_items");
  ASSERT_TRUE(source.is_ok());
  std::vector<std::string> expected;
  for (const Row& row : *source) expected.push_back(row[0].text);
  ASSERT_EQ(expected.size(), 25u);
  std::sort(copied.begin(), copied.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(copied, expected);
}

TEST_F(PgCatalogTest, CtidPagerRefusesWhatItCannotPage) {
  ASSERT_OK(server_->exec("CREATE TABLE ctid_part (id int) PARTITION BY RANGE (id);"
                          "CREATE TABLE ctid_plain (id int)"));
  Relation plain = describe({"public", "ctid_plain"});
  EXPECT_EQ(read_ctid_page(*connection_, plain, std::nullopt, 0).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(read_ctid_page(*connection_, plain, std::string("(1;2)"), 10).status().code(),
            ErrorCode::kInvalidArgument);
  Result<CtidPage> empty = read_ctid_page(*connection_, plain, std::string("(0,1)"), 10);
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  EXPECT_TRUE(empty->is_last);
  EXPECT_TRUE(empty->rows.empty());
  Relation part = describe({"public", "ctid_part"});
  EXPECT_EQ(read_ctid_page(*connection_, part, std::nullopt, 10).status().code(),
            ErrorCode::kUnsupported);
  ASSERT_OK(server_->exec("DROP TABLE ctid_plain"));
  EXPECT_EQ(read_ctid_page(*connection_, plain, std::nullopt, 10).status().code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace walsim::live
