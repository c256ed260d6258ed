#include "tests/live/random_writer.h"

#include <random>

#include "live/pg_connection.h"

namespace walsim::live::testing {

RandomWriter::RandomWriter(std::string conninfo, std::vector<std::string> tables, int max_id,
                           unsigned seed)
    : conninfo_(std::move(conninfo)), tables_(std::move(tables)), max_id_(max_id), seed_(seed) {}

RandomWriter::~RandomWriter() { stop(); }

void RandomWriter::start() { thread_ = std::thread([this] { run(); }); }

std::string RandomWriter::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return error_;
}

void RandomWriter::run() {
  Result<std::unique_ptr<PgConnection>> connection =
      PgConnection::open(conninfo_, PgConnection::Mode::kNormal);
  if (!connection.is_ok()) {
    error_ = connection.status().to_string();
    return;
  }
  std::mt19937 random(seed_);
  while (!stop_) {
    std::string statements = "BEGIN;";
    for (int i = 0; i < 4; i++) {
      const std::string& table = tables_[random() % tables_.size()];
      std::string id = std::to_string(1 + random() % (max_id_ + max_id_ / 10));
      std::string owner = "'o" + std::to_string(random() % 6) + "'";
      switch (random() % 5) {
        case 0:
          statements += "INSERT INTO " + table + " VALUES (" + std::to_string(next_id_++) +
                        ", " + owner + ", 'inserted', 1);";
          break;
        case 1:
          statements += "UPDATE " + table + " SET title = 'updated', n = n + 1 WHERE id = " +
                        id + ";";
          break;
        case 2:
          statements += "UPDATE " + table + " SET owner = " + owner + " WHERE id = " + id + ";";
          break;
        case 3:
          statements += "UPDATE " + table + " SET id = " + std::to_string(next_id_++) +
                        " WHERE id = " + id + ";";
          break;
        default:
          statements += "DELETE FROM " + table + " WHERE id = " + id + ";";
      }
    }
    Status status = (*connection)->exec(statements + "COMMIT");
    if (!status.is_ok()) {
      error_ = status.to_string();
      return;
    }
    transactions_++;
  }
}

}  // namespace walsim::live::testing
