#include "cli/rules_diff_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/bucket_storage.h"
#include "engine/storage_schema.h"
#include "live/store_slot.h"

namespace walsim {

namespace {

constexpr const char* kName = "walsim rules diff";

int fail(int exit_code, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
  return exit_code;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

void print_plan(const std::string& store, const std::string& rules_path, const DeployPlan& plan) {
  const RulesChange& change = plan.change;
  std::printf("store %s, active rules version %lld; deploying %s would build version %lld:\n",
              store.c_str(), static_cast<long long>(plan.from_version), rules_path.c_str(),
              static_cast<long long>(plan.from_version + 1));
  std::printf("  new definitions:       %s\n", join(change.added).c_str());
  std::printf("  changed:               %s\n", join(change.changed).c_str());
  std::printf("  removed:               %s\n", join(change.removed).c_str());
  std::printf("  unchanged (kept, not copied, clients download nothing again): %s\n",
              join(change.unchanged).c_str());
  std::printf("tables to copy (%zu):\n", plan.copies.size());
  for (const TableCopy& copy : plan.copies) {
    if (copy.rows) {
      std::printf("  %-30s %lld rows in the store\n", copy.table.c_str(),
                  static_cast<long long>(*copy.rows));
    } else {
      std::printf("  %-30s not in the store yet (no active definition reads it)\n",
                  copy.table.c_str());
    }
  }
  std::printf("nothing was written: this is the plan only\n");
}

// The store opened for reading only: `rules diff` never upgrades or
// changes it. 2 and a message when it is not a walsim store of this build.
Result<std::unique_ptr<SqliteDb>> open_store(const std::string& path) {
  WALSIM_RETURN_IF_ERROR(check_not_directory(path));
  WALSIM_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::open(path, /*create=*/false));
  WALSIM_RETURN_IF_ERROR(check_store_schema(*db));
  return db;
}

}  // namespace

int rules_diff_command(int argc, char** argv) {
  CLI::App app("Print the plan of deploying a new bucket rules file on a store: definitions new,"
               " changed, removed and unchanged against the store's active rules version, and the"
               " tables a deploy would copy. Writes nothing.",
               kName);
  std::string store_path, rules_path;
  app.add_option("--store", store_path, "the walsim store (SQLite file)")->required();
  app.add_option("--rules", rules_path, "the new rules file")->required();
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  auto rules = BucketRules::load_file(rules_path);
  if (!rules.is_ok()) return fail(kExitUsage, rules.status().message());
  auto db = open_store(store_path);
  if (!db.is_ok()) return fail(kExitUsage, db.status().message());
  static const BucketRules kNoRules;  // a reader's: the store's rules are not checked
  auto storage = BucketStorage::open(**db, kNoRules, {});
  if (!storage.is_ok()) return fail(kExitFailed, storage.status().to_string());
  std::optional<DeployPlan> plan;
  Status read = in_read_transaction(**db, [&]() -> Status {
    WALSIM_ASSIGN_OR_RETURN(plan, (*storage)->plan_deploy(*rules));
    return Status::ok();
  });
  if (!read.is_ok()) return fail(kExitFailed, read.message());
  if (plan->empty()) {
    return fail(kExitFailed, "nothing to deploy: " + rules_path +
                                 " has the same bucket definitions as the store's active rules"
                                 " version " + std::to_string(plan->from_version) +
                                 " (whitespace, order and case do not count)");
  }
  print_plan(store_path, rules_path, *plan);
  return kExitOk;
}

int rules_command(int argc, char** argv) {
  const bool help = argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h");
  if (argc >= 2 && !std::strcmp(argv[1], "diff")) return rules_diff_command(argc - 1, argv + 1);
  std::FILE* out = help && argc >= 2 ? stdout : stderr;
  if (!help) std::fprintf(stderr, "walsim rules: unknown subcommand '%s'\n", argv[1]);
  std::fprintf(out,
               "usage: walsim rules diff --store FILE --rules NEW   (--help for more)\n"
               "  diff   the plan of deploying NEW on the store, without changing it\n");
  return help && argc >= 2 ? kExitOk : kExitUsage;
}

}  // namespace walsim
