// The real ritma-sensor against the real kernel: a scripted workload must appear in the hot
// index with the right pid, ppid, paths, addresses and results; one writer per node; a crash
// is followed by a run that says so; losses under a storm are counted, never silent; pid reuse
// never merges two processes; a process in a docker-like cgroup is attributed to that id.
//
// Needs root (BPF). Without it each test skips with a message, unless CI=true: then it fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "capture/bpf/sensor_event.h"
#include "store/hot_index.h"
#include "test_util.h"

namespace ritma {
namespace {

using capture::Event;
using capture::EventType;
using namespace std::chrono_literals;

#define REQUIRE_ROOT()                                                                      \
  do {                                                                                      \
    if (geteuid() != 0) {                                                                   \
      if (test::in_ci()) FAIL() << "CI=true: this test needs root (BPF) and must run";      \
      GTEST_SKIP() << "needs root to load BPF programs (run as root, or CI=true to force)"; \
    }                                                                                       \
  } while (0)

// A ritma-sensor process started in the background with its own store.
class SensorProcess {
 public:
  // `prefix` runs before the sensor binary (e.g. setpriv and its options).
  SensorProcess(const std::filesystem::path& base, std::vector<std::string> extra = {},
                const std::string& node = "test-node", std::vector<std::string> prefix = {})
      : base_(base) {
    std::filesystem::create_directories(base);
    err_path_ = base / ("sensor-" + std::to_string(++counter_) + ".err");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 2);
      dup2(fd, 1);
      setenv("RITMA_NODE_ID", node.c_str(), 1);
      setenv("RITMA_SIDECAR_LOCK_DIR", (base / "locks").c_str(), 1);
      std::vector<std::string> args = prefix;
      for (const char* a : {RITMA_SENSOR_BIN, "--base-dir"}) args.emplace_back(a);
      args.push_back(base.string());
      args.emplace_back("--status-interval");
      args.emplace_back("0");
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~SensorProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Waits until the sensor says it is recording (its BPF programs are attached).
  bool wait_recording(std::chrono::milliseconds timeout = 20s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (stderr_text().find("recording on node") != std::string::npos) return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        exit_status_ = status;
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // SIGTERM (or another signal) and wait; returns the wait status.
  int stop(int sig = SIGTERM) {
    if (reaped_) return exit_status_;
    kill(pid_, sig);
    waitpid(pid_, &exit_status_, 0);
    reaped_ = true;
    return exit_status_;
  }
  int wait_exit() {
    if (!reaped_) {
      waitpid(pid_, &exit_status_, 0);
      reaped_ = true;
    }
    return exit_status_;
  }
  std::string stderr_text() const {
    std::ifstream f(err_path_);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  pid_t pid() const { return pid_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path base_;
  std::filesystem::path err_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = 0;
};

// Every event of the store, in sequence order (the query orders by time; records from
// different CPUs can be a few microseconds out of time order in the ring buffer).
std::vector<Event> all_events(const std::filesystem::path& base) {
  auto index = store::HotIndex::open_reader(base / "index_db.sqlite");
  EXPECT_TRUE(index.ok()) << (index.ok() ? "" : index.error().message);
  if (!index.ok()) return {};
  store::EventQuery q;
  q.limit = 0;
  auto events = index->query(q);
  EXPECT_TRUE(events.ok()) << (events.ok() ? "" : events.error().message);
  if (!events.ok()) return {};
  std::sort(events->begin(), events->end(),
            [](const Event& a, const Event& b) { return a.seq < b.seq; });
  return *events;
}

// Forks a child that runs `fn` and exits with its return value; returns the child's pid after
// it has been reaped, and its exit status through *status.
template <typename Fn>
pid_t run_child(Fn fn, int* status = nullptr) {
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int st = 0;
  waitpid(pid, &st, 0);
  if (status) *status = st;
  return pid;
}

pid_t exec_child(const std::vector<std::string>& args) {
  return run_child([&] {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    return 127;
  });
}

const Event* find_event(const std::vector<Event>& events,
                        const std::function<bool(const Event&)>& p) {
  for (const auto& e : events) {
    if (p(e)) return &e;
  }
  return nullptr;
}

std::string name_of(const Event& e) {
  return std::string(capture::event_name(e.type, e.op));
}

// bpftrace (Debian's package) as an independent tracer: it records forks and execs from the
// kernel's classic sched tracepoints, with tracefs mounted in a private mount namespace so the
// host is untouched.
class BpftraceRecorder {
 public:
  explicit BpftraceRecorder(const std::filesystem::path& out) : out_(out) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl("/usr/bin/unshare", "unshare", "-m", "/bin/sh", "-c",
            "mount -t tracefs nodev /sys/kernel/tracing && exec /usr/bin/bpftrace -e '"
            "tracepoint:sched:sched_process_fork { printf(\"FORK %d %d\\n\", args->parent_pid, "
            "args->child_pid); } "
            "tracepoint:sched:sched_process_exec { printf(\"EXEC %d %s\\n\", pid, "
            "str(args->filename)); }'",
            nullptr);
      _exit(127);
    }
  }
  ~BpftraceRecorder() { stop(); }
  bool wait_attached() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (text().find("Attaching") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(1s);  // "Attaching" is printed just before the attach itself
    return true;
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGINT);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::string text() const {
    std::ifstream f(out_);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  // (pid, filename) of every exec by a process in the tree under `root` (its forks included),
  // leaving out the subtrees of `excluded` children.
  std::multiset<std::pair<pid_t, std::string>> execs_in_tree(
      pid_t root, const std::set<pid_t>& excluded) const {
    std::map<pid_t, std::vector<pid_t>> children;
    std::vector<std::pair<pid_t, std::string>> all;
    std::istringstream in(text());
    std::string line, kind;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      ls >> kind;
      if (kind == "FORK") {
        pid_t p, c;
        ls >> p >> c;
        children[p].push_back(c);
      } else if (kind == "EXEC") {
        pid_t p;
        std::string file;
        ls >> p >> file;
        all.emplace_back(p, file);
      }
    }
    std::set<pid_t> tree{root};
    std::vector<pid_t> frontier{root};
    while (!frontier.empty()) {
      const pid_t p = frontier.back();
      frontier.pop_back();
      for (pid_t c : children[p]) {
        if (!excluded.count(c) && tree.insert(c).second) frontier.push_back(c);
      }
    }
    std::multiset<std::pair<pid_t, std::string>> out;
    for (const auto& e : all) {
      if (tree.count(e.first)) out.insert(e);
    }
    return out;
  }

 private:
  std::filesystem::path out_;
  pid_t pid_ = -1;
};

// The same from the sensor's own fork and exec events: successful execs in the tree.
std::multiset<std::pair<pid_t, std::string>> sensor_execs_in_tree(const std::vector<Event>& events,
                                                                  pid_t root,
                                                                  const std::set<pid_t>& excluded) {
  std::map<uint32_t, std::vector<uint32_t>> children;
  for (const auto& e : events) {
    if (e.type == EventType::kFork) children[e.pid].push_back(static_cast<uint32_t>(e.arg0));
  }
  std::set<uint32_t> tree{static_cast<uint32_t>(root)};
  std::vector<uint32_t> frontier{static_cast<uint32_t>(root)};
  while (!frontier.empty()) {
    const uint32_t p = frontier.back();
    frontier.pop_back();
    for (uint32_t c : children[p]) {
      if (!excluded.count(static_cast<pid_t>(c)) && tree.insert(c).second) frontier.push_back(c);
    }
  }
  std::multiset<std::pair<pid_t, std::string>> out;
  for (const auto& e : events) {
    if (e.type == EventType::kExec && e.result == 0 && tree.count(e.pid)) {
      out.emplace(static_cast<pid_t>(e.pid), e.path);
    }
  }
  return out;
}

// The scripted workload, recorded by the sensor and, at the same time, by bpftrace: every
// workload event is in the index (and in `ritma events --json`) with the right pid, ppid,
// argv/path/address and result, and the sensor's execs in the workload's process tree are
// exactly bpftrace's.
TEST(Sensor, RecordsScriptedWorkloadWithResults) {
  REQUIRE_ROOT();
  if (access("/usr/bin/bpftrace", X_OK) != 0) {
    if (test::in_ci()) FAIL() << "CI=true: bpftrace missing (scripts/setup.sh installs it)";
    GTEST_SKIP() << "bpftrace not installed (run scripts/setup.sh)";
  }
  test::TempDir dir;
  BpftraceRecorder bpftrace(dir / "bpftrace.out");
  ASSERT_TRUE(bpftrace.wait_attached()) << bpftrace.text();
  SensorProcess sensor(dir / "store");
  ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
  const std::filesystem::path work = dir / "work";
  std::filesystem::create_directories(work);

  // exec with distinctive argv, and a failed exec
  const pid_t echo_pid = exec_child({"/bin/echo", "ritma-marker-7f3a", "second arg"});
  const pid_t missing_pid = exec_child({(work / "does-not-exist").string()});
  // files: create/write, rename, chmod, unlink
  const std::string f1 = (work / "created.txt").string();
  const std::string f2 = (work / "renamed.txt").string();
  const pid_t file_pid = run_child([&] {
    int fd = open(f1.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1) return 1;
    close(fd);
    if (rename(f1.c_str(), f2.c_str()) != 0) return 2;
    if (chmod(f2.c_str(), 0600) != 0) return 3;
    if (unlink(f2.c_str()) != 0) return 4;
    if (unlink(f2.c_str()) == 0) return 5;  // fails with ENOENT: the failure must show
    return 0;
  });
  // network: a listener, a connect that works, one that is refused, a DNS query over UDP/53
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t alen = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &alen);
  const uint16_t port = ntohs(addr.sin_port);
  int closed_sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in closed_addr = addr;
  closed_addr.sin_port = 0;
  bind(closed_sock, reinterpret_cast<sockaddr*>(&closed_addr), sizeof closed_addr);
  getsockname(closed_sock, reinterpret_cast<sockaddr*>(&closed_addr), &alen);
  close(closed_sock);  // nothing listens there now
  const uint16_t refused_port = ntohs(closed_addr.sin_port);
  const pid_t net_pid = run_child([&] {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return 1;
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, reinterpret_cast<const sockaddr*>(&closed_addr), sizeof closed_addr) == 0)
      return 2;
    close(s);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in dns{};
    dns.sin_family = AF_INET;
    dns.sin_port = htons(53);
    dns.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const uint8_t q[] = {0xab, 0xcd, 1,   0,   0, 1,   0,   0,   0,   0, 0, 0, 5, 'r',
                         'i',  't',  'm', 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    sendto(u, q, sizeof q, 0, reinterpret_cast<const sockaddr*>(&dns), sizeof dns);
    close(u);
    return 0;
  });
  int accepted = accept(listener, nullptr, nullptr);
  if (accepted >= 0) close(accepted);
  close(listener);
  // privilege: setuid to nobody
  const pid_t setuid_pid = run_child([] { return setuid(65534) == 0 ? 0 : 1; });
  // memfd exec: copy /bin/true into a memfd and fexecve it
  const pid_t memfd_pid = run_child([] {
    int fd = static_cast<int>(syscall(SYS_memfd_create, "ritma-memfd", 0));
    int src = open("/bin/true", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0) {
      if (write(fd, buf, static_cast<size_t>(n)) != n) return 1;
    }
    char* const args[] = {const_cast<char*>("memfd-true"), nullptr};
    char* const envp[] = {nullptr};
    fexecve(fd, args, envp);
    return 2;
  });
  // ptrace attach to a sleeping child
  pid_t sleeper = fork();
  if (sleeper == 0) {
    pause();
    _exit(0);
  }
  const pid_t tracer_pid = run_child([&] {
    if (ptrace(PTRACE_ATTACH, sleeper, nullptr, nullptr) != 0) return 1;
    waitpid(sleeper, nullptr, 0);
    ptrace(PTRACE_DETACH, sleeper, nullptr, nullptr);
    return 0;
  });
  kill(sleeper, SIGKILL);
  waitpid(sleeper, nullptr, 0);
  // a small process tree: a shell running several programs, a nested shell, a failed exec
  exec_child({"/bin/sh", "-c",
              "for i in 1 2 3 4 5; do /bin/echo ritma-gt-$i >/dev/null; done; /bin/true; "
              "/bin/sh -c '/bin/echo nested >/dev/null; /usr/bin/env true'; "
              "/bin/no-such-binary 2>/dev/null; exit 0"});

  std::this_thread::sleep_for(500ms);
  const int status = sensor.stop();
  bpftrace.stop();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << sensor.stderr_text();
  const auto events = all_events(dir / "store");
  ASSERT_FALSE(events.empty());
  const pid_t me = getpid();

  const Event* e = find_event(events, [&](const Event& x) {
    return x.type == EventType::kExec && x.pid == static_cast<uint32_t>(echo_pid);
  });
  ASSERT_NE(e, nullptr) << "exec of /bin/echo";
  EXPECT_EQ(e->ppid, static_cast<uint32_t>(me));
  EXPECT_EQ(e->path, "/bin/echo");
  EXPECT_EQ(e->argv, (std::vector<std::string>{"/bin/echo", "ritma-marker-7f3a", "second arg"}));
  EXPECT_EQ(e->result, 0);
  e = find_event(events, [&](const Event& x) {
    return x.type == EventType::kExec && x.pid == static_cast<uint32_t>(missing_pid);
  });
  ASSERT_NE(e, nullptr) << "failed exec";
  EXPECT_EQ(e->result, -ENOENT);

  auto file_op = [&](const char* op, const std::string& path, int64_t result) {
    return find_event(events, [&](const Event& x) {
      return x.pid == static_cast<uint32_t>(file_pid) && name_of(x) == op && x.path == path &&
             x.result == result;
    });
  };
  EXPECT_NE(find_event(events,
                       [&](const Event& x) {
                         return x.pid == static_cast<uint32_t>(file_pid) && name_of(x) == "open" &&
                                x.path == f1 && x.result >= 0 && (x.arg0 & O_CREAT);
                       }),
            nullptr)
      << "open(O_CREAT) with its fd";
  e = file_op("rename", f1, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->path2, f2);
  e = file_op("chmod", f2, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->arg1, 0600u);
  EXPECT_NE(file_op("unlink", f2, 0), nullptr);
  EXPECT_NE(file_op("unlink", f2, -ENOENT), nullptr) << "the failed unlink shows";

  e = find_event(events, [&](const Event& x) {
    return x.pid == static_cast<uint32_t>(net_pid) && name_of(x) == "connect" &&
           x.addr.port == port && x.result == 0;
  });
  ASSERT_NE(e, nullptr) << "connect to the listener";
  EXPECT_EQ(e->addr.to_string(), "127.0.0.1:" + std::to_string(port));
  EXPECT_NE(find_event(events,
                       [&](const Event& x) {
                         return x.pid == static_cast<uint32_t>(net_pid) &&
                                name_of(x) == "connect" && x.addr.port == refused_port &&
                                x.result == -ECONNREFUSED;
                       }),
            nullptr)
      << "refused connect";
  e = find_event(events, [&](const Event& x) {
    return x.pid == static_cast<uint32_t>(net_pid) && name_of(x) == "dns";
  });
  ASSERT_NE(e, nullptr) << "DNS query";
  EXPECT_EQ(e->dns_name, "ritma.test");
  EXPECT_EQ(e->dns_type, 1);
  EXPECT_EQ(e->addr.to_string(), "127.0.0.1:53");
  EXPECT_NE(find_event(events,
                       [&](const Event& x) {
                         return name_of(x) == "listen" && x.pid == static_cast<uint32_t>(me);
                       }),
            nullptr);

  e = find_event(events, [&](const Event& x) {
    return x.pid == static_cast<uint32_t>(setuid_pid) && name_of(x) == "setuid";
  });
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->arg0, 65534u);
  EXPECT_EQ(e->result, 0);

  e = find_event(events, [&](const Event& x) {
    return x.pid == static_cast<uint32_t>(memfd_pid) && x.type == EventType::kExec;
  });
  ASSERT_NE(e, nullptr) << "memfd exec";
  EXPECT_NE(e->flags & RITMA_F_EXEC_MEMFD, 0u) << "flagged as exec from memfd";
  EXPECT_NE(find_event(events,
                       [&](const Event& x) {
                         return x.pid == static_cast<uint32_t>(memfd_pid) &&
                                name_of(x) == "memfd_create" && x.path == "ritma-memfd";
                       }),
            nullptr);

  e = find_event(events, [&](const Event& x) {
    return x.pid == static_cast<uint32_t>(tracer_pid) && name_of(x) == "ptrace";
  });
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->arg0, static_cast<uint64_t>(PTRACE_ATTACH));
  EXPECT_EQ(e->arg1, static_cast<uint64_t>(sleeper));

  // Every fork of ours and every child's exit is there, with actor ids that differ.
  std::set<std::string> actors;
  for (pid_t p : {echo_pid, file_pid, net_pid, setuid_pid}) {
    const Event* fork_ev = find_event(events, [&](const Event& x) {
      return x.type == EventType::kFork && x.arg0 == static_cast<uint64_t>(p);
    });
    EXPECT_NE(fork_ev, nullptr) << "fork of " << p;
    const Event* exit_ev = find_event(events, [&](const Event& x) {
      return x.type == EventType::kExit && x.pid == static_cast<uint32_t>(p);
    });
    ASSERT_NE(exit_ev, nullptr) << "exit of " << p;
    actors.insert(to_hex(exit_ev->actor));
  }
  EXPECT_EQ(actors.size(), 4u);

  // Exec ground truth: the workload is every process this test forked after the tracers
  // started, other than the sensor itself.
  const auto bt_execs = bpftrace.execs_in_tree(me, {sensor.pid()});
  const auto sensor_execs = sensor_execs_in_tree(events, me, {sensor.pid()});
  EXPECT_GE(bt_execs.size(), 12u) << bpftrace.text();
  EXPECT_EQ(sensor_execs, bt_execs);

  // The sensor's own activity was excluded, and counted as such.
  uint64_t self_excluded = 0;
  for (const auto& x : events) {
    if (x.type == EventType::kFiltered && x.arg0 == 5) self_excluded += x.count;
  }
  EXPECT_GT(self_excluded, 0u) << "the sensor's own opens and forks are counted, not silent";

  // The same events through the command a person types.
  const auto cli = test::run_program({RITMA_BIN, "events", "--json", "--limit", "0", "--db",
                                      (dir / "store" / "index_db.sqlite").string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(static_cast<size_t>(std::count(cli.out.begin(), cli.out.end(), '\n')), events.size());
  EXPECT_NE(cli.out.find("ritma-marker-7f3a"), std::string::npos);
  EXPECT_NE(cli.out.find("\"ritma.test\""), std::string::npos);
}

TEST(Sensor, SecondSensorOnTheSameNodeRefuses) {
  REQUIRE_ROOT();
  test::TempDir dir;
  SensorProcess first(dir / "store");
  ASSERT_TRUE(first.wait_recording()) << first.stderr_text();
  SensorProcess second(dir / "store");
  const int status = second.wait_exit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  EXPECT_NE(second.stderr_text().find("already running (pid " + std::to_string(first.pid()) + ")"),
            std::string::npos)
      << second.stderr_text();
  first.stop();
}

TEST(Sensor, RestartAfterKillSaysTheRunEndedUncleanly) {
  REQUIRE_ROOT();
  test::TempDir dir;
  std::atomic<bool> storm{true};
  std::thread t([&] {
    const std::string p = (dir / "storm").string();
    while (storm) {
      int fd = open(p.c_str(), O_WRONLY | O_CREAT, 0644);
      if (fd >= 0) close(fd);
    }
  });
  {
    SensorProcess sensor(dir / "store");
    ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
    std::this_thread::sleep_for(1500ms);
    sensor.stop(SIGKILL);
  }
  storm = false;
  t.join();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "store" / "index_db.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);

  SensorProcess again(dir / "store", {"--duration", "1s"});
  ASSERT_EQ(again.wait_exit(), 0) << again.stderr_text();
  const auto events = all_events(dir / "store");
  std::vector<const Event*> gaps;
  for (const auto& e : events) {
    if (e.type == EventType::kGap) gaps.push_back(&e);
  }
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[1]->arg0, 2u) << "unclean end of the previous run";
  EXPECT_EQ(gaps[1]->arg1, 1u) << "names the previous run";
  EXPECT_NE(gaps[1]->path.find("ended uncleanly"), std::string::npos) << gaps[1]->path;
  // The sequence continues within the boot: no reset.
  for (size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].seq, events[i - 1].seq + 1);
}

TEST(Sensor, StormAgainstTinyRingBufferCountsEveryLoss) {
  REQUIRE_ROOT();
  test::TempDir dir;
  SensorProcess sensor(dir / "store", {"--ringbuf-bytes", "8192", "--readonly-opens", "all"});
  ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
  std::atomic<bool> storm{true};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string p = (dir / ("storm-" + std::to_string(i))).string();
      while (storm) {
        int fd = open(p.c_str(), O_WRONLY | O_CREAT, 0644);
        if (fd >= 0) close(fd);
      }
    });
  }
  std::this_thread::sleep_for(5s);
  storm = false;
  for (auto& t : threads) t.join();
  // An independent reader of the kernel's drop counters while the sensor still runs.
  const auto dump =
      test::run_program({"/usr/sbin/bpftool", "map", "dump", "name", "counters", "-j"});
  uint64_t bpftool_drops = 0;
  {
    const std::string key = "\"formatted\":{\"key\":0,\"values\":[";
    const size_t at = dump.out.find(key);
    ASSERT_NE(at, std::string::npos) << dump.out << dump.err;
    std::string_view rest(dump.out);
    rest = rest.substr(at + key.size(), rest.find(']', at) - at - key.size());
    for (size_t v = rest.find("\"value\":"); v != std::string_view::npos;
         v = rest.find("\"value\":", v + 1)) {
      bpftool_drops += std::stoull(std::string(rest.substr(v + 8, 20)));
    }
  }
  ASSERT_EQ(sensor.stop(), 0) << sensor.stderr_text();
  const auto events = all_events(dir / "store");
  uint64_t lost = 0;
  for (const auto& e : events) {
    if (e.type == EventType::kLoss) lost += e.count;
  }
  EXPECT_GT(lost, 0u) << "a 8 KiB ring buffer under a 4-thread storm must overflow";
  // The loss events sealed in the index add up exactly to the kernel's counters as read at
  // stop (after the programs were detached, so nothing could be dropped later) ...
  const std::string err = sensor.stderr_text();
  const std::string drops_key = "kernel counters at stop: ringbuf_drops=";
  const std::string overflow_key = "pending_overflow=";
  const size_t k = err.find(drops_key);
  ASSERT_NE(k, std::string::npos) << err;
  const uint64_t kernel_drops = std::stoull(err.substr(k + drops_key.size()));
  const size_t po = err.find(overflow_key, k);
  ASSERT_NE(po, std::string::npos);
  const uint64_t kernel_overflow = std::stoull(err.substr(po + overflow_key.size()));
  EXPECT_EQ(lost, kernel_drops + kernel_overflow) << err;
  // ... and the counters only grow: the independent mid-run reading is not above them.
  EXPECT_GT(bpftool_drops, 0u);
  EXPECT_LE(bpftool_drops, kernel_drops);
  // No gap in sequence numbers: every loss is an event in sequence, not a hole.
  for (size_t i = 1; i < events.size(); ++i) {
    ASSERT_EQ(events[i].seq, events[i - 1].seq + 1) << "gap after seq " << events[i - 1].seq;
  }
}

TEST(Sensor, PidReuseGivesDistinctActors) {
  REQUIRE_ROOT();
  test::TempDir dir;
  SensorProcess sensor(dir / "store");
  ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
  // Force the kernel to hand out the same pid twice via ns_last_pid (root only).
  pid_t first = 0, second = 0;
  for (int attempt = 0; attempt < 20 && (first == 0 || first != second); ++attempt) {
    first = exec_child({"/bin/true"});
    std::ofstream("/proc/sys/kernel/ns_last_pid") << (first - 1);
    second = exec_child({"/bin/true"});
  }
  ASSERT_EQ(first, second) << "could not make the kernel reuse a pid";
  std::this_thread::sleep_for(300ms);
  sensor.stop();
  const auto events = all_events(dir / "store");
  std::map<std::string, int> execs_by_actor, exits_by_actor;
  for (const auto& e : events) {
    if (e.pid != static_cast<uint32_t>(first)) continue;
    if (e.type == EventType::kExec) execs_by_actor[to_hex(e.actor)]++;
    if (e.type == EventType::kExit) exits_by_actor[to_hex(e.actor)]++;
  }
  ASSERT_GE(execs_by_actor.size(), 2u) << "two processes with pid " << first;
  for (const auto& [actor, n] : execs_by_actor) {
    EXPECT_EQ(exits_by_actor[actor], 1) << "each actor has its own exit";
  }
}

TEST(Sensor, ProcessInDockerLikeCgroupIsAttributed) {
  REQUIRE_ROOT();
  const std::filesystem::path v2 = std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.procs")
                                       ? "/sys/fs/cgroup/unified"
                                       : "/sys/fs/cgroup";
  const std::string id(64, 'c');
  const auto parent = v2 / ("ritma-test-" + std::to_string(getpid()));
  const auto scope = parent / ("docker-" + id + ".scope");
  std::filesystem::create_directories(scope);
  test::TempDir dir;
  SensorProcess sensor(dir / "store");
  ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
  const pid_t child = run_child([&] {
    std::ofstream(scope / "cgroup.procs") << getpid() << std::flush;
    execl("/bin/echo", "/bin/echo", "in-container", nullptr);
    return 127;
  });
  std::this_thread::sleep_for(300ms);
  sensor.stop();
  std::filesystem::remove(scope);
  std::filesystem::remove(parent);
  const auto events = all_events(dir / "store");
  const Event* e = find_event(events, [&](const Event& x) {
    return x.type == EventType::kExec && x.pid == static_cast<uint32_t>(child);
  });
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->container_id, id);
}

// The deployment grants CAP_BPF and CAP_PERFMON only (docs/DEPLOY.md): the sensor runs as an
// unprivileged uid with exactly those and still captures.
TEST(Sensor, CapturesWithOnlyBpfAndPerfmonCapabilities) {
  REQUIRE_ROOT();
  test::TempDir dir;
  const auto store = dir / "store";
  std::filesystem::create_directories(store);
  ASSERT_EQ(chown(store.c_str(), 65534, 65534), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  SensorProcess sensor(store, {}, "lp-node",
                       {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon",
                        "--bounding-set=-all,+bpf,+perfmon"});
  ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
  const pid_t marker = exec_child({"/bin/echo", "least-privilege-marker"});
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(sensor.stop(), 0) << sensor.stderr_text();
  const auto events = all_events(store);
  const Event* e = find_event(events, [&](const Event& x) {
    return x.type == EventType::kExec && x.pid == static_cast<uint32_t>(marker);
  });
  ASSERT_NE(e, nullptr) << sensor.stderr_text();
  EXPECT_EQ(e->argv, (std::vector<std::string>{"/bin/echo", "least-privilege-marker"}));
  const Event* run = find_event(events, [](const Event& x) { return x.type == EventType::kRun; });
  ASSERT_NE(run, nullptr);
}

// ---------------------------------------------------------------- the sealed store

namespace seal_tests {

// A shell loop making execs, file writes and connects until killed.
pid_t start_workload(const std::filesystem::path& dir) {
  const std::string script = "cd '" + dir.string() +
                             "' && while :; do /bin/true; echo x > f.txt; mv f.txt g.txt; "
                             "rm -f g.txt; (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; "
                             "sleep 0.05; done";
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // its own group, so stop_workload reaches the loop's children too
    execl("/bin/bash", "bash", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void stop_workload(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::string node_fingerprint(const std::filesystem::path& base) {
  const auto r =
      test::run_program({RITMA_BIN, "keys", "show", "--base-dir", base.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() && j.contains("fingerprint") ? j["fingerprint"].get<std::string>() : "";
}

}  // namespace seal_tests

TEST(Sensor, SealedStoreVerifiesAfterATwoMinuteCaptureAndMatchesTheHotIndex) {
  REQUIRE_ROOT();
  test::TempDir dir;
  const auto base = dir / "store";
  const pid_t work = seal_tests::start_workload(dir.path());
  {
    SensorProcess sensor(base, {"--duration", "120s"});
    ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
    ASSERT_EQ(sensor.wait_exit(), 0) << sensor.stderr_text();
    EXPECT_NE(sensor.stderr_text().find("sealed "), std::string::npos) << sensor.stderr_text();
  }
  seal_tests::stop_workload(work);
  const std::string fp = seal_tests::node_fingerprint(base);
  ASSERT_EQ(fp.size(), 64u);
  const auto v = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", base.string(), "--key", fp, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  const auto report = nlohmann::json::parse(v.out);
  const auto hot = all_events(base);
  ASSERT_GT(hot.size(), 1000u) << "the workload should make thousands of events in 2 minutes";
  EXPECT_EQ(report["events"].get<uint64_t>(), hot.size());
  EXPECT_GE(report["windows"].get<uint64_t>(), 12u);
  EXPECT_TRUE(report["pinned"].get<bool>());
  // A wrong key is refused.
  const auto wrong = test::run_program(
      {RITMA_BIN, "verify", "--store", "--base-dir", base.string(), "--key", std::string(64, 'a')});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out << wrong.err;
  // The independent reader (Python, written from docs/FORMAT.md) agrees on the last window.
  const auto py =
      test::run_program({"/usr/bin/python3", RITMA_SEAL_READER, (base / "RITMA_OUT").string()});
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
}

// Issue 5: a range of a live capture, exported as a ProofPack and carried where no store
// exists, verifies offline with the node's fingerprint, and holds exactly the events
// `ritma events` shows for that range.
TEST(Sensor, AProofPackOfALiveCaptureVerifiesOfflineAndCountsWhatEventsShows) {
  REQUIRE_ROOT();
  test::TempDir dir;
  const auto base = dir / "store";
  const pid_t work = seal_tests::start_workload(dir.path());
  {
    SensorProcess sensor(base, {"--window", "2", "--duration", "12s"});
    ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
    ASSERT_EQ(sensor.wait_exit(), 0) << sensor.stderr_text();
  }
  seal_tests::stop_workload(work);
  const auto events = all_events(base);
  ASSERT_GT(events.size(), 100u);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& e : events) {
    lo = std::min(lo, e.wall_ns);
    hi = std::max(hi, e.wall_ns);
  }
  // A range inside the capture, not aligned to windows.
  const int64_t from = lo + 3'300'000'000, to = hi - 3'100'000'000;
  ASSERT_LT(from, to);
  const auto shown = test::run_program({RITMA_BIN, "events", "--base-dir", base.string(), "--from",
                                        std::to_string(from), "--to", std::to_string(to), "--limit",
                                        "0", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const auto shown_count =
      static_cast<uint64_t>(std::count(shown.out.begin(), shown.out.end(), '\n'));
  ASSERT_GT(shown_count, 0u);
  const std::string fp = seal_tests::node_fingerprint(base);
  ASSERT_EQ(fp.size(), 64u);
  // Both forms, then carried where nothing of the store is.
  test::TempDir elsewhere;
  for (const std::string form : {"pack.tar.zst", "pack"}) {
    const auto ex = test::run_program({RITMA_BIN, "export-proof", "--base-dir", base.string(),
                                       "--from", std::to_string(from), "--to", std::to_string(to),
                                       "--out", (dir / form).string(), "--json"});
    ASSERT_EQ(ex.exit_code, 0) << ex.out << ex.err;
    std::filesystem::rename(dir / form, elsewhere / form);
  }
  std::filesystem::remove_all(base);
  for (const std::string form : {"pack.tar.zst", "pack"}) {
    SCOPED_TRACE(form);
    const auto moved = elsewhere / form;
    const auto v = test::run_program({RITMA_BIN, "verify", moved.string(), "--key", fp, "--json"});
    ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
    const auto report = nlohmann::json::parse(v.out);
    EXPECT_TRUE(report["pinned"].get<bool>());
    EXPECT_EQ(report["events_in_range"].get<uint64_t>(), shown_count);
    EXPECT_GE(report["windows"].get<uint64_t>(), 3u);
    // Not pinned: internally consistent, exit 3.
    const auto unpinned = test::run_program({RITMA_BIN, "verify", moved.string()});
    EXPECT_EQ(unpinned.exit_code, 3) << unpinned.out << unpinned.err;
    EXPECT_NE(unpinned.out.find("NOT pinned"), std::string::npos) << unpinned.out;
  }
}

TEST(Sensor, SealedStoreVerifiesAfterEachOfTwentySigkills) {
  REQUIRE_ROOT();
  test::TempDir dir;
  const auto base = dir / "store";
  const pid_t work = seal_tests::start_workload(dir.path());
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause_ms(100, 2500);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  int unsealed_reports = 0;
  for (int i = 0; i < 20; ++i) {
    SensorProcess sensor(base, {"--window", "1"});
    ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
    const int ms = pause_ms(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    sensor.stop(SIGKILL);
    const auto v =
        test::run_program({RITMA_BIN, "verify", "--store", "--base-dir", base.string(), "--json"});
    ASSERT_EQ(v.exit_code, 0) << "kill " << i << " after " << ms << " ms:\n" << v.out << v.err;
    const auto report = nlohmann::json::parse(v.out);
    ASSERT_TRUE(report.contains("unsealed"));
    if (!report["unsealed"].empty()) ++unsealed_reports;
  }
  {
    SensorProcess sensor(base, {"--duration", "3s"});
    ASSERT_EQ(sensor.wait_exit(), 0) << sensor.stderr_text();
  }
  seal_tests::stop_workload(work);
  const auto v =
      test::run_program({RITMA_BIN, "verify", "--store", "--base-dir", base.string(), "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  // Every kill is on record: 20 gap events say the previous run ended uncleanly.
  int unclean = 0;
  for (const auto& e : all_events(base))
    if (e.type == EventType::kGap && e.arg0 == 2) ++unclean;
  EXPECT_EQ(unclean, 20);
  // A kill mid-window leaves events recorded but not sealed; the reports said so.
  EXPECT_GT(unsealed_reports, 0);
}

TEST(Sensor, HashOnlyPrivacyKeepsPlainStringsOutOfTheIndexAndTheBlocks) {
  REQUIRE_ROOT();
  test::TempDir dir;
  const auto base = dir / "store";
  const std::string marker = "/tmp/ritma-privacy-marker-" + std::to_string(getpid());
  {
    SensorProcess sensor(base, {"--privacy", "hash-only", "--duration", "4s"});
    ASSERT_TRUE(sensor.wait_recording()) << sensor.stderr_text();
    for (int i = 0; i < 5; ++i) {
      int fd = open(marker.c_str(), O_WRONLY | O_CREAT, 0600);
      if (fd >= 0) close(fd);
      unlink(marker.c_str());
    }
    ASSERT_EQ(sensor.wait_exit(), 0) << sensor.stderr_text();
  }
  const auto events = all_events(base);
  ASSERT_FALSE(events.empty());
  size_t hashed = 0;
  for (const auto& e : events) {
    EXPECT_EQ(e.path.find(marker), std::string::npos) << "plain path in the hot index";
    if (e.path.rfind("k:", 0) == 0 && e.path.size() == 34) ++hashed;
  }
  EXPECT_GT(hashed, 0u) << "paths are replaced by keyed hashes";
  // Not in any sealed block either.
  const auto out = base / "RITMA_OUT";
  size_t blocks = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(out / "windows")) {
    if (f.path().extension() != ".zst") continue;
    ++blocks;
    const auto r = test::run_program({"/usr/bin/zstd", "-dc", f.path().string()});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.find(marker), std::string::npos) << f.path();
    EXPECT_EQ(r.out.find("/usr/bin/"), std::string::npos) << f.path();
  }
  EXPECT_GT(blocks, 0u);
  // The store still verifies.
  const auto v = test::run_program({RITMA_BIN, "verify", "--store", "--base-dir", base.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace ritma
