// Throughput of the sensor's user-space ingest path on a synthetic stream of ring-buffer records
// (DESIGN §5: "ingest pipeline (decode -> attribute -> canonical encode), synthetic events, one
// core: >= 1,000,000 events/s", and ">= 300,000 events/s with hot-index writes"), next to peers
// measured in the same process: a memcpy of every record (the floor: touching the bytes the
// kernel wrote), and the same decode and attribution followed by a Falco-like JSON document
// (nlohmann::json, dumped to a string) instead of the canonical CBOR atom.
//
// The stream: 65,536 records as the BPF program (capture/bpf/sensor.bpf.c) reserves them — full
// struct sizes, h.size/kind/op set, strings NUL-terminated in their fields — from about 200 live
// processes that fork, exec and exit: ~10 % exec (3-5 argv entries, a few failing), 5 % fork, 5 %
// exit, 55 % file operations (mostly opens) on realistic paths, 20 % network (connect and accept
// over IPv4 and IPv6, some DNS queries), 5 % privilege operations. The stream is replayed; between
// passes (timing paused) its clocks move forward by its span and the process table starts empty,
// so each pass sees the same inserts and hits and the hot index sees rising times.
//
// Names are <family>/<variant>; variants starting with "ritma" are ours, every other variant of
// the same family is a peer. bench/bench_ratios.sh prints the ratios from a --benchmark_out JSON
// file; docs/PERFORMANCE.md ("Sensor pipeline") has the commands and the results.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "capture/bpf/sensor_event.h"
#include "capture/event.h"
#include "capture/event_atom.h"
#include "capture/process_table.h"
#include "capture/record_decoder.h"
#include "core/bytes.h"
#include "sensor/sensor_pipeline.h"
#include "store/hot_index.h"

namespace {

using ritma::Bytes;
using ritma::ByteSpan;
using ritma::capture::BootId;
using ritma::capture::Event;
using ritma::capture::EventType;
using ritma::capture::ProcessTable;

constexpr size_t kStreamRecords = 65536;  // a multiple of kFlushEvery
constexpr size_t kLiveProcesses = 200;
constexpr size_t kFlushEvery = 4096;       // events per hot-index transaction
constexpr size_t kBlockBytes = 64 * 1024;  // encoded atoms are appended to a block this large
constexpr uint64_t kNsPerTick = 10'000'000;
constexpr int64_t kWallOffsetNs = 1'795'300'000'000'000'000;  // CLOCK_REALTIME - BOOTTIME
constexpr uint64_t kStreamStartNs = 5'700'000'000'000ULL;     // about 95 minutes after boot
constexpr BootId kBootId = {0x3f, 0x6c, 0x1e, 0x92, 0x5a, 0x04, 0x4b, 0x7d,
                            0x9e, 0x21, 0xc8, 0x4d, 0x0b, 0x77, 0xe1, 0x5a};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pipeline_bench: self-check failed: %s\n", what.c_str());
  std::abort();
}

// Deterministic pseudo-random numbers (splitmix64), so every run sees the same stream.
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed) {}
  uint64_t next() {
    x_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  bool percent(unsigned p) { return below(100) < p; }

 private:
  uint64_t x_;
};

// ---------------------------------------------------------------------------------------------
// The synthetic stream.

struct Program {
  std::string_view exe;
  std::string_view comm;
  std::array<std::string_view, 5> argv;
  size_t argc;                   // 3 to 5
  std::string_view data_prefix;  // where the files it works on are
  std::string_view data_suffix;
  uint32_t uid;
};

constexpr Program kPrograms[] = {
    {"/usr/sbin/nginx",
     "nginx",
     {"nginx", "-g", "daemon off;", "-c", "/etc/nginx/nginx.conf"},
     5,
     "/var/www/html/static/js/chunk-",
     ".js",
     33},
    {"/usr/bin/python3.11",
     "python3",
     {"/usr/bin/python3", "-m", "gunicorn", "app.wsgi:application", "--workers=4"},
     5,
     "/usr/lib/python3/dist-packages/django/utils/module_",
     ".py",
     1001},
    {"/usr/lib/postgresql/15/bin/postgres",
     "postgres",
     {"/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/main"},
     3,
     "/var/lib/postgresql/15/main/base/16384/",
     "",
     105},
    {"/usr/bin/node",
     "node",
     {"node", "/srv/api/dist/server.js", "--port", "8080"},
     4,
     "/srv/api/node_modules/lodash/fp/",
     ".js",
     1002},
    {"/usr/bin/git",
     "git",
     {"git", "status", "--porcelain=v2", "--untracked-files=no"},
     4,
     "/home/dev/src/ritma/.git/objects/pack/pack-",
     ".idx",
     1000},
    {"/usr/bin/x86_64-linux-gnu-g++-12",
     "g++",
     {"g++", "-O2", "-c", "src/capture/process_table.cc", "-o"},
     5,
     "/home/dev/src/ritma/src/capture/file_",
     ".cc",
     1000},
    {"/usr/bin/bash",
     "bash",
     {"/bin/bash", "-c", "make -j2 all"},
     3,
     "/home/dev/src/ritma/build/CMakeFiles/obj_",
     ".o",
     1000},
    {"/usr/bin/curl",
     "curl",
     {"curl", "-fsSL", "https://deb.debian.org/debian/dists/bookworm/InRelease", "-o",
      "/tmp/InRelease"},
     5,
     "/tmp/curl-download-",
     ".tmp",
     1000},
    {"/usr/sbin/sshd", "sshd", {"/usr/sbin/sshd", "-D", "-R"}, 3, "/var/log/auth.log.", "", 0},
    {"/usr/bin/java",
     "java",
     {"/usr/bin/java", "-Xmx2g", "-jar", "/opt/app/app.jar"},
     4,
     "/opt/app/lib/dependency-",
     ".jar",
     1003},
    {"/usr/bin/containerd-shim-runc-v2",
     "containerd-shim",
     {"/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id",
      "4f1c9b0e7a2d63c58e0b1f4a9d7c2e6b3a5f8d0c1e2b4a6f9d8c7b5e3a1f0d2c"},
     5,
     "/run/containerd/io.containerd.runtime.v2.task/k8s.io/task-",
     "/config.json",
     0},
    {"/usr/bin/rsync",
     "rsync",
     {"rsync", "-a", "--delete", "/srv/data/", "backup:/srv/data/"},
     5,
     "/srv/data/shard-",
     ".parquet",
     0},
};
constexpr size_t kProgramCount = std::size(kPrograms);

// Files every process opens (the loader, libc's configuration, /proc and /sys).
constexpr std::string_view kSharedPaths[] = {
    "/etc/ld.so.cache",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/x86_64-linux-gnu/libm.so.6",
    "/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/lib/x86_64-linux-gnu/libssl.so.3",
    "/lib/x86_64-linux-gnu/libcrypto.so.3",
    "/lib/x86_64-linux-gnu/libz.so.1",
    "/lib/x86_64-linux-gnu/libpthread.so.0",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/usr/lib/locale/locale-archive",
    "/usr/share/zoneinfo/Europe/Berlin",
    "/etc/ssl/certs/ca-certificates.crt",
    "/dev/null",
    "/dev/urandom",
    "/proc/self/status",
    "/proc/self/maps",
    "/proc/meminfo",
    "/proc/sys/kernel/random/boot_id",
    "/sys/fs/cgroup/cpu.max",
    "/sys/fs/cgroup/memory.max",
};

struct Proc {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t start_ns = 0;
  uint64_t parent_start_ns = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t cgroup_id = 0;
  uint32_t mntns = 0, pidns = 0, netns = 0;
  uint32_t threads = 1;
  size_t program = 0;
};

template <size_t N>
void put_string(char (&field)[N], std::string_view s, ritma_rec_header& h, uint32_t trunc_flag) {
  const size_t n = std::min(s.size(), N - 1);
  std::memcpy(field, s.data(), n);
  field[n] = '\0';
  if (s.size() >= N - 1 && trunc_flag != 0) h.flags |= trunc_flag;
}

struct Stream {
  Bytes arena;  // records back to back, 8-byte aligned, as in the ring buffer
  std::vector<ByteSpan> records;
  size_t record_bytes = 0;  // sum of the records' sizes
  uint64_t span_ns = 0;     // from the first record's clock to just after the last one's
  size_t processes = 0;     // distinct (pid, start) in the stream
  std::array<size_t, 7> by_kind{};
};

class StreamBuilder {
 public:
  StreamBuilder() : rng_(0x5eed'2026) {}

  Stream build() {
    // The long-lived processes the stream starts with, children of a few parents.
    for (size_t i = 0; i < kLiveProcesses; ++i) {
      Proc p;
      p.pid = next_pid_++;
      p.start_ns = 1'000'000'000ULL + i * 7'300'000ULL;
      p.ppid = i < 8 ? 1 : 1000 + static_cast<uint32_t>(rng_.below(8));
      p.parent_start_ns = i < 8 ? 40'000'000ULL : 1'000'000'000ULL + (p.ppid - 1000) * 7'300'000ULL;
      p.program = rng_.below(kProgramCount);
      p.threads = 1 + static_cast<uint32_t>(rng_.below(8));
      place(p, rng_.percent(25));
      live_.push_back(p);
      ++processes_;
    }
    offsets_.reserve(kStreamRecords);
    arena_.reserve(kStreamRecords * sizeof(ritma_file_rec));
    // Each starts with its exec, so the table knows every executable, as it would after
    // seeding from /proc.
    for (size_t i = 0; i < kLiveProcesses; ++i) {
      now_ += 20'000;
      emit_exec_of(live_[i]);
    }
    while (offsets_.size() < kStreamRecords) emit_one();

    Stream s;
    s.arena = std::move(arena_);
    for (size_t i = 0; i < offsets_.size(); ++i) {
      const size_t end = i + 1 < offsets_.size() ? offsets_[i + 1] : s.arena.size();
      ritma_rec_header h;
      std::memcpy(&h, s.arena.data() + offsets_[i], sizeof h);
      s.records.emplace_back(s.arena.data() + offsets_[i], h.size);
      s.record_bytes += h.size;
      if (end - offsets_[i] < h.size) die("record overruns the arena");
      ++s.by_kind.at(h.kind);
    }
    s.processes = processes_;
    s.span_ns = now_ + 20'000 - kStreamStartNs;
    return s;
  }

 private:
  // Host services or a container: cgroup and namespaces.
  void place(Proc& p, bool in_container) {
    p.uid = kPrograms[p.program].uid;
    p.gid = p.uid;
    if (in_container) {
      const uint32_t c = static_cast<uint32_t>(rng_.below(6));
      p.cgroup_id = 9000 + c;
      p.mntns = 4026532200 + c;
      p.pidns = 4026532300 + c;
      p.netns = 4026532400 + c;
    } else {
      p.cgroup_id = 4000 + p.program;
      p.mntns = 4026531841;
      p.pidns = 4026531836;
      p.netns = 4026531840;
    }
  }

  // Mostly the older, long-lived processes: the smaller of two uniform picks.
  size_t pick_live() { return std::min(rng_.below(live_.size()), rng_.below(live_.size())); }

  template <typename Rec>
  Rec blank(uint16_t kind, uint16_t op, int64_t result, const Proc& p) {
    Rec r{};
    r.h.kind = kind;
    r.h.op = op;
    r.h.size = sizeof(Rec);
    r.h.ktime_ns = now_;
    r.h.flags = 0;
    r.h.cpu = static_cast<uint32_t>(rng_.below(2));
    r.h.result = result;
    ritma_task& t = r.h.task;
    t.start_ns = p.start_ns;
    t.parent_start_ns = p.parent_start_ns;
    t.cgroup_id = p.cgroup_id;
    t.pid = p.pid;
    t.tid = p.pid + static_cast<uint32_t>(rng_.below(p.threads));
    t.ppid = p.ppid;
    t.uid = t.euid = p.uid;
    t.gid = t.egid = p.gid;
    t.mntns = p.mntns;
    t.pidns = p.pidns;
    t.netns = p.netns;
    put_string(t.comm, kPrograms[p.program].comm, r.h, 0);
    return r;
  }

  template <typename Rec>
  void put(const Rec& r) {
    static_assert(sizeof(Rec) % 8 == 0, "ring-buffer records are 8-byte aligned");
    offsets_.push_back(arena_.size());
    const auto* b = reinterpret_cast<const uint8_t*>(&r);
    arena_.insert(arena_.end(), b, b + sizeof(Rec));
  }

  std::string file_path(const Proc& p) {
    const size_t roll = rng_.below(100);
    if (roll < 45) {
      // Skewed towards the first few (the loader's files).
      const size_t n = std::size(kSharedPaths);
      return std::string(kSharedPaths[std::min(rng_.below(n), rng_.below(n))]);
    }
    if (roll < 85) {
      const Program& prog = kPrograms[p.program];
      return std::string(prog.data_prefix) + std::to_string(rng_.below(600)) +
             std::string(prog.data_suffix);
    }
    if (roll < 92) {
      const Proc& other = live_[rng_.below(live_.size())];
      return "/proc/" + std::to_string(other.pid) + "/stat";
    }
    static constexpr char kAlnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string t = "/tmp/tmp.";
    for (int i = 0; i < 10; ++i) t += kAlnum[rng_.below(sizeof kAlnum - 1)];
    return t;
  }

  void emit_one() {
    now_ += 2'000 + rng_.below(28'000);  // ~15 us apart: ~65k events/s on this host
    const size_t roll = rng_.below(100);
    if (roll < 10) {
      emit_exec();
    } else if (roll < 15) {
      if (live_.size() > kLiveProcesses + 40) {
        emit_exit();
      } else {
        emit_fork();
      }
    } else if (roll < 20) {
      if (live_.size() < kLiveProcesses - 40) {
        emit_fork();
      } else {
        emit_exit();
      }
    } else if (roll < 75) {
      emit_file();
    } else if (roll < 95) {
      emit_net();
    } else {
      emit_priv();
    }
  }

  void emit_exec() {
    Proc& p = live_[pick_live()];
    if (rng_.percent(5)) {
      // execve failed: no sched_process_exec, the sys_exit path reports it (no argv).
      auto r = blank<ritma_exec_rec>(RITMA_KIND_EXEC, 0, -2, p);
      const std::string missing = "/usr/local/bin/" + std::string(kPrograms[p.program].comm);
      put_string(r.filename, missing, r.h, RITMA_F_PATH_TRUNCATED);
      put(r);
      return;
    }
    p.program = rng_.below(kProgramCount);  // comm is the new program's after exec
    emit_exec_of(p);
  }

  void emit_exec_of(const Proc& p) {
    const Program& prog = kPrograms[p.program];
    auto r = blank<ritma_exec_rec>(RITMA_KIND_EXEC, 0, 0, p);
    put_string(r.filename, prog.exe, r.h, RITMA_F_PATH_TRUNCATED);
    r.exe_ino = 1'300'000 + p.program * 17;
    r.exe_dev = 0x801;
    r.argc = static_cast<uint32_t>(prog.argc);
    size_t len = 0;
    for (size_t i = 0; i < prog.argc; ++i) {
      const std::string_view a = prog.argv[i];
      if (len + a.size() + 1 > sizeof r.argv - 1) break;
      std::memcpy(r.argv + len, a.data(), a.size());
      len += a.size();
      r.argv[len++] = '\0';
    }
    r.argv_len = static_cast<uint32_t>(len);
    put(r);
  }

  void emit_fork() {
    const Proc& parent = live_[pick_live()];
    Proc child = parent;
    child.pid = next_pid_++;
    child.ppid = parent.pid;
    child.start_ns = now_;
    child.parent_start_ns = parent.start_ns;
    child.threads = 1 + static_cast<uint32_t>(rng_.below(3));
    auto r = blank<ritma_fork_rec>(RITMA_KIND_FORK, 0, 0, parent);
    r.child_pid = child.pid;
    r.child_tid = child.pid;
    r.child_start_ns = child.start_ns;
    r.clone_flags = 0;
    put(r);
    live_.push_back(child);
    ++processes_;
  }

  void emit_exit() {
    // Mostly the younger processes (later in the list): short-lived children.
    const size_t n = live_.size();
    const size_t i = n - 1 - std::min(rng_.below(n), rng_.below(n));
    auto r = blank<ritma_exit_rec>(RITMA_KIND_EXIT, 0, 0, live_[i]);
    r.exit_code = rng_.percent(90) ? 0 : (1 << 8);
    put(r);
    live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  void emit_file() {
    const Proc& p = live_[pick_live()];
    const size_t roll = rng_.below(100);
    uint16_t op = RITMA_OP_OPEN;
    if (roll >= 80) {
      static constexpr uint16_t kOthers[] = {
          RITMA_OP_UNLINK, RITMA_OP_UNLINK, RITMA_OP_UNLINK, RITMA_OP_UNLINK,  RITMA_OP_UNLINK,
          RITMA_OP_RENAME, RITMA_OP_RENAME, RITMA_OP_RENAME, RITMA_OP_RENAME,  RITMA_OP_RENAME,
          RITMA_OP_CHMOD,  RITMA_OP_CHMOD,  RITMA_OP_CHMOD,  RITMA_OP_CHOWN,   RITMA_OP_CHOWN,
          RITMA_OP_MKDIR,  RITMA_OP_MKDIR,  RITMA_OP_MKDIR,  RITMA_OP_SYMLINK, RITMA_OP_LINK};
      op = kOthers[roll - 80];
    }
    const std::string path = file_path(p);
    int64_t result = 0;
    const size_t outcome = rng_.below(100);
    if (outcome < 12) {
      result = -2;  // ENOENT
    } else if (outcome < 14) {
      result = -13;  // EACCES
    } else if (op == RITMA_OP_OPEN) {
      result = 3 + static_cast<int64_t>(rng_.below(60));
    }
    auto r = blank<ritma_file_rec>(RITMA_KIND_FILE, op, result, p);
    r.dirfd = -100;  // AT_FDCWD
    switch (op) {
      case RITMA_OP_OPEN:
        r.flags = rng_.percent(80) ? 02000000                      /* O_RDONLY|O_CLOEXEC */
                                   : 02000000 | 01 | 0100 | 01000; /* O_WRONLY|O_CREAT|O_TRUNC */
        r.mode = (r.flags & 0100) != 0 ? 0644 : 0;
        break;
      case RITMA_OP_RENAME:
        put_string(r.path2, path.substr(0, path.rfind('.')) + ".new", r.h, RITMA_F_PATH2_TRUNCATED);
        break;
      case RITMA_OP_CHMOD:
        r.mode = 0755;
        break;
      case RITMA_OP_CHOWN:
        r.uid = 1000;
        r.gid = 1000;
        break;
      case RITMA_OP_MKDIR:
        r.mode = 0755;
        break;
      case RITMA_OP_SYMLINK:
      case RITMA_OP_LINK:
        put_string(r.path2, path + ".lnk", r.h, RITMA_F_PATH2_TRUNCATED);
        break;
      default:
        break;
    }
    put_string(r.path, path, r.h, RITMA_F_PATH_TRUNCATED);
    put(r);
  }

  static uint32_t put_ipv4(uint8_t* out, const char* ip, uint16_t port) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &in.sin_addr) != 1) die(std::string("bad IPv4 ") + ip);
    std::memcpy(out, &in, sizeof in);
    return sizeof in;
  }

  static uint32_t put_ipv6(uint8_t* out, const char* ip, uint16_t port) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip, &in6.sin6_addr) != 1) die(std::string("bad IPv6 ") + ip);
    std::memcpy(out, &in6, sizeof in6);
    return sizeof in6;
  }

  // A DNS query message (RFC 1035 §4.1) for `name`.
  static uint32_t put_dns_query(uint8_t* out, size_t cap, std::string_view name, uint16_t qtype,
                                uint16_t id) {
    size_t n = 0;
    const uint8_t header[12] = {static_cast<uint8_t>(id >> 8),
                                static_cast<uint8_t>(id),
                                0x01,
                                0x00,
                                0,
                                1,
                                0,
                                0,
                                0,
                                0,
                                0,
                                0};
    std::memcpy(out, header, sizeof header);
    n = sizeof header;
    size_t start = 0;
    while (start <= name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string_view::npos) dot = name.size();
      const size_t len = dot - start;
      if (n + 1 + len + 5 > cap) die("DNS name too long for the payload");
      out[n++] = static_cast<uint8_t>(len);
      std::memcpy(out + n, name.data() + start, len);
      n += len;
      start = dot + 1;
    }
    out[n++] = 0;
    out[n++] = static_cast<uint8_t>(qtype >> 8);
    out[n++] = static_cast<uint8_t>(qtype);
    out[n++] = 0;
    out[n++] = 1;  // class IN
    return static_cast<uint32_t>(n);
  }

  void emit_net() {
    const Proc& p = live_[pick_live()];
    static constexpr const char* kV4Remote[] = {"10.0.3.17",      "10.0.3.18",     "172.17.0.4",
                                                "93.184.216.34",  "151.101.2.132", "127.0.0.1",
                                                "192.168.122.10", "140.82.121.4"};
    static constexpr uint16_t kPorts[] = {5432, 6379, 443, 443, 80, 8080, 9090, 22};
    static constexpr const char* kV6Remote[] = {"2a00:1450:4001:82b::200e", "::1",
                                                "2606:4700:4700::1111", "fd00:10:96::a",
                                                "2001:db8:85a3::8a2e:370:7334"};
    static constexpr const char* kV4Client[] = {"10.0.3.101", "10.0.3.102", "172.17.0.9",
                                                "203.0.113.77"};
    static constexpr const char* kDnsNames[] = {"api.github.com", "deb.debian.org",
                                                "registry-1.docker.io", "db.internal.example.com",
                                                "pypi.org"};
    const size_t roll = rng_.below(100);
    const bool v6 = rng_.percent(30);
    if (roll < 60) {
      const size_t i = rng_.below(std::size(kPorts));
      auto r = blank<ritma_net_rec>(RITMA_KIND_NET, RITMA_OP_CONNECT, rng_.percent(70) ? 0 : -115,
                                    p);  // EINPROGRESS for non-blocking sockets
      r.fd = 3 + static_cast<int64_t>(rng_.below(60));
      r.addr_len = v6 ? put_ipv6(r.addr, kV6Remote[rng_.below(std::size(kV6Remote))], kPorts[i])
                      : put_ipv4(r.addr, kV4Remote[i], kPorts[i]);
      put(r);
    } else if (roll < 92) {
      const uint16_t port = static_cast<uint16_t>(32768 + rng_.below(28000));
      auto r = blank<ritma_net_rec>(RITMA_KIND_NET, RITMA_OP_ACCEPT,
                                    3 + static_cast<int64_t>(rng_.below(200)), p);
      r.fd = 3 + static_cast<int64_t>(rng_.below(8));
      r.addr_len = v6 ? put_ipv6(r.addr, "2001:db8::42", port)
                      : put_ipv4(r.addr, kV4Client[rng_.below(std::size(kV4Client))], port);
      put(r);
    } else {
      auto r = blank<ritma_net_rec>(RITMA_KIND_NET, RITMA_OP_SENDTO, 40, p);
      r.fd = 3 + static_cast<int64_t>(rng_.below(60));
      r.addr_len = put_ipv4(r.addr, "127.0.0.53", 53);
      r.payload_len =
          put_dns_query(r.payload, sizeof r.payload, kDnsNames[rng_.below(std::size(kDnsNames))],
                        rng_.percent(70) ? 1 : 28, static_cast<uint16_t>(rng_.next()));
      put(r);
    }
  }

  void emit_priv() {
    const Proc& p = live_[pick_live()];
    static constexpr uint16_t kOps[] = {
        RITMA_OP_SETUID, RITMA_OP_SETUID,  RITMA_OP_SETGID, RITMA_OP_SETRESUID,
        RITMA_OP_CAPSET, RITMA_OP_CAPSET,  RITMA_OP_PTRACE, RITMA_OP_MOUNT,
        RITMA_OP_UMOUNT, RITMA_OP_UNSHARE, RITMA_OP_SETNS,  RITMA_OP_MEMFD_CREATE,
        RITMA_OP_BPF,    RITMA_OP_SETGID,  RITMA_OP_CAPSET, RITMA_OP_SETUID};
    const uint16_t op = kOps[rng_.below(std::size(kOps))];
    auto r = blank<ritma_priv_rec>(RITMA_KIND_PRIV, op, rng_.percent(90) ? 0 : -1, p);
    switch (op) {
      case RITMA_OP_SETUID:
      case RITMA_OP_SETGID:
        r.arg[0] = 1000;
        break;
      case RITMA_OP_SETRESUID:
        r.arg[0] = r.arg[1] = r.arg[2] = 1000;
        break;
      case RITMA_OP_PTRACE:
        r.arg[0] = 16;  // PTRACE_ATTACH
        r.arg[1] = live_[rng_.below(live_.size())].pid;
        break;
      case RITMA_OP_MOUNT:
        put_string(r.path, "overlay", r.h, RITMA_F_PATH_TRUNCATED);
        put_string(r.path2,
                   "/run/containerd/io.containerd.runtime.v2.task/k8s.io/task-" +
                       std::to_string(rng_.below(40)) + "/rootfs",
                   r.h, RITMA_F_PATH2_TRUNCATED);
        break;
      case RITMA_OP_UMOUNT:
        put_string(r.path, "/run/netns/cni-" + std::to_string(rng_.below(1000)), r.h,
                   RITMA_F_PATH_TRUNCATED);
        r.arg[1] = 2;  // MNT_DETACH
        break;
      case RITMA_OP_UNSHARE:
        r.arg[0] = 0x20000 | 0x40000000;  // CLONE_NEWNS | CLONE_NEWNET
        break;
      case RITMA_OP_SETNS:
        r.arg[0] = 7;
        r.arg[1] = 0x40000000;
        break;
      case RITMA_OP_MEMFD_CREATE:
        put_string(r.path, "jit-code-cache", r.h, RITMA_F_PATH_TRUNCATED);
        r.arg[1] = 1;  // MFD_CLOEXEC
        break;
      default:
        r.arg[0] = 0x20080522;  // capset: _LINUX_CAPABILITY_VERSION_3 and the like
        break;
    }
    put(r);
  }

  Rng rng_;
  uint64_t now_ = kStreamStartNs;
  uint32_t next_pid_ = 1000;
  std::vector<Proc> live_;
  size_t processes_ = 0;
  Bytes arena_;
  std::vector<size_t> offsets_;
};

// ---------------------------------------------------------------------------------------------
// The pieces each benchmark runs.

ritma::capture::ProcessTableOptions table_options() {
  ritma::capture::ProcessTableOptions o;
  o.ns_per_tick = kNsPerTick;
  return o;
}

// What SensorPipeline::on_record does after decode_record (sensor/sensor_pipeline.cc), in the
// same order: lifecycle update, enrich, actor id, then the sequence number and wall time that
// SensorPipeline::push assigns. The pipeline keeps its events for the hot index and never encodes
// them; this is the part shared with the canonical encoding.
class Attributor {
 public:
  Attributor() { reset_table(); }

  // A fresh, empty table (the start of a replay of the stream).
  void reset_table() {
    table_.reset();
    table_ = std::make_unique<ProcessTable>(kBootId, nullptr, table_options());
  }

  void attribute(Event& e) {
    if (e.type != EventType::kExit) update_processes(e);
    table_->enrich(e);
    e.actor = ritma::capture::compute_actor_id(kBootId, e.pid, e.start_ns);
    if (e.type == EventType::kExit) update_processes(e);
    e.seq = next_seq_++;
    e.wall_ns = static_cast<int64_t>(e.mono_ns) + kWallOffsetNs;
  }

  const ProcessTable& table() const { return *table_; }

 private:
  void update_processes(const Event& e) {
    ritma::capture::TaskSnapshot t;
    t.tgid = e.pid;
    t.ppid = e.ppid;
    t.start_ns = e.start_ns;
    t.parent_start_ns = e.parent_start_ns;
    t.creds = ritma::capture::Credentials{e.uid, e.gid, e.euid};
    t.cgroup_id = e.cgroup_id;
    t.comm = e.comm;
    switch (e.type) {
      case EventType::kFork:
        table_->on_fork(t, static_cast<uint32_t>(e.arg0), e.arg1);
        break;
      case EventType::kExec:
        if (e.result == 0) {
          table_->on_exec(t, e.path, e.argv, (e.flags & RITMA_F_ARGV_TRUNCATED) != 0);
        }
        break;
      case EventType::kExit:
        table_->on_exit(e.pid, e.start_ns, static_cast<int32_t>(e.result), e.mono_ns);
        break;
      default:
        break;
    }
  }

  std::unique_ptr<ProcessTable> table_;
  uint64_t next_seq_ = 1;
};

std::string ip_text(const ritma::capture::NetAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == AF_INET || a.family == AF_INET6) {
    inet_ntop(a.family, a.ip.data(), buf, sizeof buf);
  }
  return buf;
}

// The peer's document: the atom's fields under Falco-style names (bytes as hex, the address as
// text), as Falco's JSON output carries them.
nlohmann::json falco_like_json(const Event& e, const BootId& boot_id) {
  nlohmann::json j;
  j["host.boot_id"] = ritma::to_hex(boot_id);
  j["evt.num"] = e.seq;
  j["evt.rawtime.mono"] = e.mono_ns;
  j["evt.rawtime"] = e.wall_ns;
  j["evt.type"] = std::string(ritma::capture::event_name(e.type, e.op));
  j["evt.category"] = static_cast<uint16_t>(e.type);
  j["evt.op"] = e.op;
  j["evt.flags"] = e.flags;
  j["evt.res"] = e.result;
  j["proc.actor"] = ritma::to_hex(e.actor);
  j["proc.pid"] = e.pid;
  j["thread.tid"] = e.tid;
  j["proc.ppid"] = e.ppid;
  j["user.uid"] = e.uid;
  j["group.gid"] = e.gid;
  j["user.euid"] = e.euid;
  j["group.egid"] = e.egid;
  j["proc.start_ns"] = e.start_ns;
  j["proc.name"] = e.comm;
  j["proc.exepath"] = e.exe;
  j["proc.cgroup_id"] = e.cgroup_id;
  j["container.id"] = e.container_id;
  j["proc.unit"] = e.unit;
  j["proc.mntns"] = e.mntns;
  j["proc.pidns"] = e.pidns;
  j["proc.netns"] = e.netns;
  j["fd.name"] = e.path;
  j["fd.name2"] = e.path2;
  j["proc.args"] = e.argv;
  j["evt.arg0"] = e.arg0;
  j["evt.arg1"] = e.arg1;
  j["evt.arg2"] = e.arg2;
  j["evt.arg3"] = e.arg3;
  j["fd.sockfamily"] = e.addr.family;
  j["fd.sip"] = ip_text(e.addr);
  j["fd.sport"] = e.addr.port;
  j["fd.unix_path"] = e.addr.unix_path;
  j["dns.name"] = e.dns_name;
  j["dns.type"] = e.dns_type;
  j["evt.count"] = e.count;
  return j;
}

std::string dump_json(const nlohmann::json& j) {
  // Kernel strings need not be UTF-8; replace rather than throw, as an emitter must.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---------------------------------------------------------------------------------------------
// The stream, built and checked once.

void check_stream(const Stream& s) {
  if (s.records.size() != kStreamRecords) die("wrong number of records");
  // Every record decodes, as the kind the generator wrote.
  for (size_t i = 0; i < s.records.size(); ++i) {
    ritma_rec_header h;
    std::memcpy(&h, s.records[i].data(), sizeof h);
    Event e;
    if (auto st = ritma::capture::decode_record(s.records[i], e); !st.ok()) {
      die("record " + std::to_string(i) + " does not decode: " + st.error().message);
    }
    if (static_cast<uint16_t>(e.type) != h.kind || e.pid == 0 || e.start_ns == 0) {
      die("record " + std::to_string(i) + " decodes to the wrong event");
    }
    if (e.type == EventType::kExec && e.result == 0 && (e.argv.size() < 3 || e.argv.size() > 5)) {
      die("exec record " + std::to_string(i) + " has " + std::to_string(e.argv.size()) + " args");
    }
    if (e.type == EventType::kNet && e.op != RITMA_OP_SENDTO && e.addr.family != AF_INET &&
        e.addr.family != AF_INET6) {
      die("net record " + std::to_string(i) + " has no address");
    }
    if (e.type == EventType::kNet && e.op == RITMA_OP_SENDTO && e.dns_name.empty()) {
      die("DNS record " + std::to_string(i) + " has no question");
    }
  }
  // The mix the header comment promises, within a point or two.
  auto share = [&](int kind) {
    return 100.0 * static_cast<double>(s.by_kind.at(static_cast<size_t>(kind))) /
           static_cast<double>(s.records.size());
  };
  const double want[7] = {0, 10, 5, 5, 55, 20, 5};
  for (int k = RITMA_KIND_EXEC; k <= RITMA_KIND_PRIV; ++k) {
    if (share(k) < want[k] - 2 || share(k) > want[k] + 2) {
      die("kind " + std::to_string(k) + " is " + std::to_string(share(k)) + " % of the stream");
    }
  }

  // One pass through decode -> attribute -> encode: every atom decodes back to its event, the
  // actor ids are the documented ones, and the process table knows the executables.
  Attributor attr;
  Bytes atom;
  size_t with_exe = 0;
  for (size_t i = 0; i < s.records.size(); ++i) {
    Event e;
    if (!ritma::capture::decode_record(s.records[i], e).ok()) die("decode");
    attr.attribute(e);
    if (e.actor != ritma::capture::compute_actor_id(kBootId, e.pid, e.start_ns)) die("actor id");
    if (!e.exe.empty()) ++with_exe;
    atom.clear();
    ritma::capture::encode_event_atom(e, kBootId, atom);
    auto back = ritma::capture::decode_event_atom(atom);
    if (!back.ok()) die("atom " + std::to_string(i) + ": " + back.error().message);
    if (back->seq != e.seq || back->pid != e.pid || back->path != e.path || back->argv != e.argv ||
        back->exe != e.exe || back->actor != e.actor || back->addr.port != e.addr.port ||
        back->dns_name != e.dns_name) {
      die("atom " + std::to_string(i) + " does not decode to its event");
    }
    if (i < 64) {
      const std::string text = dump_json(falco_like_json(e, kBootId));
      if (nlohmann::json::parse(text)["proc.pid"] != e.pid) die("JSON peer");
    }
  }
  if (attr.table().size() != s.processes) {
    die("process table has " + std::to_string(attr.table().size()) + " entries, stream has " +
        std::to_string(s.processes) + " processes");
  }
  // The stream starts with an exec of every initial process, so (almost) every event after
  // those carries an executable.
  if (with_exe < s.records.size() * 99 / 100) die("too few events carry an executable");
}

const Stream& stream() {
  static const Stream s = [] {
    Stream built = StreamBuilder().build();
    check_stream(built);
    std::fprintf(
        stderr,
        "pipeline_bench: stream of %zu records (%.1f bytes each on average) from %zu "
        "processes: exec %zu, fork %zu, exit %zu, file %zu, net %zu, priv %zu; "
        "self-check passed\n",
        built.records.size(),
        static_cast<double>(built.record_bytes) / static_cast<double>(built.records.size()),
        built.processes, built.by_kind[RITMA_KIND_EXEC], built.by_kind[RITMA_KIND_FORK],
        built.by_kind[RITMA_KIND_EXIT], built.by_kind[RITMA_KIND_FILE],
        built.by_kind[RITMA_KIND_NET], built.by_kind[RITMA_KIND_PRIV]);
    return built;
  }();
  return s;
}

// A private, writable copy of the stream whose clocks move on by the stream's span at every
// replay, as a running system's would: without it, replays would repeat event times and process
// start times, so the hot index would insert into the middle of its time indexes and find every
// process context (actor) already known. Pids stay the same: on a replay the processes are new
// processes that reuse the pids of the last pass.
class Replay {
 public:
  explicit Replay(const Stream& s) : arena_(s.arena), span_ns_(s.span_ns) {
    records_.reserve(s.records.size());
    for (const ByteSpan r : s.records) {
      records_.emplace_back(arena_.data() + (r.data() - s.arena.data()), r.size());
    }
  }

  size_t size() const { return records_.size(); }
  ByteSpan operator[](size_t i) const { return records_[i]; }

  // Moves every clock in the stream forward by its span (call between passes, timing paused).
  void advance() {
    for (const ByteSpan r : records_) {
      uint8_t* rec = arena_.data() + (r.data() - arena_.data());
      ritma_rec_header h;
      std::memcpy(&h, rec, sizeof h);
      h.ktime_ns += span_ns_;
      h.task.start_ns += span_ns_;
      h.task.parent_start_ns += span_ns_;
      std::memcpy(rec, &h, sizeof h);
      if (h.kind == RITMA_KIND_FORK) {
        uint64_t child_start = 0;
        std::memcpy(&child_start, rec + offsetof(ritma_fork_rec, child_start_ns), 8);
        child_start += span_ns_;
        std::memcpy(rec + offsetof(ritma_fork_rec, child_start_ns), &child_start, 8);
      }
    }
  }

 private:
  Bytes arena_;
  uint64_t span_ns_;
  std::vector<ByteSpan> records_;
};

void set_stream_counters(benchmark::State& state, const Stream& s) {
  state.SetItemsProcessed(state.iterations());
  // Bytes of ring-buffer records consumed (what the kernel wrote).
  state.SetBytesProcessed(static_cast<int64_t>(static_cast<double>(state.iterations()) *
                                               static_cast<double>(s.record_bytes) /
                                               static_cast<double>(s.records.size())));
  state.counters["record_B/event"] =
      static_cast<double>(s.record_bytes) / static_cast<double>(s.records.size());
}

// A fresh hot index in its own temporary directory, removed with its -wal/-shm files on
// destruction, with a run begun.
class TempHotIndex {
 public:
  TempHotIndex() {
    std::string dir =
        (std::filesystem::temp_directory_path() / "ritma-pipeline-bench-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) die("cannot create a temporary directory");
    dir_ = dir;
    auto index = ritma::store::HotIndex::open_writer(dir_ / "index_db.sqlite");
    if (!index.ok()) die(index.error().message);
    index_.emplace(std::move(index).value());
    ritma::store::RunStart run;
    run.boot_id = ritma::to_hex(kBootId);
    run.node_id = "pipeline-bench";
    run.started_wall_ns = 5'700'000'000'000LL + kWallOffsetNs;
    run.sensor_version = "bench";
    auto id = index_->begin_run(run);
    if (!id.ok()) die(id.error().message);
  }
  ~TempHotIndex() {
    index_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempHotIndex(const TempHotIndex&) = delete;
  TempHotIndex& operator=(const TempHotIndex&) = delete;

  ritma::store::HotIndex& index() { return *index_; }

  // Rows in the index and its size, for the check and the counters after the timed loop.
  ritma::store::HotIndexStats stats() {
    auto st = index_->stats();
    if (!st.ok()) die(st.error().message);
    return *st;
  }

  // Checks that the index holds `events` rows; sets the database bytes per row.
  void check_and_count(benchmark::State& state, int64_t events) {
    const ritma::store::HotIndexStats st = stats();
    if (st.rows != events || events != state.iterations()) {
      die("hot index has " + std::to_string(st.rows) + " rows after " +
          std::to_string(state.iterations()) + " records");
    }
    state.counters["db_B/event"] =
        static_cast<double>(st.db_bytes) / static_cast<double>(std::max<int64_t>(1, st.rows));
  }

 private:
  std::filesystem::path dir_;
  std::optional<ritma::store::HotIndex> index_;
};

// ---------------------------------------------------------------------------------------------
// pipeline: per ring-buffer record, as far as each variant goes.

// The DESIGN's ingest figure: decode -> process table (lifecycle, enrich) -> actor id -> the
// canonical ritma-ev@1 atom, appended to a block buffer that is reset when it reaches 64 KiB.
void pipeline_ritma_decode_attribute_encode(benchmark::State& state) {
  const Stream& s = stream();
  Replay replay(s);
  Attributor attr;
  Bytes block;
  block.reserve(kBlockBytes + 4096);
  uint64_t atom_bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (i == replay.size()) {
      state.PauseTiming();
      i = 0;
      replay.advance();
      attr.reset_table();
      state.ResumeTiming();
    }
    Event e;
    if (!ritma::capture::decode_record(replay[i++], e).ok()) {
      state.SkipWithError("undecodable record");
      break;
    }
    attr.attribute(e);
    if (block.size() >= kBlockBytes) block.clear();
    const size_t before = block.size();
    ritma::capture::encode_event_atom(e, kBootId, block);
    atom_bytes += block.size() - before;
    benchmark::DoNotOptimize(block.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, s);
  state.counters["out_B/event"] = static_cast<double>(atom_bytes) /
                                  static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

// SensorPipeline as the sensor runs it: on_record for every record and a hot-index transaction
// every 4096 events. The pipeline does not encode atoms (nothing in the sensor does yet).
void pipeline_ritma_with_hot_index(benchmark::State& state) {
  const Stream& s = stream();
  Replay replay(s);
  TempHotIndex db;
  std::unique_ptr<ProcessTable> table;
  std::unique_ptr<ritma::sensor::SensorPipeline> pipeline;
  uint64_t next_seq = 1;
  size_t i = replay.size();
  bool first = true;
  bool failed = false;
  for (auto _ : state) {
    if (i == replay.size()) {
      // A replay: a fresh process table (and a pipeline on it) continuing the sequence.
      state.PauseTiming();
      i = 0;
      if (!first) replay.advance();
      first = false;
      if (pipeline) {
        if (auto st = pipeline->flush(); !st.ok()) die(st.error().message);
        next_seq = pipeline->next_seq();
      }
      pipeline.reset();
      table = std::make_unique<ProcessTable>(kBootId, nullptr, table_options());
      pipeline = std::make_unique<ritma::sensor::SensorPipeline>(&db.index(), table.get(), kBootId,
                                                                 next_seq, kWallOffsetNs);
      state.ResumeTiming();
    }
    pipeline->on_record(replay[i++]);
    if (pipeline->pending() >= kFlushEvery) {
      if (auto st = pipeline->flush(); !st.ok()) {
        state.SkipWithError(st.error().message.c_str());
        failed = true;
        break;
      }
    }
  }
  if (failed) return;
  if (auto st = pipeline->flush(); !st.ok()) die(st.error().message);
  if (pipeline->counters().undecodable != 0) die("the pipeline found undecodable records");
  db.check_and_count(state, static_cast<int64_t>(pipeline->next_seq() - 1));
  set_stream_counters(state, s);
}

// The DESIGN's second figure taken literally: decode -> attribute -> canonical atom, plus the
// same events appended to the hot index in transactions of 4096.
void pipeline_ritma_hot_index_and_encode(benchmark::State& state) {
  const Stream& s = stream();
  Replay replay(s);
  TempHotIndex db;
  Attributor attr;
  std::vector<Event> batch;
  batch.reserve(kFlushEvery);
  Bytes block;
  block.reserve(kBlockBytes + 4096);
  uint64_t atom_bytes = 0;
  int64_t appended = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (i == replay.size()) {
      state.PauseTiming();
      i = 0;
      replay.advance();
      attr.reset_table();
      state.ResumeTiming();
    }
    Event e;
    if (!ritma::capture::decode_record(replay[i++], e).ok()) {
      state.SkipWithError("undecodable record");
      return;
    }
    attr.attribute(e);
    if (block.size() >= kBlockBytes) block.clear();
    const size_t before = block.size();
    ritma::capture::encode_event_atom(e, kBootId, block);
    atom_bytes += block.size() - before;
    benchmark::DoNotOptimize(block.data());
    batch.push_back(std::move(e));
    if (batch.size() == kFlushEvery) {
      if (auto st = db.index().append(batch); !st.ok()) {
        state.SkipWithError(st.error().message.c_str());
        return;
      }
      appended += static_cast<int64_t>(batch.size());
      batch.clear();
    }
  }
  if (auto st = db.index().append(batch); !st.ok()) die(st.error().message);
  appended += static_cast<int64_t>(batch.size());
  db.check_and_count(state, appended);
  set_stream_counters(state, s);
  state.counters["out_B/event"] = static_cast<double>(atom_bytes) /
                                  static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

// The floor: copy each record out of the "ring buffer" and nothing else.
void pipeline_memcpy_floor(benchmark::State& state) {
  const Stream& s = stream();
  std::array<uint8_t, sizeof(ritma_exec_rec)> buf{};  // the largest record
  size_t i = 0;
  for (auto _ : state) {
    if (i == s.records.size()) i = 0;
    const ByteSpan r = s.records[i++];
    std::memcpy(buf.data(), r.data(), r.size());
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, s);
}

// The JSON peer: the same decode and attribution, then a Falco-like JSON document per event.
void pipeline_nlohmann_json(benchmark::State& state) {
  const Stream& s = stream();
  Replay replay(s);
  Attributor attr;
  uint64_t json_bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (i == replay.size()) {
      state.PauseTiming();
      i = 0;
      replay.advance();
      attr.reset_table();
      state.ResumeTiming();
    }
    Event e;
    if (!ritma::capture::decode_record(replay[i++], e).ok()) {
      state.SkipWithError("undecodable record");
      break;
    }
    attr.attribute(e);
    std::string text = dump_json(falco_like_json(e, kBootId));
    json_bytes += text.size();
    benchmark::DoNotOptimize(text.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, s);
  state.counters["out_B/event"] = static_cast<double>(json_bytes) /
                                  static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

// ---------------------------------------------------------------------------------------------
// event_encode: the encoding step alone, on the stream's events decoded and attributed in
// advance. Bytes/s is output bytes; out_B/event the average encoded size.

const std::vector<Event>& attributed_events() {
  static const std::vector<Event> events = [] {
    const Stream& s = stream();
    Attributor attr;
    std::vector<Event> out(s.records.size());
    for (size_t i = 0; i < s.records.size(); ++i) {
      if (!ritma::capture::decode_record(s.records[i], out[i]).ok()) die("decode");
      attr.attribute(out[i]);
    }
    return out;
  }();
  return events;
}

void set_encode_counters(benchmark::State& state, uint64_t out_bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(out_bytes));
  state.counters["out_B/event"] = static_cast<double>(out_bytes) /
                                  static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

void event_encode_ritma_atom(benchmark::State& state) {
  const std::vector<Event>& events = attributed_events();
  Bytes block;
  block.reserve(kBlockBytes + 4096);
  uint64_t out_bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (i == events.size()) i = 0;
    if (block.size() >= kBlockBytes) block.clear();
    const size_t before = block.size();
    ritma::capture::encode_event_atom(events[i++], kBootId, block);
    out_bytes += block.size() - before;
    benchmark::DoNotOptimize(block.data());
    benchmark::ClobberMemory();
  }
  set_encode_counters(state, out_bytes);
}

void event_encode_nlohmann_json(benchmark::State& state) {
  const std::vector<Event>& events = attributed_events();
  uint64_t out_bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (i == events.size()) i = 0;
    std::string text = dump_json(falco_like_json(events[i++], kBootId));
    out_bytes += text.size();
    benchmark::DoNotOptimize(text.data());
    benchmark::ClobberMemory();
  }
  set_encode_counters(state, out_bytes);
}

// ---------------------------------------------------------------------------------------------

// Registered in report order, peers next to each other.
bool register_benchmarks() {
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("pipeline/ritma_decode_attribute_encode",
                    pipeline_ritma_decode_attribute_encode);
  RegisterBenchmark("pipeline/ritma_with_hot_index", pipeline_ritma_with_hot_index);
  RegisterBenchmark("pipeline/ritma_hot_index_and_encode", pipeline_ritma_hot_index_and_encode);
  RegisterBenchmark("pipeline/memcpy_floor", pipeline_memcpy_floor);
  RegisterBenchmark("pipeline/nlohmann_json", pipeline_nlohmann_json);
  RegisterBenchmark("event_encode/ritma_atom", event_encode_ritma_atom);
  RegisterBenchmark("event_encode/nlohmann_json", event_encode_nlohmann_json);
  return true;
}

[[maybe_unused]] const bool kRegistered = register_benchmarks();

}  // namespace
