#include "api/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "api/db.h"
#include "api/schema.h"
#include "core/bytes.h"

namespace ritma::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPgBin = "/usr/lib/postgresql/15/bin";

// RITMA_PG_BINDIR overrides where initdb and postgres are (another build of PostgreSQL 15).
std::string pg_bindir() {
  const char* env = std::getenv("RITMA_PG_BINDIR");
  return env != nullptr && *env != '\0' ? env : kDefaultPgBin;
}
constexpr const char* kDirPrefix = "ritma-pg-";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, size_t n = 1500) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

std::string random_hex(size_t bytes) {
  Bytes b(bytes);
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return to_hex(b);
}

bool pid_alive(pid_t pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

// Removes what earlier runs killed before their destructor left in `base`: a directory whose
// owning test process is gone; its postmaster (if still running, which PDEATHSIG should have
// prevented) is killed first.
void clean_stale(const fs::path& base) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    std::string name = e.path().filename().string();
    if (!name.starts_with(kDirPrefix) || !e.is_directory(ec)) continue;
    std::string owner = read_text(e.path() / "owner.pid");
    pid_t owner_pid = static_cast<pid_t>(std::atol(owner.c_str()));
    if (owner_pid <= 0 || pid_alive(owner_pid)) continue;
    std::string pm = read_text(e.path() / "data" / "postmaster.pid");
    pid_t pm_pid = static_cast<pid_t>(std::atol(pm.c_str()));
    if (pm_pid > 0 && pid_alive(pm_pid)) {
      std::string exe = read_text("/proc/" + std::to_string(pm_pid) + "/cmdline");
      if (exe.starts_with(pg_bindir())) kill(pm_pid, SIGKILL);
    }
    fs::remove_all(e.path(), ec);
  }
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(s);
  return port;
}

// Forks and execs argv as uid/gid (when drop), stdout and stderr appended to `log`, in its own
// process group, killed when this process dies. Returns the child's pid or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log, bool drop, uid_t uid,
            gid_t gid) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", nullptr};
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) {
    close(fd);
    return pid;
  }
  // Child: only async-signal-safe calls from here.
  setpgid(0, 0);
  if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  if (drop) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
  }
  // After the uid change: a credential change clears the parent-death signal.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);
  execve(args[0], args.data(), const_cast<char* const*>(envp));
  _exit(127);
}

// Waits for `pid` to exit within `timeout`; returns its wait status or -1 on timeout.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status exec_admin(api::Db& db, const std::string& sql) {
  auto s = db.run_outside_transaction(sql);
  if (!s.ok()) return make_error(s.error().message + " (in: " + sql.substr(0, 80) + ")");
  return {};
}

}  // namespace

Result<std::unique_ptr<PgCluster>> PgCluster::start() {
  std::string initdb = pg_bindir() + "/initdb";
  std::string postgres = pg_bindir() + "/postgres";
  if (access(initdb.c_str(), X_OK) != 0 || access(postgres.c_str(), X_OK) != 0) {
    return make_error(pg_bindir() +
                      "/{initdb,postgres} not found: install Debian's postgresql (PostgreSQL "
                      "15), e.g. scripts/setup.sh");
  }
  std::unique_ptr<PgCluster> c(new PgCluster());
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) pw = getpwnam("nobody");
    if (pw == nullptr) return make_error("running as root, but no postgres or nobody user");
    c->drop_ = true;
    c->uid_ = pw->pw_uid;
    c->gid_ = pw->pw_gid;
  }
  // Always under /tmp: the unprivileged user must reach it, and the socket path must be short.
  fs::path base = "/tmp";
  clean_stale(base);
  std::string tmpl = (base / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return make_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  c->dir_ = tmpl;
  { std::ofstream(c->dir_ + "/owner.pid") << getpid() << "\n"; }
  for (const char* sub : {"/data", "/sock"}) {
    if (mkdir((c->dir_ + sub).c_str(), 0700) != 0) {
      return make_error("mkdir " + c->dir_ + sub + ": " + std::strerror(errno));
    }
  }
  if (c->drop_) {
    for (const char* sub : {"", "/data", "/sock"}) {
      if (chown((c->dir_ + sub).c_str(), c->uid_, c->gid_) != 0) {
        return make_error("chown " + c->dir_ + sub + ": " + std::strerror(errno));
      }
    }
  }
  c->owner_password_ = random_hex(16);
  c->server_password_ = random_hex(16);

  std::string log = c->dir_ + "/initdb.log";
  pid_t pid =
      spawn({initdb, "-D", c->dir_ + "/data", "-U", "postgres", "-E", "UTF8", "--no-locale",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"},
            log, c->drop_, c->uid_, c->gid_);
  if (pid < 0) return make_error("cannot start initdb: " + std::string(std::strerror(errno)));
  int status = wait_for(pid, std::chrono::seconds(120));
  if (status == -1) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return make_error("initdb did not finish in 120 s");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("initdb failed (" +
                      (c->drop_ ? std::string("as uid ") + std::to_string(c->uid_) + ")"
                                : std::string("as this user)")) +
                      ":\n" + tail(read_text(log)));
  }
  Status launched = make_error("not started");
  for (int attempt = 0; attempt < 3 && !launched.ok(); ++attempt) launched = c->launch();
  if (!launched.ok()) return launched.error();

  // Roles, as the bootstrap superuser over the socket.
  auto su = api::Db::open(c->superuser_url("postgres"));
  if (!su.ok()) return make_error(su.error().message);
  for (const std::string& sql :
       {"CREATE ROLE requiem_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '" +
            c->owner_password_ + "'",
        std::string("CREATE ROLE ") + std::string(api::kAppRole) + " NOLOGIN",
        "CREATE ROLE requiem_server LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
        "INHERIT IN ROLE " +
            std::string(api::kAppRole) + " PASSWORD '" + c->server_password_ + "'"}) {
    RITMA_TRY(exec_admin(**su, sql));
  }
  return c;
}

Status PgCluster::launch() {
  port_ = free_port();
  if (port_ == 0) return make_error("no free port on 127.0.0.1");
  std::string log = dir_ + "/postgres.log";
  pid_ = spawn({pg_bindir() + "/postgres",
                "-D",
                dir_ + "/data",
                "-p",
                std::to_string(port_),
                "-k",
                dir_ + "/sock",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_permissions=0700",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=250",
                "-c",
                "shared_buffers=32MB",
                "-c",
                "log_min_messages=warning"},
               log, drop_, uid_, gid_);
  if (pid_ < 0) return make_error("cannot start postgres: " + std::string(std::strerror(errno)));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return make_error("postgres exited during startup:\n" + tail(read_text(log)));
    }
    auto db = api::Db::open(superuser_url("postgres"));
    if (db.ok()) return {};
    last = db.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return make_error("postgres not ready in 60 s: " + last + "\n" + tail(read_text(log)));
}

void PgCluster::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGINT);  // fast shutdown
  if (wait_for(pid_, std::chrono::seconds(20)) == -1) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

PgCluster::~PgCluster() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<PgCluster*> PgCluster::shared() {
  static std::mutex mu;
  static std::unique_ptr<PgCluster> cluster;
  static std::optional<Error> failure;
  std::lock_guard<std::mutex> lock(mu);
  if (cluster) return cluster.get();
  if (failure) return *failure;
  auto c = start();
  if (!c.ok()) {
    failure = c.error();
    return c.error();
  }
  cluster = std::move(c).value();
  return cluster.get();
}

std::string PgCluster::superuser_url(const std::string& dbname) const {
  return "postgresql:///" + dbname + "?host=" + dir_ + "/sock&port=" + std::to_string(port_) +
         "&user=postgres";
}

Result<PgDatabase> PgCluster::create_database(bool migrate) {
  PgDatabase d;
  d.name = "t" + std::to_string(next_db_++);
  auto su = api::Db::open(superuser_url("postgres"));
  if (!su.ok()) return make_error(su.error().message);
  RITMA_TRY(exec_admin(**su, "CREATE DATABASE " + d.name + " OWNER requiem_owner"));
  RITMA_TRY(exec_admin(**su, "REVOKE ALL ON DATABASE " + d.name + " FROM PUBLIC"));
  RITMA_TRY(exec_admin(
      **su, "GRANT CONNECT ON DATABASE " + d.name + " TO " + std::string(api::kAppRole)));
  std::string hostport = "@127.0.0.1:" + std::to_string(port_) + "/" + d.name;
  d.owner_url = "postgresql://requiem_owner:" + owner_password_ + hostport;
  d.server_url = "postgresql://requiem_server:" + server_password_ + hostport;
  d.superuser_url = superuser_url(d.name);
  if (migrate) {
    auto owner = api::Db::open(d.owner_url);
    if (!owner.ok()) return make_error(owner.error().message);
    auto m = api::apply_migrations(**owner);
    if (!m.ok()) return make_error(m.error().message);
  }
  return d;
}

}  // namespace ritma::test
