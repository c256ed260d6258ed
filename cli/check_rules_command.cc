#include "cli/check_rules_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_rules.h"

namespace walsim {

int check_rules_command(int argc, char** argv) {
  CLI::App app("Check a bucket rules file (YAML sync rules).", "walsim check-rules");
  std::string path;
  app.add_option("--rules", path, "the rules file")->required();
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
  return kExitOk;
}

}  // namespace walsim
