#include "live/pg_source_connector.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "live/pg_slot_admin.h"
#include "live/pg_table_reader.h"
#include "live/pg_test_server.h"
#include "live/wall_clock.h"

namespace walsim::live {
namespace {

using testing::PgTestServer;
using namespace std::chrono_literals;

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    ::walsim::Status assert_status_ = (expr);                \
    ASSERT_TRUE(assert_status_.is_ok()) << assert_status_.to_string(); \
  } while (0)

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t now_ms() override { return now_ms_; }
  void advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void wait_readable(int socket, int timeout_ms) {
  pollfd fd{socket, POLLIN, 0};
  ::poll(&fd, 1, timeout_ms);
}

// Polls `stream` until `want` messages other than keepalives arrived (or
// 20 s passed, which fails the test through the size check of the caller).
std::vector<ChangeMessage> read_changes(PgChangeStream& stream, size_t want) {
  std::vector<ChangeMessage> changes;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (changes.size() < want && std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<ChangeMessage>> next = stream.next();
    if (!next.is_ok()) {
      ADD_FAILURE() << next.status().to_string();
      break;
    }
    if (!next->has_value()) {
      wait_readable(stream.socket(), 100);
    } else if (!std::holds_alternative<KeepaliveMessage>(**next)) {
      changes.push_back(std::move(**next));
    }
  }
  return changes;
}

std::string kinds(const std::vector<ChangeMessage>& changes) {
  std::string out;
  for (const ChangeMessage& change : changes) out += describe(change) + "\n";
  return out;
}

// A server shared by the suite: each test uses its own tables, slots and
// publications, so starting one server per test would only cost time.
class PgSourceTest : public ::testing::Test {
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
      // CI sets WALSIM_REQUIRE_POSTGRES=1: there, no Postgres is a broken CI, not a skip.
      const char* required = std::getenv("WALSIM_REQUIRE_POSTGRES");
      if (required && std::string(required) == "1") {
        FAIL() << "WALSIM_REQUIRE_POSTGRES=1 and no Postgres binaries in " << PgTestServer::bin_dir();
      }
      GTEST_SKIP() << "Postgres binaries not found in " << PgTestServer::bin_dir();
    }
    ASSERT_NE(server_, nullptr) << "cannot start Postgres: " << start_error_;
  }

  PgSourceConnector connector(const std::string& slot, const std::string& publication) {
    return PgSourceConnector(server_->conninfo(), slot, publication, &clock_);
  }

  // Asks until the reader answers: it reads on a thread of its own and
  // answers "not ready" meanwhile; the connector's wakeup fd says when an
  // answer is in.
  template <typename T>
  static Result<T> answer_of(PgSourceConnector& source,
                             const std::function<Result<std::optional<T>>()>& ask) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      Result<std::optional<T>> answer = ask();
      if (!answer.is_ok()) return answer.status();
      if (*answer) return std::move(**answer);
      if (std::chrono::steady_clock::now() > deadline) {
        return Status(ErrorCode::kIoError, "no answer from the reader in 20 s");
      }
      wait_readable(source.wakeup().fd(), 100);
      source.wakeup().drain();
    }
  }
  static Result<TableChunk> read_chunk(PgSourceConnector& source, TableReader& reader,
                                       const Relation& table, const std::optional<Row>& after,
                                       size_t limit) {
    return answer_of<TableChunk>(
        source, [&] { return reader.read_chunk(table, after, std::nullopt, limit); });
  }
  static Result<TableChunk> read_chunk_until(PgSourceConnector& source, TableReader& reader,
                                             const Relation& table,
                                             const std::optional<Row>& after,
                                             const std::optional<Row>& until, size_t limit) {
    return answer_of<TableChunk>(source,
                                 [&] { return reader.read_chunk(table, after, until, limit); });
  }
  static Result<Lsn> current_lsn(PgSourceConnector& source, TableReader& reader) {
    return answer_of<Lsn>(source, [&] { return reader.current_lsn(); });
  }

  std::string value(const std::string& sql) {
    Result<std::string> result = server_->query_value(sql);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    return result.is_ok() ? *result : "";
  }

  uint32_t oid_of(const std::string& table) {
    return static_cast<uint32_t>(std::stoul(value("SELECT '" + table + "'::regclass::oid")));
  }

  // A new stream can take the slot only once the previous stream's server
  // process has exited: retry while the error says so.
  std::unique_ptr<PgChangeStream> open_stream(PgSourceConnector& source) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      Result<std::unique_ptr<PgChangeStream>> stream = source.open_pg_stream();
      if (stream.is_ok()) return std::move(stream).value();
      if (!stream.status().is_retryable() || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << stream.status().to_string();
        return nullptr;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  // Waits until `sql` returns `expected` (the server applies status
  // updates asynchronously).
  void expect_eventually(const std::string& sql, const std::string& expected,
                         PgChangeStream* stream = nullptr) {
    std::string last;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      if (stream) (void)stream->next().is_ok();  // keep the stream serviced
      last = value(sql);
      if (last == expected) return;
    }
    ADD_FAILURE() << sql << " returned " << last << ", want " << expected;
  }

  static inline std::unique_ptr<PgTestServer> server_;
  static inline std::string start_error_;
  WallClock clock_;
};

// ---- describe_tables -------------------------------------------------------

TEST_F(PgSourceTest, DescribesPrimaryKeyTable) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE pk_items (name text, gone int, created timestamptz, id int, "
      "  total int GENERATED ALWAYS AS (id * 2) STORED, PRIMARY KEY (id));"
      "ALTER TABLE pk_items DROP COLUMN gone"));
  PgSourceConnector source = connector("unused", "unused");
  Result<std::vector<Relation>> relations =
      source.describe_tables({"pk_items", "public.no_such_table"});
  ASSERT_TRUE(relations.is_ok()) << relations.status().to_string();
  ASSERT_EQ(relations->size(), 1u);
  Relation expected;
  expected.relid = oid_of("pk_items");
  expected.schema = "public";
  expected.name = "pk_items";
  expected.identity = ReplicaIdentity::kDefault;
  // Dropped and generated columns are not there, as pgoutput leaves them out.
  expected.columns = {{"name", 25, false}, {"created", 1184, false}, {"id", 23, true}};
  EXPECT_EQ(relations->front(), expected);
}

TEST_F(PgSourceTest, DescribesFullAndIndexIdentities) {
  ASSERT_OK(server_->exec(
      "CREATE SCHEMA other;"
      "CREATE TABLE other.full_items (a int PRIMARY KEY, b text);"
      "ALTER TABLE other.full_items REPLICA IDENTITY FULL;"
      "CREATE TABLE index_items (id int PRIMARY KEY, code text NOT NULL, note text);"
      "CREATE UNIQUE INDEX index_items_code ON index_items (code);"
      "ALTER TABLE index_items REPLICA IDENTITY USING INDEX index_items_code;"
      "CREATE TABLE no_identity (a int);"
      "ALTER TABLE no_identity REPLICA IDENTITY NOTHING"));
  PgSourceConnector source = connector("unused", "unused");
  Result<std::vector<Relation>> relations =
      source.describe_tables({"other.full_items", "index_items", "no_identity"});
  ASSERT_TRUE(relations.is_ok()) << relations.status().to_string();
  ASSERT_EQ(relations->size(), 3u);
  const Relation& full = (*relations)[0];
  EXPECT_EQ(full.schema, "other");
  EXPECT_EQ(full.relid, oid_of("other.full_items"));
  EXPECT_EQ(full.identity, ReplicaIdentity::kFull);
  EXPECT_EQ(full.columns, (std::vector<Column>{{"a", 23, true}, {"b", 25, true}}));
  const Relation& index = (*relations)[1];
  EXPECT_EQ(index.identity, ReplicaIdentity::kIndex);
  EXPECT_EQ(index.key_indexes(), (std::vector<size_t>{1}));
  const Relation& nothing = (*relations)[2];
  EXPECT_EQ(nothing.identity, ReplicaIdentity::kNothing);
  EXPECT_TRUE(nothing.key_indexes().empty());
}

// ---- table reads -----------------------------------------------------------

TEST_F(PgSourceTest, ReadsChunksInKeyOrder) {
  // 25 rows with a two-column key, inserted out of key order.
  ASSERT_OK(server_->exec(
      "CREATE TABLE chunky (a int, b text, v text, PRIMARY KEY (a, b));"
      "INSERT INTO chunky SELECT i / 3, 'k' || (i % 3), CASE WHEN i % 5 = 0 THEN NULL "
      "  ELSE 'v' || i END FROM generate_series(0, 24) i ORDER BY md5(i::text)"));
  PgSourceConnector source = connector("unused", "unused");
  Result<std::vector<Relation>> relations = source.describe_tables({"chunky"});
  ASSERT_TRUE(relations.is_ok() && relations->size() == 1) << relations.status().to_string();
  const Relation& table = relations->front();
  Result<std::unique_ptr<TableReader>> reader = source.open_table_reader();
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  Lsn before = *Lsn::parse(value("SELECT pg_current_wal_lsn()"));

  std::vector<Row> rows;
  std::vector<size_t> sizes;
  std::vector<bool> last;
  std::optional<Row> after;
  for (int i = 0; i < 3; i++) {
    Result<TableChunk> chunk = read_chunk(source, **reader, table, after, 10);
    ASSERT_TRUE(chunk.is_ok()) << chunk.status().to_string();
    EXPECT_GE(chunk->consistent_lsn, before);
    sizes.push_back(chunk->rows.size());
    last.push_back(chunk->is_last);
    rows.insert(rows.end(), chunk->rows.begin(), chunk->rows.end());
    if (!chunk->rows.empty()) after = table.key_of(chunk->rows.back());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  EXPECT_EQ(last, (std::vector<bool>{false, false, true}));
  ASSERT_EQ(rows.size(), 25u);
  for (int i = 0; i < 25; i++) {
    Row expected{Value::of(std::to_string(i / 3)), Value::of("k" + std::to_string(i % 3)),
                 i % 5 == 0 ? Value::null() : Value::of("v" + std::to_string(i))};
    EXPECT_EQ(rows[i], expected) << i;
  }
}

TEST_F(PgSourceTest, FullLastChunkIsFollowedByAnEmptyLastChunk) {
  ASSERT_OK(server_->exec("CREATE TABLE twenty (id int PRIMARY KEY);"
                          "INSERT INTO twenty SELECT generate_series(1, 20)"));
  PgSourceConnector source = connector("unused", "unused");
  Relation table = source.describe_tables({"twenty"})->front();
  auto reader = std::move(source.open_table_reader()).value();
  Result<TableChunk> first = read_chunk(source, *reader, table, std::nullopt, 10);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  Result<TableChunk> second = read_chunk(source, *reader, table, Row{Value::of("10")}, 10);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  Result<TableChunk> third = read_chunk(source, *reader, table, Row{Value::of("20")}, 10);
  ASSERT_TRUE(third.is_ok()) << third.status().to_string();
  EXPECT_EQ(first->rows.size(), 10u);
  EXPECT_FALSE(first->is_last);
  EXPECT_EQ(second->rows.size(), 10u);
  EXPECT_FALSE(second->is_last);
  EXPECT_TRUE(third->rows.empty());
  EXPECT_TRUE(third->is_last);
}

TEST_F(PgSourceTest, QuotesIdentifiersAndKeepsOutputText) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE \"Mixed Case\" (\"select\" text PRIMARY KEY, \"we\"\"ird\" char(4));"
      "INSERT INTO \"Mixed Case\" VALUES ('b', 'x'), ('a''s', NULL)"));
  PgSourceConnector source = connector("unused", "unused");
  Result<std::vector<Relation>> relations = source.describe_tables({"Mixed Case"});
  ASSERT_TRUE(relations.is_ok() && relations->size() == 1) << relations.status().to_string();
  auto reader = std::move(source.open_table_reader()).value();
  Result<TableChunk> chunk =
      read_chunk(source, *reader, relations->front(), Row{Value::of("a")}, 10);
  ASSERT_TRUE(chunk.is_ok()) << chunk.status().to_string();
  // char(4) keeps its padding, as pgoutput sends it.
  EXPECT_EQ(chunk->rows, (std::vector<Row>{{Value::of("a's"), Value::null()},
                                           {Value::of("b"), Value::of("x   ")}}));
}

TEST_F(PgSourceTest, RejectsBadChunkRequests) {
  ASSERT_OK(server_->exec("CREATE TABLE keyless (a int)"));
  PgSourceConnector source = connector("unused", "unused");
  Relation table = source.describe_tables({"keyless"})->front();
  auto reader = std::move(source.open_table_reader()).value();
  EXPECT_EQ(read_chunk(source, *reader, table, std::nullopt, 10).status().code(),
            ErrorCode::kUnsupported);
  table.columns[0].is_key = true;
  EXPECT_EQ(read_chunk(source, *reader, table, std::nullopt, 0).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(read_chunk(source, *reader, table, Row{}, 10).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(read_chunk(source, *reader, table, Row{Value::of("x")}, 10).status().code(),
            ErrorCode::kInvalidArgument);  // not an integer
  Result<Lsn> lsn = current_lsn(source, *reader);
  ASSERT_TRUE(lsn.is_ok()) << lsn.status().to_string();
  EXPECT_GT(*lsn, Lsn::zero());
}

// A chunk read without a bound brings the table's largest key; the rest of
// the copy reads up to it, so rows inserted past it later are left to the
// stream. Composite keys compare as Postgres orders them; an empty table,
// or a largest key with a NULL, has no bound.
TEST_F(PgSourceTest, FirstChunkBringsTheBoundAndLaterChunksStopThere) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE bounded (a int, b text, v text, PRIMARY KEY (a, b));"
      "INSERT INTO bounded SELECT i / 3, 'k' || (i % 3), 'v' FROM generate_series(0, 29) i;"
      "CREATE TABLE bounded_empty (id int PRIMARY KEY);"
      "CREATE TABLE bounded_full (a int, b text);"
      "ALTER TABLE bounded_full REPLICA IDENTITY FULL;"
      "INSERT INTO bounded_full VALUES (1, 'x'), (2, NULL)"));
  PgSourceConnector source = connector("unused", "unused");
  auto relations = source.describe_tables({"bounded", "bounded_empty", "bounded_full"});
  ASSERT_TRUE(relations.is_ok() && relations->size() == 3) << relations.status().to_string();
  const Relation& table = (*relations)[0];
  auto reader = std::move(source.open_table_reader()).value();
  Result<TableChunk> first = read_chunk(source, *reader, table, std::nullopt, 7);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_EQ(first->bound_key, (Row{Value::of("9"), Value::of("k2")}));
  const Row bound = *first->bound_key;
  // Written after the bound was read: the chunks stop at it.
  ASSERT_OK(server_->exec("INSERT INTO bounded VALUES (9, 'k3', 'late'), (10, 'k0', 'late')"));
  std::vector<Row> rows = first->rows;
  for (std::optional<Row> after = table.key_of(rows.back());;) {
    Result<TableChunk> chunk = read_chunk_until(source, *reader, table, after, bound, 7);
    ASSERT_TRUE(chunk.is_ok()) << chunk.status().to_string();
    EXPECT_FALSE(chunk->bound_key.has_value());  // asked with a bound
    rows.insert(rows.end(), chunk->rows.begin(), chunk->rows.end());
    if (chunk->is_last) break;
    after = table.key_of(chunk->rows.back());
  }
  ASSERT_EQ(rows.size(), 30u);
  EXPECT_EQ(table.key_of(rows.back()), bound);
  // The first chunks were read ahead with the bound the copy asks with.
  EXPECT_GE(source.reader_stats().read_ahead_hits, 4);

  Result<TableChunk> empty = read_chunk(source, *reader, (*relations)[1], std::nullopt, 7);
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  EXPECT_FALSE(empty->bound_key.has_value());
  Result<TableChunk> with_null = read_chunk(source, *reader, (*relations)[2], std::nullopt, 7);
  ASSERT_TRUE(with_null.is_ok()) << with_null.status().to_string();
  EXPECT_FALSE(with_null->bound_key.has_value());
}

// COPY's text format and a SELECT's text results are the same text, for
// values that need escaping in COPY and for types with their own output.
TEST_F(PgSourceTest, CopyAndSelectReadTheSameText) {
  ASSERT_OK(server_->exec(
      "CREATE TABLE texts (id int PRIMARY KEY, t text, c char(3), b bytea, j jsonb,"
      " a text[], ts timestamptz, n numeric);"
      "INSERT INTO texts VALUES"
      " (1, E'tab\\there\\nnew\\\\slash\\rret', 'x', '\\x00ff', '{\"k\": \"v\\\\n\"}',"
      "  '{a,\"b c\",NULL}', '2024-02-29 12:34:56.789+00', 1.50),"
      " (2, '\\N', NULL, NULL, NULL, NULL, NULL, NULL),"
      " (3, '', '', '', 'null', '{}', 'infinity', 'NaN'),"
      " (4, 'grüße ☃', 'ab', E'\\\\x5c', '[1, 2.5]', '{\"\\\\\\\\\"}', NULL, -0.0)"));
  PgSourceConnector source = connector("unused", "unused");
  Relation table = source.describe_tables({"texts"})->front();
  std::vector<Row> by_method[2];
  for (ReadMethod method : {ReadMethod::kCopy, ReadMethod::kSelect}) {
    auto connection = PgConnection::open(server_->conninfo(), PgConnection::Mode::kNormal);
    ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
    ReaderOptions options;
    options.method = method;
    auto reader = PgTableReader::start(std::move(*connection), options);
    ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
    for (std::optional<Row> after;;) {
      Result<TableChunk> chunk = (*reader)->read_chunk(table, after, std::nullopt, 3);
      ASSERT_TRUE(chunk.is_ok()) << chunk.status().to_string();
      for (Row& row : chunk->rows) by_method[method == ReadMethod::kSelect].push_back(row);
      if (chunk->is_last) break;
      after = table.key_of(chunk->rows.back());
    }
  }
  ASSERT_EQ(by_method[0].size(), 4u);
  EXPECT_EQ(by_method[0], by_method[1]);
  EXPECT_EQ(by_method[0][0][1], Value::of("tab\there\nnew\\slash\rret"));
  EXPECT_EQ(by_method[0][1][1], Value::of("\\N"));  // the text, not NULL
  EXPECT_EQ(by_method[0][1][2], Value::null());
  EXPECT_EQ(by_method[0][2][1], Value::of(""));
}

// The reader reads the next chunk while the engine works on this one: the
// ask for it is answered from the read ahead.
TEST_F(PgSourceTest, ReaderReadsTheNextChunkAhead) {
  ASSERT_OK(server_->exec("CREATE TABLE ahead (id int PRIMARY KEY);"
                          "INSERT INTO ahead SELECT generate_series(1, 35)"));
  PgSourceConnector source = connector("unused", "unused");
  Relation table = source.describe_tables({"ahead"})->front();
  auto reader = std::move(source.open_table_reader()).value();
  std::vector<size_t> sizes;
  // As the snapshotter asks: the first chunk without a bound, the rest up
  // to the bound it brought.
  std::optional<Row> until;
  for (std::optional<Row> after;;) {
    Result<TableChunk> chunk = read_chunk_until(source, *reader, table, after, until, 10);
    ASSERT_TRUE(chunk.is_ok()) << chunk.status().to_string();
    if (!until) until = chunk->bound_key;
    sizes.push_back(chunk->rows.size());
    if (chunk->is_last) break;
    after = table.key_of(chunk->rows.back());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 10, 5}));
  // Every chunk after the first was read ahead.
  EXPECT_EQ(source.reader_stats().read_ahead_hits, 3);
  // An ask for something else drops the read ahead and reads that.
  Result<TableChunk> again = read_chunk(source, *reader, table, Row{Value::of("30")}, 10);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->rows.size(), 5u);
  Result<TableChunk> start = read_chunk(source, *reader, table, std::nullopt, 2);
  ASSERT_TRUE(start.is_ok()) << start.status().to_string();
  EXPECT_EQ(start->rows, (std::vector<Row>{{Value::of("1")}, {Value::of("2")}}));
}

// A read stuck behind a lock fails with the statement timeout (retryable),
// and the same reader reads once the lock is gone.
TEST_F(PgSourceTest, ReadBlockedByALockFailsWithTheStatementTimeout) {
  ASSERT_OK(server_->exec("CREATE TABLE locked (id int PRIMARY KEY);"
                          "INSERT INTO locked SELECT generate_series(1, 5)"));
  PgSourceConnector source = connector("unused", "unused");
  ReaderOptions options;
  options.statement_timeout_ms = 200;
  source.set_reader_options(options);
  Relation table = source.describe_tables({"locked"})->front();
  auto reader = std::move(source.open_table_reader()).value();
  auto holder = PgConnection::open(server_->conninfo(), PgConnection::Mode::kNormal);
  ASSERT_TRUE(holder.is_ok()) << holder.status().to_string();
  ASSERT_OK((*holder)->exec("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE"));
  Result<TableChunk> blocked = read_chunk(source, *reader, table, std::nullopt, 10);
  ASSERT_FALSE(blocked.is_ok());
  EXPECT_EQ(blocked.status().code(), ErrorCode::kIoError);
  EXPECT_TRUE(contains(blocked.status().message(), "statement timeout"))
      << blocked.status().message();
  ASSERT_OK((*holder)->exec("COMMIT"));
  Result<TableChunk> read = read_chunk(source, *reader, table, std::nullopt, 10);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->rows.size(), 5u);
}

// A reader whose backend is terminated answers kDisconnected (the engine
// then opens a new reader), and a new reader connects afresh.
TEST_F(PgSourceTest, TerminatedReaderIsDisconnected) {
  ASSERT_OK(server_->exec("CREATE TABLE killed (id int PRIMARY KEY);"
                          "INSERT INTO killed SELECT generate_series(1, 5)"));
  PgSourceConnector source = connector("unused", "unused");
  Relation table = source.describe_tables({"killed"})->front();
  auto reader = std::move(source.open_table_reader()).value();
  ASSERT_TRUE(current_lsn(source, *reader).is_ok());  // connected now
  ASSERT_EQ(value(std::string("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                              " WHERE application_name = '") +
                  kReaderApplicationName + "'"),
            "1");
  Result<TableChunk> lost = read_chunk(source, *reader, table, std::nullopt, 10);
  ASSERT_FALSE(lost.is_ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kDisconnected) << lost.status().to_string();
  reader = std::move(source.open_table_reader()).value();
  Result<TableChunk> read = read_chunk(source, *reader, table, std::nullopt, 10);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read->rows.size(), 5u);
}

// ---- the change stream -----------------------------------------------------

TEST_F(PgSourceTest, StreamsChangesInOrder) {
  ASSERT_OK(server_->exec("CREATE TABLE docs (id int PRIMARY KEY, name text, body text);"
                          "CREATE PUBLICATION docs_pub FOR TABLE docs"));
  PgSourceConnector source = connector("docs_slot", "docs_pub");
  ASSERT_OK(source.check_publication({"docs"}));
  Result<bool> created = source.ensure_slot();
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  EXPECT_TRUE(*created);
  // ~100 kB of md5 hex: stored out of line (TOAST), so an update that does
  // not touch it sends the 'u' marker.
  std::string big_sql = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3200) i)";
  std::string big = value("SELECT " + big_sql);
  ASSERT_OK(server_->exec(
      "BEGIN;"
      "INSERT INTO docs VALUES (1, 'a', " + big_sql + "), (2, 'b', 'small');"
      "SELECT pg_logical_emit_message(true, 'walsim', 'skipped');"
      "COMMIT;"
      "BEGIN;"
      "UPDATE docs SET name = 'a2' WHERE id = 1;"
      "UPDATE docs SET id = 3 WHERE id = 2;"
      "DELETE FROM docs WHERE id = 1;"
      "TRUNCATE docs;"
      "COMMIT"));

  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  std::vector<ChangeMessage> m = read_changes(*stream, 12);
  ASSERT_EQ(m.size(), 12u) << kinds(m);
  uint32_t relid = oid_of("docs");

  auto begin1 = std::get<BeginMessage>(m[0]);
  Relation described = source.describe_tables({"docs"})->front();
  EXPECT_EQ(std::get<RelationMessage>(m[1]).relation, described);
  EXPECT_EQ(std::get<InsertMessage>(m[2]).relid, relid);
  EXPECT_EQ(std::get<InsertMessage>(m[2]).new_row,
            (Row{Value::of("1"), Value::of("a"), Value::of(big)}));
  EXPECT_EQ(std::get<InsertMessage>(m[3]).new_row,
            (Row{Value::of("2"), Value::of("b"), Value::of("small")}));
  auto commit1 = std::get<CommitMessage>(m[4]);
  EXPECT_EQ(begin1.final_lsn, commit1.commit_lsn);
  EXPECT_LT(commit1.commit_lsn, commit1.end_lsn);

  auto begin2 = std::get<BeginMessage>(m[5]);
  EXPECT_GE(begin2.final_lsn, commit1.end_lsn);
  auto toast_update = std::get<UpdateMessage>(m[6]);
  EXPECT_FALSE(toast_update.old_key.has_value());
  EXPECT_EQ(toast_update.new_row,
            (Row{Value::of("1"), Value::of("a2"), Value::unchanged_toast()}));
  auto key_update = std::get<UpdateMessage>(m[7]);
  ASSERT_TRUE(key_update.old_key.has_value());
  EXPECT_EQ(*key_update.old_key, (Row{Value::of("2"), Value::null(), Value::null()}));
  EXPECT_EQ(key_update.new_row, (Row{Value::of("3"), Value::of("b"), Value::of("small")}));
  EXPECT_EQ(std::get<DeleteMessage>(m[8]).old_key,
            (Row{Value::of("1"), Value::null(), Value::null()}));
  // TRUNCATE gives the table a new relfilenode; the relcache invalidation
  // makes pgoutput announce the relation again.
  EXPECT_EQ(std::get<RelationMessage>(m[9]).relation, described);
  EXPECT_EQ(std::get<TruncateMessage>(m[10]).relids, std::vector<uint32_t>{relid});
  EXPECT_EQ(std::get<CommitMessage>(m[11]).commit_lsn, begin2.final_lsn);
}

TEST_F(PgSourceTest, FullIdentityUpdatesCarryTheOldRow) {
  ASSERT_OK(server_->exec("CREATE TABLE fulls (id int, v text);"
                          "ALTER TABLE fulls REPLICA IDENTITY FULL;"
                          "CREATE PUBLICATION fulls_pub FOR TABLE fulls"));
  PgSourceConnector source = connector("fulls_slot", "fulls_pub");
  ASSERT_TRUE(source.ensure_slot().is_ok());
  // One simple-protocol query string: one transaction.
  ASSERT_OK(server_->exec("INSERT INTO fulls VALUES (1, 'x');"
                          "UPDATE fulls SET v = 'y';"
                          "DELETE FROM fulls"));
  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  std::vector<ChangeMessage> m = read_changes(*stream, 6);  // B R I U D C
  ASSERT_EQ(m.size(), 6u) << kinds(m);
  EXPECT_EQ(std::get<RelationMessage>(m[1]).relation.identity, ReplicaIdentity::kFull);
  auto update = std::get<UpdateMessage>(m[3]);
  ASSERT_TRUE(update.old_key.has_value());
  EXPECT_EQ(*update.old_key, (Row{Value::of("1"), Value::of("x")}));
  EXPECT_EQ(update.new_row, (Row{Value::of("1"), Value::of("y")}));
  EXPECT_EQ(std::get<DeleteMessage>(m[4]).old_key, (Row{Value::of("1"), Value::of("y")}));
}

TEST_F(PgSourceTest, ReopenRedeliversOnlyUnacknowledgedTransactions) {
  ASSERT_OK(server_->exec("CREATE TABLE acks (id int PRIMARY KEY);"
                          "CREATE PUBLICATION acks_pub FOR TABLE acks"));
  PgSourceConnector source = connector("acks_slot", "acks_pub");
  ASSERT_TRUE(source.ensure_slot().is_ok());
  ASSERT_OK(server_->exec("INSERT INTO acks VALUES (10)"));
  ASSERT_OK(server_->exec("INSERT INTO acks VALUES (20)"));

  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  std::vector<ChangeMessage> first = read_changes(*stream, 7);  // B R I C B I C
  ASSERT_EQ(first.size(), 7u) << kinds(first);
  Lsn acked = std::get<CommitMessage>(first[3]).end_lsn;
  Lsn second_commit = std::get<CommitMessage>(first[6]).commit_lsn;
  ASSERT_OK(stream->acknowledge(acked));
  ASSERT_OK(stream->acknowledge(Lsn(acked.value() - 1)));  // never moves back
  EXPECT_EQ(stream->acknowledged(), acked);
  expect_eventually("SELECT confirmed_flush_lsn FROM pg_replication_slots "
                    "WHERE slot_name = 'acks_slot'",
                    acked.to_string(), stream.get());
  stream.reset();

  stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  std::vector<ChangeMessage> again = read_changes(*stream, 4);  // B R I(20) C
  ASSERT_EQ(again.size(), 4u) << kinds(again);
  EXPECT_EQ(std::get<BeginMessage>(again[0]).final_lsn, second_commit);
  EXPECT_EQ(std::get<InsertMessage>(again[2]).new_row, Row{Value::of("20")});
  EXPECT_EQ(std::get<CommitMessage>(again[3]).commit_lsn, second_commit);
}

TEST_F(PgSourceTest, IdleStreamReportsKeepalives) {
  ASSERT_OK(server_->exec("CREATE TABLE idle (id int PRIMARY KEY);"
                          "CREATE PUBLICATION idle_pub FOR TABLE idle"));
  PgSourceConnector source = connector("idle_slot", "idle_pub");
  ASSERT_TRUE(source.ensure_slot().is_ok());
  ASSERT_OK(server_->exec("INSERT INTO idle VALUES (1)"));
  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  std::vector<ChangeMessage> m = read_changes(*stream, 4);
  ASSERT_EQ(m.size(), 4u) << kinds(m);
  Lsn end = std::get<CommitMessage>(m[3]).end_lsn;
  // WAL the publication does not cover still moves the server's position,
  // which it reports between transactions.
  ASSERT_OK(server_->exec("SELECT pg_logical_emit_message(false, 'walsim', 'ping')"));
  std::optional<Lsn> keepalive;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       !keepalive && std::chrono::steady_clock::now() < deadline;) {
    Result<std::optional<ChangeMessage>> next = stream->next();
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    if (!next->has_value()) {
      wait_readable(stream->socket(), 100);
    } else if (auto* k = std::get_if<KeepaliveMessage>(&**next); k && k->lsn > end) {
      keepalive = k->lsn;
    } else {
      ASSERT_TRUE(std::holds_alternative<KeepaliveMessage>(**next)) << describe(**next);
    }
  }
  ASSERT_TRUE(keepalive.has_value()) << "no keepalive past " << end.to_string();
  ASSERT_OK(stream->acknowledge(*keepalive));
  expect_eventually("SELECT confirmed_flush_lsn FROM pg_replication_slots "
                    "WHERE slot_name = 'idle_slot'",
                    keepalive->to_string(), stream.get());
}

TEST_F(PgSourceTest, SendsPeriodicStatusWithClientTime) {
  ASSERT_OK(server_->exec("CREATE TABLE ticks (id int PRIMARY KEY);"
                          "CREATE PUBLICATION ticks_pub FOR TABLE ticks"));
  ManualClock clock(1'893'456'000'000);  // 2030-01-01 00:00:00 UTC
  PgSourceConnector source(server_->conninfo(), "ticks_slot", "ticks_pub", &clock);
  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  clock.advance(PgChangeStream::kStatusIntervalMs);
  ASSERT_TRUE(stream->next().is_ok());
  // The server shows our clientTime as the reply time.
  expect_eventually("SELECT extract(epoch FROM reply_time)::bigint FROM pg_stat_replication "
                    "WHERE pid = (SELECT active_pid FROM pg_replication_slots "
                    "             WHERE slot_name = 'ticks_slot')",
                    "1893456010");
}

TEST_F(PgSourceTest, LostConnectionIsDisconnected) {
  ASSERT_OK(server_->exec("CREATE TABLE lost (id int PRIMARY KEY);"
                          "CREATE PUBLICATION lost_pub FOR TABLE lost"));
  PgSourceConnector source = connector("lost_slot", "lost_pub");
  std::unique_ptr<PgChangeStream> stream = open_stream(source);
  ASSERT_NE(stream, nullptr);
  expect_eventually("SELECT count(*) FROM pg_replication_slots "
                    "WHERE slot_name = 'lost_slot' AND active_pid IS NOT NULL",
                    "1");
  ASSERT_OK(server_->exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                          "WHERE slot_name = 'lost_slot'"));
  Status error;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       error.is_ok() && std::chrono::steady_clock::now() < deadline;) {
    Result<std::optional<ChangeMessage>> next = stream->next();
    if (!next.is_ok()) error = next.status();
    else wait_readable(stream->socket(), 100);
  }
  EXPECT_EQ(error.code(), ErrorCode::kDisconnected) << error.to_string();
  EXPECT_EQ(stream->next().status().code(), ErrorCode::kDisconnected);  // stays broken
  EXPECT_EQ(stream->acknowledge(Lsn(1)).code(), ErrorCode::kDisconnected);
}

// ---- slots, publications and server checks ---------------------------------

TEST_F(PgSourceTest, EnsureSlotCreatesOnce) {
  PgSourceConnector source = connector("once_slot", "unused");
  Result<bool> first = source.ensure_slot();
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_TRUE(*first);
  Result<bool> second = source.ensure_slot();
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_FALSE(*second);
  EXPECT_EQ(value("SELECT plugin FROM pg_replication_slots WHERE slot_name = 'once_slot'"),
            "pgoutput");
  ASSERT_OK(source.drop_slot());
  EXPECT_EQ(value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'once_slot'"),
            "0");
}

TEST_F(PgSourceTest, RequireExistingSlotNeverCreatesOne) {
  PgSourceConnector source(server_->conninfo(), "required_slot", "unused", &clock_,
                           SlotPolicy::kRequireExisting);
  Result<std::unique_ptr<ChangeStream>> stream = source.open_stream();
  EXPECT_EQ(stream.status().code(), ErrorCode::kNotFound) << stream.status().to_string();
  EXPECT_TRUE(contains(stream.status().message(), "\"required_slot\" does not exist"))
      << stream.status().message();
  EXPECT_EQ(value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'required_slot'"),
            "0");
}

TEST(StartReplicationErrorTest, OnlyASlotInUseIsRetryable) {
  EXPECT_EQ(start_replication_error("55006", "in use").code(), ErrorCode::kIoError);
  EXPECT_EQ(start_replication_error("42704", "missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(start_replication_error("55000", "invalidated").code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(start_replication_error(nullptr, "connection lost").code(), ErrorCode::kIoError);
}

TEST_F(PgSourceTest, RejectsBadOrForeignSlots) {
  Result<bool> bad = connector("Bad-Name", "unused").ensure_slot();
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  ASSERT_OK(server_->exec(
      "SELECT pg_create_logical_replication_slot('decoding_slot', 'test_decoding')"));
  Result<bool> foreign = connector("decoding_slot", "unused").ensure_slot();
  EXPECT_EQ(foreign.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(contains(foreign.status().message(), "plugin test_decoding, not pgoutput"))
      << foreign.status().message();
  ASSERT_OK(connector("decoding_slot", "unused").drop_slot());
}

TEST_F(PgSourceTest, ChecksPublications) {
  ASSERT_OK(server_->exec("CREATE TABLE pub_a (id int PRIMARY KEY);"
                          "CREATE TABLE pub_b (id int PRIMARY KEY);"
                          "CREATE TABLE pub_c (id int PRIMARY KEY);"
                          "CREATE PUBLICATION partial_pub FOR TABLE pub_a"));
  EXPECT_TRUE(connector("unused", "partial_pub").check_publication({"pub_a"}).is_ok());
  Status missing =
      connector("unused", "partial_pub").check_publication({"pub_a", "pub_b", "public.pub_c"});
  EXPECT_EQ(missing.code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(contains(missing.message(), "does not publish public.pub_b, public.pub_c"))
      << missing.message();
  Status absent = connector("unused", "absent_pub").check_publication({"pub_a"});
  EXPECT_EQ(absent.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(contains(absent.message(), "publication \"absent_pub\" does not exist"));
}

TEST_F(PgSourceTest, ChecksServerAndReplicationPrivilege) {
  ASSERT_OK(connector("unused", "unused").check_server());
  ASSERT_OK(server_->exec("CREATE ROLE plain LOGIN"));
  PgSourceConnector plain(server_->conninfo_as("plain"), "plain_slot", "unused", &clock_);
  Status check = plain.check_server();
  EXPECT_EQ(check.code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(contains(check.message(), "role \"plain\" lacks the REPLICATION privilege"))
      << check.message();
  Result<std::unique_ptr<ChangeStream>> stream = plain.open_stream();
  EXPECT_EQ(stream.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(contains(stream.status().message(), "ALTER ROLE plain WITH REPLICATION"))
      << stream.status().message();
}

TEST_F(PgSourceTest, ReportsWalLevelReplica) {
  PgTestServer::Options options;
  options.wal_level = "replica";
  Result<std::unique_ptr<PgTestServer>> replica = PgTestServer::start(options);
  ASSERT_TRUE(replica.is_ok()) << replica.status().to_string();
  PgSourceConnector source((*replica)->conninfo(), "unused", "unused", &clock_);
  Status check = source.check_server();
  EXPECT_EQ(check.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(check.message(), "wal_level is 'replica'; logical replication needs wal_level=logical");
}

// ---- connection errors (no server needed) ----------------------------------

TEST(PgConnectionTest, ConnectionErrorsNeverShowThePassword) {
  WallClock clock;
  const std::string conninfos[] = {
      "host=/nonexistent-walsim port=1 dbname=db user=someone password=s3cr3t-pw",
      "postgresql://someone:s3cr3t-pw@/db?host=/nonexistent-walsim&port=1",
  };
  for (const std::string& conninfo : conninfos) {
    Status error = PgSourceConnector(conninfo, "slot", "pub", &clock).check_server();
    EXPECT_EQ(error.code(), ErrorCode::kIoError) << error.to_string();
    EXPECT_FALSE(contains(error.message(), "s3cr3t")) << error.message();
    EXPECT_TRUE(contains(error.message(),
                         "host=/nonexistent-walsim port=1 dbname=db user=someone"))
        << error.message();
  }
}

TEST(PgConnectionTest, ParseErrorsNeverEchoThePassword) {
  // libpq would say: missing "=" after "-pw" in connection info string.
  Result<std::unique_ptr<PgConnection>> connection = PgConnection::open(
      "host=/nonexistent-walsim password=s3cr3t leaked-pw", PgConnection::Mode::kNormal);
  ASSERT_FALSE(connection.is_ok());
  EXPECT_EQ(connection.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(contains(connection.status().message(), "s3cr3t"));
  EXPECT_FALSE(contains(connection.status().message(), "leaked")) << connection.status().message();
}

// An option's name is no secret: a typo in one is shown, in key=value
// pairs and in URIs alike, while the password around it never is.
TEST(PgConnectionTest, ParseErrorsNameAMistypedOptionButNeverThePassword) {
  struct Case {
    std::string conninfo;
    std::string message;
  };
  const Case cases[] = {
      {"host=/nonexistent-walsim password=Kv-s3cr3t sslmod=require",
       "invalid connection string: invalid connection option \"sslmod\""},
      {"postgresql://someone:Uri-s3cr3t@/db?host=/nonexistent-walsim&sslmod=require",
       "invalid connection string: invalid URI query parameter: \"sslmod\""},
      // The name equals the password, or the password holds "name=": hidden.
      {"host=/nonexistent-walsim password=sslmod sslmod=1",
       "invalid connection string: invalid connection option \"<redacted>\""},
      {"postgresql://someone:sslmod=x@/db?sslmod=1",
       "invalid connection string: invalid URI query parameter: \"<redacted>\""},
      // Not a name: a percent-encoded token in the password.
      {"postgresql://someone:Pct-s3cr3t%zz@/db",
       "invalid connection string: invalid percent-encoded token: \"<redacted>\""},
  };
  for (const Case& c : cases) {
    Result<std::unique_ptr<PgConnection>> connection =
        PgConnection::open(c.conninfo, PgConnection::Mode::kNormal);
    ASSERT_FALSE(connection.is_ok()) << c.conninfo;
    EXPECT_EQ(connection.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(connection.status().message(), c.message) << c.conninfo;
    EXPECT_FALSE(contains(connection.status().message(), "s3cr3t"));
  }
}

}  // namespace
}  // namespace walsim::live
