// Requiem's sandbox (see sandbox.h for the process layout, the identity and the view).
//
// Every step that matters is reported by the process that did it, over a close-on-exec pipe,
// as "key=value" lines: the relay (namespaces), the init (view, pivot_root, hostname,
// loopback) and the target (rlimits, no_new_privs, Landlock, capabilities, seccomp, each read
// back after being set). The target's last line before execve is "exec=<path>"; the pipe's
// end-of-file without it means setup failed, and the "error=" line says where.
#include "exec/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>

#include "core/text_lines.h"
#include "core/unique_fd.h"
#include "exec/cgroup_limits.h"
#include "exec/landlock_rules.h"
#include "exec/seccomp_policy.h"

namespace ritma::exec {
namespace {

// Where the init assembles the view in its own mount namespace before pivot_root. /tmp
// exists on every host; the host's /tmp is untouched (the namespace is private).
constexpr const char* kViewBase = "/tmp";

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};
constexpr const char* kNamespaces[] = {"user", "mnt", "pid", "ipc", "uts", "net", "cgroup"};

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

int64_t now_unix_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ino_t inode_of(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

int write_file(const std::string& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  const ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return errno;
  return static_cast<size_t>(n) == content.size() ? 0 : EIO;
}

// "Name:\tvalue" lines of a /proc/<pid>/status file.
std::vector<std::pair<std::string, std::string>> status_fields(
    const std::string& path, std::initializer_list<const char*> names) {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = line.substr(0, colon);
    for (const char* wanted : names) {
      if (name == wanted) out.emplace_back(name, trim(std::string_view(line).substr(colon + 1)));
    }
  }
  return out;
}

// ---- What the children report. ----

// Collects "key=value" lines and writes them to the report pipe in one go; fail() adds the
// error line, writes, and leaves. Used only in the forked children.
class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  void add(const std::string& key, const std::string& value) {
    std::string v = value;
    std::replace(v.begin(), v.end(), '\n', ' ');
    buffer_ += key + "=" + v + "\n";
  }
  void flush() {
    write_all(fd_, buffer_);
    buffer_.clear();
  }
  [[noreturn]] void fail(const std::string& what) {
    add("error", what);
    flush();
    ::_exit(125);
  }
  [[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + errno_text(errno)); }

 private:
  int fd_;
  std::string buffer_;
};

// ---- The plan: everything the children need, prepared in the parent. ----

struct PreparedBind {
  std::string source;
  std::string target;
  bool writable = false;
  bool directory = true;
  int tree_fd = -1;  // a detached copy (open_tree) made by a root caller; else bound by path
  bool idmap = false;
};

struct Plan {
  const SandboxSpec* spec = nullptr;
  bool caller_is_root = false;
  std::vector<PreparedBind> binds;  // sorted by target
  std::vector<std::string> landlock_writable;
  int landlock_abi = 0;  // 0: no ruleset
  SeccompProgram seccomp;
  bool seccomp_install = false;
  int cap_last = 40;
  std::string cwd;
  std::vector<std::pair<std::string, ino_t>> parent_ns;  // the caller's namespace inodes
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string path_env;
};

struct Fds {
  int ctl = -1;     // relay's end of the control socket
  int report = -1;  // write end
  int status = -1;  // write end (init -> parent: the target's wait status)
  int out = -1;     // write end
  int err = -1;     // write end
};

// Closes every descriptor but `keep` (and 0-2): a run must not hold other runs' pipes, nor
// pass the caller's descriptors on.
void close_other_fds(std::vector<int> keep) {
  keep.push_back(0);
  keep.push_back(1);
  keep.push_back(2);
  std::sort(keep.begin(), keep.end());
  unsigned next = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    const unsigned u = static_cast<unsigned>(fd);
    if (u > next) ::close_range(next, u - 1, 0);
    next = std::max(next, u + 1);
  }
  ::close_range(next, ~0U, 0);
}

Status mkdir_p(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos < path.size()) {
    const size_t next = path.find('/', pos + 1);
    partial = path.substr(0, next);
    pos = next == std::string::npos ? path.size() : next;
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_error("mkdir " + partial + ": " + errno_text(errno));
    }
  }
  return {};
}

Status make_mount_point(const std::string& path, bool directory) {
  if (directory) return mkdir_p(path);
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) RITMA_TRY(mkdir_p(path.substr(0, slash)));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid() && errno != EEXIST) {
    return make_error("creating mount point " + path + ": " + errno_text(errno));
  }
  return {};
}

int set_mount_attr(int dirfd, const char* path, unsigned flags, uint64_t set) {
  mount_attr attr{};
  attr.attr_set = set;
  return ::mount_setattr(dirfd, path, flags, &attr, sizeof attr);
}

// ---- The target: last restrictions, then execve. ----

std::string resolve_executable(const Plan& plan, Reporter& rep) {
  const std::string& name = plan.spec->argv[0];
  if (name.find('/') != std::string::npos) return name;
  const std::string_view path = plan.path_env;
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string dir(path.substr(start, end - start));
    start = end + 1;
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  rep.fail("exec_failed: " + name + " not found in PATH " + plan.path_env + " inside the view");
}

void report_rlimit(Reporter& rep, const char* name, int resource) {
  rlimit rl{};
  if (::getrlimit(resource, &rl) != 0) {
    rep.add(std::string("rlimit.") + name, "unreadable: " + errno_text(errno));
    return;
  }
  auto text = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
  };
  rep.add(std::string("rlimit.") + name, text(rl.rlim_cur) + "/" + text(rl.rlim_max));
}

[[noreturn]] void target_main(const Plan& plan, const Fds& fds) {
  Reporter rep(fds.report);
  ::close(fds.status);
  // A session of its own: no controlling terminal to push input into or signal.
  if (::setsid() < 0) rep.fail_errno("setsid");
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) rep.fail_errno("open /dev/null inside the view");
  if (::dup2(null_fd, 0) < 0 || ::dup2(fds.out, 1) < 0 || ::dup2(fds.err, 2) < 0) {
    rep.fail_errno("dup2 of stdin/stdout/stderr");
  }
  ::close(null_fd);
  ::close(fds.out);
  ::close(fds.err);
  if (::chdir(plan.cwd.c_str()) != 0) rep.fail_errno("chdir " + plan.cwd);
  rep.add("cwd", plan.cwd);

  const SandboxLimits& lim = plan.spec->limits;
  auto set_rlimit = [&](const char* name, int resource, uint64_t value) {
    rlimit rl{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (::setrlimit(resource, &rl) != 0) rep.fail_errno(std::string("setrlimit ") + name);
  };
  if (lim.cpu_seconds > 0) set_rlimit("cpu", RLIMIT_CPU, lim.cpu_seconds);
  if (lim.open_files > 0) set_rlimit("nofile", RLIMIT_NOFILE, lim.open_files);
  if (lim.file_size_bytes > 0) set_rlimit("fsize", RLIMIT_FSIZE, lim.file_size_bytes);
  if (lim.address_space_bytes > 0) set_rlimit("as", RLIMIT_AS, lim.address_space_bytes);
  set_rlimit("core", RLIMIT_CORE, 0);
  report_rlimit(rep, "cpu", RLIMIT_CPU);
  report_rlimit(rep, "nofile", RLIMIT_NOFILE);
  report_rlimit(rep, "fsize", RLIMIT_FSIZE);
  report_rlimit(rep, "as", RLIMIT_AS);
  report_rlimit(rep, "core", RLIMIT_CORE);

  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) rep.fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
  const int nnp = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  rep.add("no_new_privs", std::to_string(nnp));
  if (nnp != 1) rep.fail("no_new_privs reads back as " + std::to_string(nnp) + ", not 1");

  if (plan.landlock_abi > 0) {
    Result<LandlockApplied> ll = apply_landlock(plan.landlock_abi, plan.landlock_writable);
    if (!ll.ok()) rep.fail(ll.error().message);
    rep.add("landlock.abi", std::to_string(ll->abi));
    rep.add("landlock.rules", std::to_string(ll->rules));
    char hex[64];
    std::snprintf(hex, sizeof hex, "0x%llx",
                  static_cast<unsigned long long>(ll->handled_access_fs));
    rep.add("landlock.handled_access_fs", hex);
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(ll->scoped));
    rep.add("landlock.scoped", hex);
    rep.add("landlock.writable", join(plan.landlock_writable, ","));
  }

  // No capabilities, now or after execve: an empty bounding set bounds what exec grants uid 0.
  for (int cap = 0; cap <= plan.cap_last; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      rep.fail_errno("prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")");
    }
  }
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capset, &header, data) != 0)
    rep.fail_errno("capset (clearing every capability)");

  const std::string path = resolve_executable(plan, rep);

  // Last: the filter, so that no setup call above runs under it.
  if (plan.seccomp_install) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(plan.seccomp.filter.size());
    prog.filter = const_cast<sock_filter*>(plan.seccomp.filter.data());
    const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    if (rc != 0)
      rep.fail_errno("seccomp(SECCOMP_SET_MODE_FILTER) of profile " + plan.seccomp.profile);
    rep.add("seccomp.profile", plan.seccomp.profile);
    rep.add("seccomp.load", "0");
    rep.add("seccomp.instructions", std::to_string(plan.seccomp.filter.size()));
  } else {
    rep.add("seccomp.profile", "none");
  }
  // Measured after the fact, from the kernel's own view of this process.
  for (const auto& [name, value] :
       status_fields("/proc/self/status", {"Seccomp", "Seccomp_filters", "NoNewPrivs", "CapEff",
                                           "CapPrm", "CapBnd", "CapAmb", "Uid", "Gid", "Groups"})) {
    rep.add("status." + name, value);
  }
  rep.add("exec", path);
  rep.flush();
  // The caller's descriptors never reach the command.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(path.c_str(), plan.argv.data(), plan.envp.data());
  rep.fail_errno("exec_failed: execve " + path);
}

// ---- The init: the view, then the target, then reaping. ----

void build_view(const Plan& plan, Reporter& rep) {
  const SandboxSpec& spec = *plan.spec;
  const std::string base = kViewBase;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    rep.fail_errno("making / private in the new mount namespace");
  }
  if (spec.view == ViewMode::kHostReadOnly) {
    if (::mount("/", base.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      rep.fail_errno("bind-mounting the host's / at " + base);
    }
    if (set_mount_attr(AT_FDCWD, base.c_str(), AT_RECURSIVE,
                       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID) != 0) {
      rep.fail_errno("mount_setattr(RDONLY|NOSUID, AT_RECURSIVE) on the root view");
    }
    rep.add("view", "host_read_only");
  } else {
    if (::mount("tmpfs", base.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
      rep.fail_errno("mounting the root tmpfs");
    }
    for (const char* dir : {"/proc", "/dev", "/tmp"}) {
      if (::mkdir((base + dir).c_str(), 0755) != 0) rep.fail_errno("mkdir " + base + dir);
    }
    rep.add("view", "binds_only");
  }

  if (::mount("proc", (base + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    rep.fail_errno("mounting a fresh /proc");
  }
  const std::string dev = base + "/dev";
  if (::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0) {
    rep.fail_errno("mounting the /dev tmpfs");
  }
  std::vector<std::string> devices;
  for (const char* name : kDevices) {
    const std::string host = std::string("/dev/") + name;
    const std::string inside = dev + "/" + name;
    if (!path_exists(host)) continue;
    UniqueFd mp(::open(inside.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
    if (!mp.valid()) rep.fail_errno("creating " + inside);
    if (::mount(host.c_str(), inside.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      rep.fail_errno("binding " + host);
    }
    devices.push_back(name);
  }
  const std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"},
      {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"},
  };
  for (const auto& [to, name] : links) {
    if (::symlink(to, (dev + "/" + name).c_str()) != 0)
      rep.fail_errno(std::string("symlink /dev/") + name);
  }
  if (::mkdir((dev + "/shm").c_str(), 0755) != 0) rep.fail_errno("mkdir /dev/shm");
  if (::mount(nullptr, dev.c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr) != 0) {
    rep.fail_errno("remounting /dev read-only");
  }
  rep.add("dev", join(devices, ","));
  // POSIX shared memory and semaphores (shm_open, sem_open: Python's multiprocessing, ...): a
  // tmpfs of the run's own, charged to its memory cgroup.
  if (::mount("tmpfs", (dev + "/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777") != 0) {
    rep.fail_errno("mounting the /dev/shm tmpfs");
  }
  if (::mount("tmpfs", (base + "/tmp").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    rep.fail_errno("mounting the /tmp tmpfs");
  }

  for (const PreparedBind& b : plan.binds) {
    const std::string target = base + b.target;
    Status mp = make_mount_point(target, b.directory);
    if (!mp.ok()) {
      rep.fail("mount point for " + b.target + ": " + mp.error().message +
               " (a target must exist in the view or lie under /tmp)");
    }
    if (b.tree_fd >= 0) {
      if (::move_mount(b.tree_fd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        rep.fail_errno("move_mount of " + b.source + " onto " + b.target);
      }
      ::close(b.tree_fd);
    } else {
      if (::mount(b.source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        rep.fail_errno("bind-mounting " + b.source + " at " + b.target);
      }
      // mount_setattr only adds flags, so it also works on mounts whose flags are locked.
      const uint64_t attrs = MOUNT_ATTR_NOSUID | (b.writable ? 0 : MOUNT_ATTR_RDONLY);
      if (set_mount_attr(AT_FDCWD, target.c_str(), AT_RECURSIVE, attrs) != 0) {
        rep.fail_errno("mount_setattr on the bind at " + b.target);
      }
    }
    // (Whether the parent idmapped it is the parent's entry: parent.idmapped.)
    rep.add("bind", b.source + " -> " + b.target + (b.writable ? " rw" : " ro"));
  }
  if (spec.view == ViewMode::kBindsOnly &&
      ::mount(nullptr, base.c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    rep.fail_errno("remounting the root tmpfs read-only");
  }

  // Into the view: pivot_root(".", ".") stacks the old root on the new one, and detaching
  // "." then removes it, without needing a directory for it inside the view.
  if (::chdir(base.c_str()) != 0) rep.fail_errno("chdir " + base);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) rep.fail_errno("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) rep.fail_errno("detaching the old root");
  if (::chdir("/") != 0) rep.fail_errno("chdir / in the view");
  rep.add("pivot_root", "ok");
  struct statvfs vfs {};
  if (::statvfs("/", &vfs) == 0) rep.add("root_read_only", (vfs.f_flag & ST_RDONLY) ? "1" : "0");
}

void bring_up_loopback(Reporter& rep) {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) rep.fail_errno("socket for bringing lo up");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) rep.fail_errno("SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) rep.fail_errno("SIOCSIFFLAGS lo up");
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) rep.fail_errno("SIOCGIFFLAGS lo");
  if ((ifr.ifr_flags & IFF_UP) == 0) rep.fail("lo is still down after SIOCSIFFLAGS");
}

[[noreturn]] void init_main(const Plan& plan, const Fds& fds) {
  Reporter rep(fds.report);
  ::close(fds.ctl);
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  rep.add("pid1", std::to_string(::getpid()));
  if (::getpid() != 1) rep.fail("the init is pid " + std::to_string(::getpid()) + ", not 1");
  build_view(plan, rep);
  if (!plan.spec->hostname.empty() &&
      ::sethostname(plan.spec->hostname.data(), plan.spec->hostname.size()) != 0) {
    rep.fail_errno("sethostname");
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  rep.add("hostname", host);
  if (plan.spec->network == NetworkMode::kLoopback) bring_up_loopback(rep);
  rep.add("network", network_mode_name(plan.spec->network));
  // Each namespace, compared with the caller's (the fresh /proc is this pid namespace's).
  for (const auto& [name, parent_inode] : plan.parent_ns) {
    const ino_t inode = inode_of("/proc/self/ns/" + name);
    rep.add("ns." + name, inode == 0 ? "unknown" : inode == parent_inode ? "host" : "new");
  }
  rep.flush();

  const pid_t target = ::fork();
  if (target < 0) rep.fail_errno("fork of the target");
  if (target == 0) target_main(plan, fds);
  ::close(fds.report);
  ::close(fds.out);
  ::close(fds.err);
  // pid 1: reap every orphan until the target ends, then hand its status over and leave;
  // leaving kills whatever is left in the namespace.
  for (;;) {
    int wstatus = 0;
    const pid_t pid = ::waitpid(-1, &wstatus, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      ::_exit(126);
    }
    if (pid == target) {
      write_all(fds.status,
                std::string_view(reinterpret_cast<const char*>(&wstatus), sizeof wstatus));
      ::_exit(0);
    }
  }
}

// ---- The relay: namespaces, then the init. ----

[[noreturn]] void relay_main(const Plan& plan, const Fds& fds, pid_t caller) {
  Reporter rep(fds.report);
  std::vector<int> keep{fds.ctl, fds.report, fds.status, fds.out, fds.err};
  for (const PreparedBind& b : plan.binds) keep.push_back(b.tree_fd);
  close_other_fds(keep);
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != caller) ::_exit(125);

  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (plan.spec->network != NetworkMode::kHost) flags |= CLONE_NEWNET;
  if (::unshare(flags) != 0) {
    const std::string why = "unshare(user, mnt, pid, ipc, uts" +
                            std::string(flags & CLONE_NEWNET ? ", net" : "") +
                            ") failed: " + errno_text(errno);
    (void)::send(fds.ctl, why.data(), why.size(), MSG_NOSIGNAL);
    ::_exit(125);
  }
  (void)::send(fds.ctl, "u", 1, MSG_NOSIGNAL);
  char go = 0;
  ssize_t n;
  do {
    n = ::recv(fds.ctl, &go, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || go != 'g') ::_exit(125);

  // The id maps are written; become uid/gid 0 of the namespace (the caller, or the
  // unprivileged host id for a root caller) and drop a root caller's supplementary groups.
  if (plan.caller_is_root && ::setgroups(0, nullptr) != 0) rep.fail_errno("setgroups(0)");
  if (::setresgid(0, 0, 0) != 0) rep.fail_errno("setresgid(0) in the user namespace");
  if (::setresuid(0, 0, 0) != 0) rep.fail_errno("setresuid(0) in the user namespace");
  // The parent has moved this process into the run's cgroups: a cgroup namespace rooted
  // there hides the host's cgroup paths.
  if (::unshare(CLONE_NEWCGROUP) != 0) rep.fail_errno("unshare(CLONE_NEWCGROUP)");
  rep.flush();

  const pid_t init = ::fork();
  if (init < 0) rep.fail_errno("fork of the init (pid 1)");
  if (init == 0) init_main(plan, fds);
  ::close(fds.report);
  ::close(fds.status);
  ::close(fds.out);
  ::close(fds.err);
  ::close(fds.ctl);
  for (const PreparedBind& b : plan.binds) {
    if (b.tree_fd >= 0) ::close(b.tree_fd);
  }
  int wstatus = 0;
  while (::waitpid(init, &wstatus, 0) < 0) {
    if (errno != EINTR) ::_exit(126);
  }
  if (WIFSIGNALED(wstatus)) ::_exit(128 + WTERMSIG(wstatus));
  ::_exit(WEXITSTATUS(wstatus));
}

// ---- The parent. ----

struct ParentPipes {
  UniqueFd ctl_parent, ctl_child;
  UniqueFd report_r, report_w;
  UniqueFd status_r, status_w;
  UniqueFd out_r, out_w;
  UniqueFd err_r, err_w;
};

Status make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return make_error("pipe2 failed: " + errno_text(errno));
  r = UniqueFd(p[0]);
  w = UniqueFd(p[1]);
  return {};
}

Status validate(const SandboxSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return make_error("sandbox: argv is empty");
  for (const std::string& kv : spec.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error("sandbox: environment entry \"" + kv + "\" is not K=V");
    }
  }
  if (!spec.workspace.empty()) {
    struct stat st;
    if (spec.workspace[0] != '/') {
      return make_error("sandbox: workspace " + spec.workspace + " is not an absolute path");
    }
    if (::stat(spec.workspace.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return make_error("sandbox: workspace " + spec.workspace + " is not a directory");
    }
  }
  if (!spec.cwd.empty() && spec.cwd[0] != '/') {
    return make_error("sandbox: cwd " + spec.cwd + " is not an absolute path");
  }
  for (const BindMount& b : spec.binds) {
    if (b.target.empty() || b.target[0] != '/' || b.target == "/" ||
        b.target.find("/../") != std::string::npos || b.target.ends_with("/..")) {
      return make_error("sandbox: bind target \"" + b.target +
                        "\" must be an absolute path below /");
    }
    if (!path_exists(b.source))
      return make_error("sandbox: bind source " + b.source + " does not exist");
  }
  return {};
}

// Records a requested feature that is unavailable: an error, or with allow_degraded a
// degradation.
Status degrade(const SandboxSpec& spec, SandboxOutcome& out, const std::string& what) {
  if (!spec.allow_degraded) {
    return make_error("sandbox: " + what + " (requested but unavailable; allow_degraded not set)");
  }
  out.degraded.push_back(what);
  return {};
}

void parse_report(const std::string& text, AppliedReport& applied,
                  std::vector<std::string>& errors) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (key == "error") {
      errors.push_back(value);
    } else if (key == "exec") {
      applied.exec_reached = true;
    } else if (key == "status.Seccomp") {
      applied.seccomp_mode = std::atoi(value.c_str());
    } else if (key == "no_new_privs") {
      applied.no_new_privs = std::atoi(value.c_str());
    } else if (key == "landlock.abi") {
      applied.landlock_abi = std::atoi(value.c_str());
    }
    applied.entries.emplace_back(std::move(key), std::move(value));
  }
}

// The target's host pid, found among the cgroup's processes by its pid (2) in the
// namespace; 0 when gone.
pid_t find_target(const RunCgroups* cg, pid_t relay) {
  if (cg == nullptr || cg->v2_path().empty()) return 0;
  std::ifstream in(cg->v2_path() + "/cgroup.procs");
  std::string line;
  while (std::getline(in, line)) {
    const pid_t pid = static_cast<pid_t>(std::atol(line.c_str()));
    if (pid <= 0 || pid == relay) continue;
    for (const auto& [name, value] : status_fields("/proc/" + line + "/status", {"NSpid"})) {
      if (value.size() >= 2 && value.ends_with("\t2")) return pid;
    }
  }
  return 0;
}

// Compiling a profile costs more than the rest of a short run's setup: each profile is built
// once per process.
Result<SeccompProgram> cached_seccomp_program(const std::string& profile) {
  static std::mutex mu;
  static std::map<std::string, SeccompProgram> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto it = cache.find(profile);
  if (it != cache.end()) return it->second;
  RITMA_ASSIGN_OR_RETURN(SeccompProgram program, build_seccomp_program(profile));
  cache.emplace(profile, program);
  return program;
}

}  // namespace

Result<NetworkMode> parse_network_mode(const std::string& name) {
  if (name == "none") return NetworkMode::kNone;
  if (name == "loopback") return NetworkMode::kLoopback;
  if (name == "host") return NetworkMode::kHost;
  return make_error("unknown network mode \"" + name + "\" (known: none, loopback, host)");
}

const char* network_mode_name(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kNone:
      return "none";
    case NetworkMode::kLoopback:
      return "loopback";
    case NetworkMode::kHost:
      return "host";
  }
  return "?";
}

std::string AppliedReport::get(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return v;
  }
  return "";
}

Result<SandboxOutcome> run_sandboxed(const SandboxSpec& spec, const BeforeExecHook& hook) {
  RITMA_TRY(validate(spec));
  SandboxOutcome out;
  Plan plan;
  plan.spec = &spec;
  plan.caller_is_root = ::geteuid() == 0;
  plan.cwd = !spec.cwd.empty() ? spec.cwd : !spec.workspace.empty() ? spec.workspace : "/";

  // Seccomp, compiled here so the target only loads it.
  if (spec.seccomp_profile != "none") {
    RITMA_ASSIGN_OR_RETURN(plan.seccomp, cached_seccomp_program(spec.seccomp_profile));
    if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
      RITMA_TRY(
          degrade(spec, out, "seccomp: the kernel has no seccomp (" + errno_text(errno) + ")"));
    } else {
      plan.seccomp_install = true;
    }
  } else {
    plan.seccomp.profile = "none";
  }
  if (spec.landlock) {
    plan.landlock_abi = landlock_abi_version();
    if (plan.landlock_abi == 0) {
      RITMA_TRY(degrade(spec, out, "landlock: the kernel has no Landlock (or it is disabled)"));
    }
  }
  const std::string cap_last = read_first_line("/proc/sys/kernel/cap_last_cap");
  if (!cap_last.empty()) plan.cap_last = std::atoi(cap_last.c_str());
  for (const char* ns : kNamespaces) {
    plan.parent_ns.emplace_back(ns, inode_of(std::string("/proc/self/ns/") + ns));
  }
  for (const std::string& kv : spec.env) {
    plan.envp.push_back(const_cast<char*>(kv.c_str()));
    if (kv.starts_with("PATH=")) plan.path_env = kv.substr(5);
  }
  plan.envp.push_back(nullptr);
  if (plan.path_env.empty()) plan.path_env = kDefaultPath;
  for (const std::string& a : spec.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);

  // Binds: the workspace first, then the explicit ones, mounted parents before children.
  std::vector<BindMount> binds;
  if (!spec.workspace.empty()) binds.push_back({spec.workspace, spec.workspace, true});
  binds.insert(binds.end(), spec.binds.begin(), spec.binds.end());
  std::stable_sort(binds.begin(), binds.end(), [](const BindMount& a, const BindMount& b) {
    return std::count(a.target.begin(), a.target.end(), '/') <
           std::count(b.target.begin(), b.target.end(), '/');
  });
  std::vector<UniqueFd> trees;  // owned here; the children get the numbers
  for (const BindMount& b : binds) {
    PreparedBind p;
    p.source = b.source;
    p.target = b.target;
    p.writable = b.writable;
    struct stat st;
    p.directory = ::stat(b.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (plan.caller_is_root) {
      // A root caller opens the source itself: the sandbox's unprivileged identity may not
      // be allowed to walk to it.
      UniqueFd tree(static_cast<int>(::open_tree(
          AT_FDCWD, b.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
      if (!tree.valid())
        return make_error("sandbox: open_tree of " + b.source + ": " + errno_text(errno));
      const uint64_t attrs = MOUNT_ATTR_NOSUID | (b.writable ? 0 : MOUNT_ATTR_RDONLY);
      if (set_mount_attr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) != 0) {
        return make_error("sandbox: mount_setattr on the copy of " + b.source + ": " +
                          errno_text(errno));
      }
      p.tree_fd = tree.get();
      trees.push_back(std::move(tree));
    }
    if (b.writable) plan.landlock_writable.push_back(b.target);
    plan.binds.push_back(std::move(p));
  }
  plan.landlock_writable.push_back("/tmp");
  plan.landlock_writable.push_back("/dev/shm");

  // Cgroups.
  CgroupLimits cl;
  cl.memory_bytes = spec.limits.memory_bytes;
  // The relay and the init count against pids.max too.
  cl.pids = spec.limits.pids > 0 ? spec.limits.pids + 2 : 0;
  cl.cpu_millis = spec.limits.cpu_millis;
  std::vector<std::string> unavailable;
  RITMA_ASSIGN_OR_RETURN(std::unique_ptr<RunCgroups> cgroups, RunCgroups::create(cl, unavailable));
  for (const std::string& u : unavailable) {
    if (u.starts_with("cgroup_v2_id") && !hook) {
      out.applied.entries.emplace_back("parent.cgroup_v2", "none: " + u);
      continue;
    }
    RITMA_TRY(degrade(spec, out, u));
  }
  out.cgroup_id = cgroups->v2_id();
  out.cgroup_paths = cgroups->paths();
  for (const std::string& p : out.cgroup_paths)
    out.applied.entries.emplace_back("parent.cgroup", p);
  for (const std::string& l : cgroups->limits_applied()) {
    out.applied.entries.emplace_back("parent.cgroup_limit", l);
  }

  ParentPipes pp;
  {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return make_error("sandbox: socketpair failed: " + errno_text(errno));
    }
    pp.ctl_parent = UniqueFd(sv[0]);
    pp.ctl_child = UniqueFd(sv[1]);
  }
  RITMA_TRY(make_pipe(pp.report_r, pp.report_w));
  RITMA_TRY(make_pipe(pp.status_r, pp.status_w));
  RITMA_TRY(make_pipe(pp.out_r, pp.out_w));
  RITMA_TRY(make_pipe(pp.err_r, pp.err_w));
  Fds fds{pp.ctl_child.get(), pp.report_w.get(), pp.status_w.get(), pp.out_w.get(), pp.err_w.get()};

  const auto start = std::chrono::steady_clock::now();
  out.start_unix_ns = now_unix_ns();
  const pid_t caller = ::getpid();
  const pid_t relay = ::fork();
  if (relay < 0) return make_error("sandbox: fork failed: " + errno_text(errno));
  if (relay == 0) relay_main(plan, fds, caller);

  pp.ctl_child.reset();
  pp.report_w.reset();
  pp.status_w.reset();
  pp.out_w.reset();
  pp.err_w.reset();

  // From here on, any failure must not leave the relay behind.
  bool relay_reaped = false;
  auto abort_run = [&](const std::string& why) -> Error {
    ::kill(relay, SIGKILL);
    cgroups->kill_all(1000);
    if (!relay_reaped) {
      while (::waitpid(relay, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    return make_error(why);
  };

  // The relay joins the cgroups before it can fork: everything below it inherits them.
  Status moved = cgroups->add_process(relay);
  if (!moved.ok()) {
    Status d = degrade(spec, out, "cgroups: " + moved.error().message);
    if (!d.ok()) return abort_run(d.error().message);
  }

  // Wait for the namespaces, then write the id maps.
  std::string ctl_msg;
  {
    char buf[512];
    ssize_t n;
    do {
      n = ::recv(pp.ctl_parent.get(), buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) ctl_msg.assign(buf, static_cast<size_t>(n));
  }
  if (ctl_msg != "u") {
    return abort_run("sandbox: " + (ctl_msg.empty() ? std::string("the relay died before creating "
                                                                  "the namespaces")
                                                    : ctl_msg));
  }
  const std::string proc = "/proc/" + std::to_string(relay);
  const uint32_t host_uid = plan.caller_is_root ? spec.host_uid_when_root : ::geteuid();
  const uint32_t host_gid = plan.caller_is_root ? spec.host_gid_when_root : ::getegid();
  if (!plan.caller_is_root) {
    const int err = write_file(proc + "/setgroups", "deny");
    if (err != 0 && err != ENOENT)
      return abort_run("sandbox: writing setgroups: " + errno_text(err));
  }
  if (int err = write_file(proc + "/uid_map", "0 " + std::to_string(host_uid) + " 1"); err != 0) {
    return abort_run("sandbox: writing uid_map: " + errno_text(err));
  }
  if (int err = write_file(proc + "/gid_map", "0 " + std::to_string(host_gid) + " 1"); err != 0) {
    return abort_run("sandbox: writing gid_map: " + errno_text(err));
  }
  out.applied.entries.emplace_back("parent.uid_map", "0 " + std::to_string(host_uid) + " 1");
  out.applied.entries.emplace_back("parent.gid_map", "0 " + std::to_string(host_gid) + " 1");

  // A root caller's writable binds: idmapped onto the sandbox's user namespace.
  if (plan.caller_is_root) {
    UniqueFd userns;
    for (PreparedBind& b : plan.binds) {
      if (!b.writable) continue;
      if (!userns.valid())
        userns = UniqueFd(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
      mount_attr attr{};
      attr.attr_set = MOUNT_ATTR_IDMAP;
      attr.userns_fd = static_cast<uint64_t>(userns.get());
      if (userns.valid() &&
          ::mount_setattr(b.tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) {
        b.idmap = true;
        out.applied.entries.emplace_back("parent.idmapped", b.target);
      } else {
        Status d =
            degrade(spec, out,
                    "workspace_idmap: idmapping " + b.source + " failed: " + errno_text(errno) +
                        " (host-root-owned files there are not writable inside)");
        if (!d.ok()) return abort_run(d.error().message);
      }
    }
  }

  trees.clear();  // the relay holds its own copies

  if (hook) {
    Status hooked = hook(out.cgroup_id);
    if (!hooked.ok())
      return abort_run("sandbox: the before-exec hook failed: " + hooked.error().message);
  }
  if (::send(pp.ctl_parent.get(), "g", 1, MSG_NOSIGNAL) != 1) {
    return abort_run("sandbox: the relay is gone before setup (" + errno_text(errno) + ")");
  }

  // Collect until the relay is gone and every pipe is at its end.
  // (glibc 2.36's <sys/pidfd.h> lacks extern "C": the raw call.)
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, relay, 0)));
  if (!pidfd.valid()) return abort_run("sandbox: pidfd_open failed: " + errno_text(errno));
  std::string report_text;
  std::string status_bytes;
  const uint64_t cap = spec.limits.output_bytes;
  bool output_exceeded = false;
  bool relay_exited = false;
  const auto deadline = spec.limits.wall_timeout_ms > 0
                            ? start + std::chrono::milliseconds(spec.limits.wall_timeout_ms)
                            : std::chrono::steady_clock::time_point::max();
  UniqueFd* streams[] = {&pp.report_r, &pp.out_r, &pp.err_r, &pp.status_r};
  std::string* sinks[] = {&report_text, &out.stdout_data, &out.stderr_data, &status_bytes};
  auto kill_run = [&] {
    cgroups->kill_all(0);
    ::kill(relay, SIGKILL);
  };
  char buf[65536];
  for (;;) {
    pollfd pfds[5];
    int n = 0;
    int which[5];
    for (int i = 0; i < 4; ++i) {
      if (streams[i]->valid()) {
        pfds[n] = {streams[i]->get(), POLLIN, 0};
        which[n++] = i;
      }
    }
    if (!relay_exited) {
      pfds[n] = {pidfd.get(), POLLIN, 0};
      which[n++] = 4;
    }
    if (n == 0) break;
    int timeout_ms = -1;
    if (!out.timed_out && deadline != std::chrono::steady_clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count() + 1));
    }
    const int ready = ::poll(pfds, static_cast<nfds_t>(n), timeout_ms);
    if (ready < 0 && errno != EINTR) return abort_run("sandbox: poll failed: " + errno_text(errno));
    if (!out.timed_out && std::chrono::steady_clock::now() >= deadline) {
      out.timed_out = true;
      kill_run();
    }
    if (ready <= 0) continue;
    for (int k = 0; k < n; ++k) {
      if (pfds[k].revents == 0) continue;
      if (which[k] == 4) {
        relay_exited = true;
        continue;
      }
      UniqueFd& fd = *streams[which[k]];
      const ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fd.reset();
        continue;
      }
      std::string& sink = *sinks[which[k]];
      const bool is_output = which[k] == 1 || which[k] == 2;
      size_t take = static_cast<size_t>(got);
      if (is_output && cap > 0 && sink.size() + take > cap) {
        take = static_cast<size_t>(cap - std::min<uint64_t>(cap, sink.size()));
        if (!output_exceeded) {
          output_exceeded = true;
          out.output_truncated = true;
          kill_run();
        }
      }
      sink.append(buf, take);
      // The target's own exec closed the report pipe: confirm from the parent's side what
      // the kernel says of it, if it is still there to ask.
      if (which[k] == 0 && report_text.find("\nexec=") != std::string::npos &&
          out.applied.get("parent.target_status").empty()) {
        const pid_t target = find_target(cgroups.get(), relay);
        if (target > 0) {
          for (const auto& [name, value] :
               status_fields("/proc/" + std::to_string(target) + "/status",
                             {"Seccomp", "NoNewPrivs", "CapEff"})) {
            out.applied.entries.emplace_back("parent.target_status." + name, value);
          }
        }
        out.applied.entries.emplace_back("parent.target_status",
                                         target > 0 ? "read" : "gone before it could be read");
      }
    }
  }
  int relay_status = 0;
  rusage ru{};
  while (::wait4(relay, &relay_status, 0, &ru) < 0) {
    if (errno != EINTR) break;
  }
  relay_reaped = true;
  out.end_unix_ns = now_unix_ns();
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.user_cpu_us = static_cast<int64_t>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec;
  out.system_cpu_us = static_cast<int64_t>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec;
  out.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  out.stdout_bytes = out.stdout_data.size();
  out.stderr_bytes = out.stderr_data.size();

  // The applied report, in the order measured, after the parent's own entries.
  std::vector<std::pair<std::string, std::string>> parent_entries = std::move(out.applied.entries);
  out.applied.entries.clear();
  std::vector<std::string> errors;
  parse_report(report_text, out.applied, errors);
  out.applied.entries.insert(out.applied.entries.end(), parent_entries.begin(),
                             parent_entries.end());

  // Cgroup accounting, then make sure nothing is left, then remove them.
  const CgroupUsage usage = cgroups->usage();
  out.cgroup_cpu_usec = usage.cpu_usage_usec;
  out.memory_peak_bytes = usage.memory_peak_bytes;
  out.oom_kills = usage.oom_kills;
  out.pids_refused = usage.pids_max_events;
  if (!out.cgroup_paths.empty()) {
    // Measured before any clean-up kill: what the run left behind once killed processes have
    // had up to a second to finish exiting (0 expected: the pid namespace dies with its init).
    out.processes_left = static_cast<long>(cgroups->wait_empty(1000));
    if (out.processes_left > 0) cgroups->kill_all(1000);
  }
  cgroups->remove();

  // A setup step that failed, or a sandbox that ended before the exec without being killed
  // for its time, is an error; a run timed out during its setup is a timeout.
  if (!errors.empty() || (!out.applied.exec_reached && !out.timed_out)) {
    std::string why =
        errors.empty() ? "the sandbox ended before the command was executed" : join(errors, "; ");
    if (WIFSIGNALED(relay_status)) {
      why += " (relay killed by signal " + std::to_string(WTERMSIG(relay_status)) + ")";
    }
    return make_error("sandbox setup failed: " + why);
  }

  if (status_bytes.size() == sizeof(int)) {
    int wstatus = 0;
    std::memcpy(&wstatus, status_bytes.data(), sizeof wstatus);
    if (WIFEXITED(wstatus)) out.exit_code = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) out.signal = WTERMSIG(wstatus);
  } else {
    // The init did not live to report (the run was killed): SIGKILL is what ended it.
    out.signal = SIGKILL;
  }
  if (out.oom_kills > 0) out.limits_hit.push_back("memory");
  if (out.pids_refused > 0) out.limits_hit.push_back("pids");
  if (output_exceeded) out.limits_hit.push_back("output");
  if (out.timed_out) out.limits_hit.push_back("timeout");
  if (!out.limits_hit.empty()) {
    out.termination = out.limits_hit.front();
  } else {
    out.termination = out.signal != 0 ? "signal" : "exit";
  }
  return out;
}

}  // namespace ritma::exec
