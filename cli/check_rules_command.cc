#include "cli/check_rules_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_rules.h"
#include "live/pg_connection.h"
#include "live/rules_check.h"

namespace walsim {

namespace {

// The rules against the source's tables and publication: every problem on
// a line of its own, then the exit code (1 when there is any).
int check_against_source(const BucketRules& rules, const std::string& path,
                         const std::string& conninfo, const std::string& publication) {
  auto connection = live::PgConnection::open(conninfo, live::PgConnection::Mode::kNormal);
  if (!connection.is_ok()) {
    std::fprintf(stderr, "walsim check-rules: %s\n", connection.status().message().c_str());
    return kExitFailed;
  }
  auto problems = live::check_rules_against_source(**connection, rules, publication);
  if (!problems.is_ok()) {
    std::fprintf(stderr, "walsim check-rules: cannot read the source's catalog: %s\n",
                 problems.status().message().c_str());
    return kExitFailed;
  }
  if (problems->empty()) {
    std::printf("%s: fits the source: every table exists and publication \"%s\" publishes "
                "every row and column the rules read\n",
                path.c_str(), publication.c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "walsim check-rules: %s does not fit the source (%zu problem(s)):\n",
               path.c_str(), problems->size());
  for (const live::RulesProblem& problem : *problems) {
    std::fprintf(stderr, "  %s%s%s\n", problem.table.c_str(), problem.table.empty() ? "" : ": ",
                 problem.message.c_str());
  }
  return kExitFailed;
}

}  // namespace

int check_rules_command(int argc, char** argv) {
  CLI::App app("Check a bucket rules file (YAML sync rules), alone or against a source.",
               "walsim check-rules");
  std::string path, conninfo;
  std::string publication = "walsim";
  app.add_option("--rules", path, "the rules file")->required();
  app.add_option("--source", conninfo,
                 "also check against this database (postgresql://... or libpq key=value "
                 "pairs): the tables and columns exist and the publication publishes them");
  app.add_option("--publication", publication, "the publication --source checks")
      ->capture_default_str();
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  auto rules = BucketRules::load_file(path);
  if (!rules.is_ok()) {
    std::fprintf(stderr, "walsim check-rules: %s\n", rules.status().message().c_str());
    return kExitUsage;
  }
  std::vector<std::string> tables = rules->tables();
  std::printf("%s: valid; replicates %zu table(s):", path.c_str(), tables.size());
  for (const std::string& table : tables) std::printf(" %s", table.c_str());
  std::printf("\n");
  if (conninfo.empty()) return kExitOk;
  return check_against_source(*rules, path, conninfo, publication);
}

}  // namespace walsim
