#include "cli/replicate_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "cli/command.h"
#include "cli/parse_flags.h"
#include "engine/mutant.h"
#include "engine/store_lock.h"
#include "live/replication_session.h"
#include "live/stop_signal.h"

namespace walsim {

namespace {

constexpr const char* kName = "walsim replicate";

// Problems the user must fix in what they passed (rules, store path, slot
// name) are usage errors; the rest (the source refused, the engine failed)
// means the work failed.
int exit_code_for(const Status& status) {
  return status.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

// One line per error: messages from deeper down may carry line breaks.
void print_error(const Status& status) {
  std::string message = status.message();
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
}

const char* stop_signal_name() {
  return live::stop_signal_number() == SIGTERM ? "SIGTERM" : "SIGINT";
}

struct Flags {
  live::SessionConfig config;
  int progress_interval_s = 10;
  int read_timeout_s = 30;
};

void add_flags(CLI::App& app, Flags& flags) {
  live::SessionConfig& config = flags.config;
  app.add_option("--source", config.conninfo,
                 "the source database: postgresql://user[:password]@host[:port]/dbname, or "
                 "libpq key=value pairs (prefer PGPASSWORD or ~/.pgpass for the password)")
      ->required();
  app.add_option("--store", config.store_path, "the bucket store (SQLite file; created if missing)")
      ->required();
  app.add_option("--rules", config.rules_path, "the bucket rules (YAML)")->required();
  app.add_option("--snapshot-workers", config.replicator.snapshot_workers,
                 "tables copied at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--slot", config.slot, "the logical replication slot this store follows")
      ->capture_default_str();
  app.add_option("--publication", config.publication, "the publication to stream")
      ->capture_default_str();
  app.add_option("--snapshot-chunk-rows", config.replicator.snapshot_chunk_rows,
                 "rows per snapshot read (and per store transaction)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--read-timeout", flags.read_timeout_s,
                 "seconds a table read may take (statement_timeout of the copy connections; "
                 "a read stuck behind a lock fails and is retried); 0: the server's setting")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400));
  app.add_option("--progress-interval", flags.progress_interval_s,
                 "seconds between progress lines when stdout is not a terminal")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

}  // namespace

int replicate_command(int argc, char** argv) {
  CLI::App app("Replicate a Postgres database into a bucket store, continuously.\n"
               "Stop with Ctrl-C (or SIGTERM); run again to resume.",
               kName);
  Flags flags;
  add_flags(app, flags);
  if (std::optional<int> exit = parse_flags(app, argc, argv)) return *exit;
  // A binary with planted bugs compiled in is for the simulator only.
  if (mutant::kCompiled) {
    std::fprintf(stderr, "%s: this build has planted bugs compiled in (--config=mutants); "
                         "it never replicates real data\n", kName);
    return kExitUsage;
  }
  flags.config.reader.statement_timeout_ms = int64_t{flags.read_timeout_s} * 1000;
  // One writer per store, before anything else: a second walsim on this
  // store is refused here, before it opens the store or touches the slot.
  // Held for the life of the process (the kernel drops it if we die).
  FileStoreLocks locks;
  Result<std::unique_ptr<StoreLock>> store_lock = locks.acquire(flags.config.store_path);
  if (!store_lock.is_ok()) {
    print_error(store_lock.status());
    return exit_code_for(store_lock.status());
  }
  live::install_stop_signal_handlers();
  live::ProgressPrinter printer(stdout, ::isatty(STDOUT_FILENO) == 1,
                                int64_t{flags.progress_interval_s} * 1000);
  auto notify = [&printer](const std::string& text) {
    printer.message(stderr, std::string(kName) + ": " + text);
  };
  flags.config.stop = &live::stop_signal_flag();
  Result<std::unique_ptr<live::ReplicationSession>> session =
      live::ReplicationSession::open(flags.config, notify);
  if (!session.is_ok()) {
    print_error(session.status());
    return exit_code_for(session.status());
  }
  if (*session == nullptr) {  // stopped while waiting for the slot
    notify(std::string("stopped on ") + stop_signal_name() +
           " while waiting for the replication slot; nothing was written");
    return kExitOk;
  }
  live::ReplicationSession& running = **session;
  notify("replicating into " + flags.config.store_path + "; Ctrl-C stops");
  live::RunControl control;
  control.stop = &live::stop_signal_flag();
  control.on_tick = [&] { printer.update(running.sample()); };
  Result<live::RunOutcome> outcome = running.run(control);
  printer.finish();
  if (!outcome.is_ok()) {
    print_error(outcome.status());
    return kExitFailed;
  }
  notify(std::string("stopped on ") + stop_signal_name() +
         "; committed state is safe, run the same command to resume");
  return kExitOk;
}

}  // namespace walsim
