#include "live/pg_test_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace walsim::live::testing {

namespace {

bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string runuser_path() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (is_executable(path)) return path;
  }
  return "runuser";
}

std::string log_tail(const std::string& path, size_t bytes = 2000) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

// fork + exec with stdout and stderr appended to `log`; the exit status.
int run(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Status chown_to_postgres(const std::string& path) {
  struct passwd* postgres = ::getpwnam("postgres");
  if (postgres == nullptr) {
    return Status(ErrorCode::kFailedPrecondition, "running as root but there is no postgres user");
  }
  if (::chown(path.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
    return Status(ErrorCode::kIoError, "cannot chown " + path + " to postgres: " +
                                           std::strerror(errno) +
                                           " (a sandbox without uid mappings? tag the test "
                                           "no-sandbox)");
  }
  return Status::ok();
}

}  // namespace

std::string PgTestServer::bin_dir() {
  const char* dir = std::getenv("WALSIM_PG_BIN");
  return dir && *dir ? dir : "/usr/lib/postgresql/15/bin";
}

bool PgTestServer::binaries_available() {
  for (const char* binary : {"initdb", "pg_ctl", "postgres"}) {
    if (!is_executable(bin_dir() + "/" + binary)) return false;
  }
  return true;
}

Result<std::unique_ptr<PgTestServer>> PgTestServer::start(const Options& options) {
  if (!binaries_available()) {
    return Status(ErrorCode::kNotFound, "Postgres binaries not found in " + bin_dir());
  }
  // /tmp, not TEST_TMPDIR: a unix socket path must stay under ~100 bytes.
  char dir[] = "/tmp/walsim-pg-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return Status(ErrorCode::kIoError, "mkdtemp failed");
  std::unique_ptr<PgTestServer> server(new PgTestServer(dir));
  WALSIM_RETURN_IF_ERROR(server->init(options));
  return server;
}

PgTestServer::PgTestServer(std::string dir)
    : dir_(std::move(dir)),
      data_dir_(dir_ + "/data"),
      conninfo_("host=" + dir_ + " dbname=postgres user=postgres") {}

Status PgTestServer::init(const Options& options) {
  if (::geteuid() == 0) WALSIM_RETURN_IF_ERROR(chown_to_postgres(dir_));
  std::string init_log = dir_ + "/initdb.log";
  WALSIM_RETURN_IF_ERROR(run_as_postgres({bin_dir() + "/initdb", "-D", data_dir_, "-A", "trust",
                                          "-U", "postgres", "-E", "UTF8", "--locale=C",
                                          "--no-sync"},
                                         init_log));
  WALSIM_RETURN_IF_ERROR(write_config(options));
  std::string server_log = dir_ + "/server.log";
  WALSIM_RETURN_IF_ERROR(run_as_postgres(
      {bin_dir() + "/pg_ctl", "-D", data_dir_, "-l", server_log, "-w", "-t", "60", "start"},
      dir_ + "/pg_ctl.log"));
  started_ = true;
  WALSIM_ASSIGN_OR_RETURN(admin_, PgConnection::open(conninfo_, PgConnection::Mode::kNormal));
  return Status::ok();
}

Status PgTestServer::write_config(const Options& options) {
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "wal_level = " << options.wal_level << "\n"
       << "max_replication_slots = 10\nmax_wal_senders = 10\n"
       << "fsync = off\nfull_page_writes = off\n";
  for (const std::string& setting : options.settings) conf << setting << "\n";
  conf.close();
  if (!conf) return Status(ErrorCode::kIoError, "cannot write postgresql.conf");
  if (options.hba_lines.empty()) return Status::ok();
  std::string hba_path = data_dir_ + "/pg_hba.conf";
  std::stringstream initdb_lines;
  initdb_lines << std::ifstream(hba_path).rdbuf();
  std::ofstream hba(hba_path, std::ios::trunc);
  for (const std::string& line : options.hba_lines) hba << line << "\n";
  hba << initdb_lines.str();
  hba.close();
  if (!hba) return Status(ErrorCode::kIoError, "cannot write pg_hba.conf");
  return Status::ok();
}

Status PgTestServer::run_as_postgres(const std::vector<std::string>& argv,
                                     const std::string& log) {
  std::vector<std::string> command;
  if (::geteuid() == 0) command = {runuser_path(), "-u", "postgres", "--"};
  command.insert(command.end(), argv.begin(), argv.end());
  int exit_code = run(command, log);
  if (exit_code == 0) return Status::ok();
  std::string server_log = log_tail(dir_ + "/server.log");
  return Status(ErrorCode::kIoError, argv[0] + " exited with " + std::to_string(exit_code) +
                                         ":\n" + log_tail(log) +
                                         (server_log.empty() ? "" : "\nserver log:\n" + server_log));
}

PgTestServer::~PgTestServer() {
  admin_.reset();
  // A server that will not stop keeps its directory, for a look at the logs.
  if (started_ && !run_as_postgres({bin_dir() + "/pg_ctl", "-D", data_dir_, "-m", "immediate",
                                    "-w", "stop"},
                                   dir_ + "/pg_ctl.log")
                       .is_ok()) {
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Status PgTestServer::restart() {
  WALSIM_ASSERT(started_, "restart a started server");
  admin_.reset();
  WALSIM_RETURN_IF_ERROR(run_as_postgres(
      {bin_dir() + "/pg_ctl", "-D", data_dir_, "-l", dir_ + "/server.log", "-m", "fast", "-w",
       "-t", "60", "restart"},
      dir_ + "/pg_ctl.log"));
  WALSIM_ASSIGN_OR_RETURN(admin_, PgConnection::open(conninfo_, PgConnection::Mode::kNormal));
  WALSIM_ASSERT(admin_ != nullptr);
  return Status::ok();
}

std::string PgTestServer::conninfo_as(const std::string& user) const {
  return "host=" + dir_ + " dbname=postgres user=" + user;
}

Status PgTestServer::exec(const std::string& sql) { return admin_->exec(sql); }

Result<std::vector<Row>> PgTestServer::query(const std::string& sql) { return admin_->query(sql); }

Result<std::string> PgTestServer::query_value(const std::string& sql) {
  WALSIM_ASSIGN_OR_RETURN(std::vector<Row> rows, query(sql));
  if (rows.size() != 1 || rows.front().size() != 1) {
    return Status(ErrorCode::kInvalidArgument, "expected one value from: " + sql);
  }
  return rows.front()[0].text;
}

}  // namespace walsim::live::testing
