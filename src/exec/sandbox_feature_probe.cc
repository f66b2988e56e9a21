// Sandbox feature probes. Anything that changes a process (unshare, seccomp, Landlock) runs in
// a forked child that reports what it observed over a pipe and leaves with _exit, so the
// doctor's own process is never restricted. Cgroup probes create real child cgroups and
// remove them again.
#include "exec/sandbox_feature_probe.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text_lines.h"
#include "core/unique_fd.h"
#include "exec/cgroup_limits.h"
#include "exec/cgroup_limits.h"

namespace ritma::exec {
namespace {

using Status = FeatureReport::Status;

constexpr const char* kCostUserNamespaces =
    "no user namespaces: requiem cannot build an unprivileged sandbox (no private mount, pid or "
    "network namespace)";
constexpr const char* kCostSeccomp =
    "no seccomp: sandboxed runs cannot have their system calls filtered";
constexpr const char* kCostLandlock =
    "no Landlock: sandboxed runs cannot be confined to a file-system allowlist; isolation rests "
    "on mount namespaces alone";
constexpr const char* kCostCgroups =
    "no usable cgroup limits: requiem cannot hold sandboxed runs to memory or process-count "
    "limits";

// A child that is still running after this many seconds is killed (SIGALRM) and reported.
constexpr unsigned kChildTimeoutSeconds = 10;

std::string errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Writes all of `content` to `path` (no O_CREAT); 0 or the errno.
int write_file(const std::string& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return errno;
  return static_cast<size_t>(n) == content.size() ? 0 : EIO;
}

ino_t inode_of(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// ---- Running a probe in a child. ----

int status_to_exit_code(Status s) {
  switch (s) {
    case Status::kAvailable:
      return 0;
    case Status::kUnavailable:
      return 1;
    case Status::kNotPermitted:
      return 2;
    case Status::kError:
      return 3;
  }
  return 3;
}

struct ChildOutcome {
  Status status = Status::kError;
  std::string message;
};

// Runs `body` in a forked child, so whatever it does to itself stays there. The body returns
// its verdict and fills `message`; both travel back (exit code, pipe) and the child is reaped.
ChildOutcome run_in_child(const std::function<Status(std::string& message)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {Status::kError, "pipe2 failed: " + errno_name(errno)};
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return {Status::kError, "fork failed: " + errno_name(errno)};
  if (pid == 0) {
    ::alarm(kChildTimeoutSeconds);
    std::string message;
    const Status status = body(message);
    const char* p = message.data();
    size_t left = message.size();
    while (left > 0) {
      ssize_t n = ::write(write_end.get(), p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    ::_exit(status_to_exit_code(status));
  }
  write_end.reset();
  std::string message;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buf, static_cast<size_t>(n));
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return {Status::kError, "waitpid failed: " + errno_name(errno)};
  }
  if (WIFSIGNALED(wstatus)) {
    const char* sig = sigabbrev_np(WTERMSIG(wstatus));
    const std::string what =
        std::string("probe child killed by SIG") + (sig != nullptr ? sig : "?");
    return {Status::kError, message.empty() ? what : message + "; " + what};
  }
  switch (WEXITSTATUS(wstatus)) {
    case 0:
      return {Status::kAvailable, message};
    case 1:
      return {Status::kUnavailable, message};
    case 2:
      return {Status::kNotPermitted, message};
    default:
      return {Status::kError, message};
  }
}

// EPERM/EACCES for an unprivileged caller is a question of privilege, not of the kernel.
Status classify(int err, std::initializer_list<int> unavailable_errnos) {
  if ((err == EPERM || err == EACCES) && ::geteuid() != 0) return Status::kNotPermitted;
  for (int e : unavailable_errnos) {
    if (e == err) return Status::kUnavailable;
  }
  return Status::kError;
}

// ---- User namespaces. ----

// Maps uid/gid 0 inside a fresh user namespace to the caller's ids; "" or what failed.
std::string write_id_maps(uid_t uid, gid_t gid, int& err) {
  err = write_file("/proc/self/setgroups", "deny");
  if (err != 0 && err != ENOENT) return "writing setgroups failed: " + errno_name(err);
  err = write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
  if (err != 0) return "writing uid_map failed: " + errno_name(err);
  err = write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  if (err != 0) return "writing gid_map failed: " + errno_name(err);
  return "";
}

Status classify_unshare(int err) {
  return classify(err, {EPERM, EACCES, EINVAL, ENOSPC, EUSERS, ENOSYS});
}

FeatureReport probe_user_namespaces() {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();

  ChildOutcome single = run_in_child([&](std::string& msg) {
    if (::unshare(CLONE_NEWUSER) != 0) {
      const int err = errno;
      msg = "unshare(CLONE_NEWUSER) failed: " + errno_name(err);
      return classify_unshare(err);
    }
    int err = 0;
    msg = write_id_maps(uid, gid, err);
    if (!msg.empty()) return classify_unshare(err);
    if (::getuid() != 0) {
      msg = "uid_map written, but getuid() is " + std::to_string(::getuid()) + " inside";
      return Status::kError;
    }
    msg = "unshare(CLONE_NEWUSER) + uid_map: uid 0 inside";
    return Status::kAvailable;
  });

  const ino_t parent_mnt = inode_of("/proc/self/ns/mnt");
  const ino_t parent_net = inode_of("/proc/self/ns/net");
  ChildOutcome combined = run_in_child([&](std::string& msg) {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) != 0) {
      const int err = errno;
      msg = "unshare(NEWUSER|NEWNS|NEWPID|NEWNET) failed: " + errno_name(err);
      return classify_unshare(err);
    }
    int err = 0;
    msg = write_id_maps(uid, gid, err);
    if (!msg.empty()) return classify_unshare(err);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      msg = "new mount namespace, but making / private failed: " + errno_name(errno);
      return Status::kUnavailable;
    }
    if (inode_of("/proc/self/ns/mnt") == parent_mnt ||
        inode_of("/proc/self/ns/net") == parent_net) {
      msg = "unshare succeeded but the mount or network namespace did not change";
      return Status::kError;
    }
    const pid_t init = ::fork();  // the first child in the new pid namespace is its pid 1
    if (init < 0) {
      msg = "fork into the new pid namespace failed: " + errno_name(errno);
      return Status::kUnavailable;
    }
    if (init == 0) ::_exit(::getpid() == 1 ? 0 : 1);
    int wstatus = 0;
    while (::waitpid(init, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
      msg = "new pid namespace, but its first process is not pid 1";
      return Status::kError;
    }
    msg =
        "NEWUSER|NEWNS|NEWPID|NEWNET together: / made private, pid 1 in the new pid ns, new net ns";
    return Status::kAvailable;
  });

  std::vector<std::string> notes;
  const std::string max = read_first_line("/proc/sys/user/max_user_namespaces");
  if (!max.empty()) notes.push_back("max_user_namespaces=" + max);
  for (const char* knob : {"/proc/sys/kernel/unprivileged_userns_clone",
                           "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"}) {
    const std::string value = read_first_line(knob);
    if (!value.empty()) {
      notes.push_back(std::string(knob).substr(std::strlen("/proc/sys/kernel/")) + "=" + value);
    }
  }
  std::string detail = single.message + "; " + combined.message;
  if (!notes.empty()) detail += " (" + join(notes, ", ") + ")";

  Status status = single.status;
  if (status == Status::kAvailable) status = combined.status;
  return make_report("user_namespaces", status, std::move(detail), kCostUserNamespaces);
}

// ---- seccomp. ----

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp probe: add this architecture's AUDIT_ARCH_*"
#endif

FeatureReport probe_seccomp() {
  ChildOutcome outcome = run_in_child([](std::string& msg) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      msg = "prctl(PR_SET_NO_NEW_PRIVS) failed: " + errno_name(errno);
      return Status::kError;
    }
    // getppid() fails with EPERM; everything else, and any other architecture, is allowed.
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(sizeof filter / sizeof filter[0]);
    prog.filter = filter;
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      const int err = errno;
      msg = "seccomp(SECCOMP_SET_MODE_FILTER) failed: " + errno_name(err);
      return classify(err, {EINVAL, ENOSYS});
    }
    errno = 0;
    const long ppid = ::syscall(SYS_getppid);
    const int err = errno;
    if (ppid != -1 || err != EPERM) {
      msg = "filter installed, but getppid() returned " + std::to_string(ppid) + " (" +
            errno_name(err) + ") instead of failing with EPERM";
      return Status::kUnavailable;
    }
    if (::syscall(SYS_getpid) <= 0) {
      msg = "filter installed, but it also broke getpid()";
      return Status::kError;
    }
    msg = "installed a filter in a child: getppid() then failed with EPERM, getpid() unaffected";
    return Status::kAvailable;
  });
  if (outcome.status != Status::kAvailable) {
    return make_report("seccomp", outcome.status, std::move(outcome.message), kCostSeccomp);
  }

  // Optional actions, asked of the kernel without installing anything.
  std::vector<std::string> present;
  std::vector<std::string> absent;
  const std::pair<uint32_t, const char*> actions[] = {
      {SECCOMP_RET_KILL_PROCESS, "kill_process"},
      {SECCOMP_RET_LOG, "log"},
      {SECCOMP_RET_USER_NOTIF, "user_notif"},
  };
  for (const auto& [action, name] : actions) {
    uint32_t value = action;
    const bool ok = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &value) == 0;
    (ok ? present : absent).push_back(name);
  }
  std::string detail = outcome.message;
  if (!present.empty()) detail += "; actions available: " + join(present, ",");
  if (!absent.empty()) detail += "; not available: " + join(absent, ",");
  return make_report("seccomp", Status::kAvailable, std::move(detail), kCostSeccomp);
}

// ---- Landlock. ----

long landlock_create_ruleset(const landlock_ruleset_attr* attr, size_t size, uint32_t flags) {
  return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}
long landlock_add_rule(int ruleset_fd, landlock_rule_type type, const void* attr, uint32_t flags) {
  return ::syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, flags);
}
long landlock_restrict_self(int ruleset_fd, uint32_t flags) {
  return ::syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

FeatureReport probe_landlock() {
  const long abi = landlock_create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    const int err = errno;
    std::string detail = "landlock_create_ruleset(VERSION) failed: " + errno_name(err);
    if (err == EOPNOTSUPP) detail += " (built in but not enabled at boot; see lsm=)";
    if (err == ENOSYS) detail += " (kernel built without Landlock)";
    return make_report("landlock", classify(err, {EOPNOTSUPP, ENOSYS}), std::move(detail),
                       kCostLandlock);
  }
  const std::string abi_text = "ABI v" + std::to_string(abi);

  ChildOutcome outcome = run_in_child([](std::string& msg) {
    landlock_ruleset_attr ruleset{};
    ruleset.handled_access_fs =
        LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE;
    UniqueFd ruleset_fd(static_cast<int>(landlock_create_ruleset(&ruleset, sizeof ruleset, 0)));
    if (!ruleset_fd.valid()) {
      msg = "landlock_create_ruleset failed: " + errno_name(errno);
      return Status::kUnavailable;
    }
    UniqueFd etc(::open("/etc", O_PATH | O_CLOEXEC));
    if (!etc.valid()) {
      msg = "open(/etc, O_PATH) failed: " + errno_name(errno);
      return Status::kError;
    }
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    beneath.parent_fd = etc.get();
    if (landlock_add_rule(ruleset_fd.get(), LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
      msg = "landlock_add_rule(/etc) failed: " + errno_name(errno);
      return Status::kUnavailable;
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      msg = "prctl(PR_SET_NO_NEW_PRIVS) failed: " + errno_name(errno);
      return Status::kError;
    }
    if (landlock_restrict_self(ruleset_fd.get(), 0) != 0) {
      msg = "landlock_restrict_self failed: " + errno_name(errno);
      return Status::kUnavailable;
    }
    UniqueFd inside(::open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!inside.valid()) {
      msg = "restricted to /etc, but opening /etc itself failed: " + errno_name(errno);
      return Status::kError;
    }
    std::vector<std::string> refused;
    for (const char* outside : {"/", "/proc/self/status"}) {
      UniqueFd fd(::open(outside, O_RDONLY | O_CLOEXEC));
      const int err = errno;
      if (fd.valid() || err != EACCES) {
        msg = std::string("restricted to /etc, but open(") + outside + ") " +
              (fd.valid() ? "succeeded" : "failed with " + errno_name(err) + ", not EACCES");
        return Status::kUnavailable;
      }
      refused.push_back(outside);
    }
    msg = "child restricted to reading /etc: /etc opened, " + join(refused, " and ") +
          " refused with EACCES";
    return Status::kAvailable;
  });
  return make_report("landlock", outcome.status, abi_text + "; " + outcome.message, kCostLandlock);
}

// ---- cgroups. ----

constexpr const char* kV1Controllers[] = {"cpu",     "cpuacct", "cpuset",   "memory", "devices",
                                          "freezer", "net_cls", "net_prio", "blkio",  "perf_event",
                                          "hugetlb", "pids",    "rdma",     "misc"};

struct CgroupTrial {
  bool created = false;
  std::vector<std::string> limits_set;  // limit files written successfully
  int err = 0;                          // why mkdir failed, when it did
  std::string text;
};

using LimitWrites = std::vector<std::pair<std::string, std::string>>;

// Creates <base>/ritma-doctor-<pid>/probe, writes each limit whose file exists in the new
// cgroup, and removes both directories again, whatever happened.
CgroupTrial try_child_cgroup_at(const std::string& base, const LimitWrites& limits) {
  CgroupTrial trial;
  const std::string parent = base + "/ritma-doctor-" + std::to_string(::getpid());
  const std::string child = parent + "/probe";
  if (::mkdir(parent.c_str(), 0755) != 0) {
    trial.err = errno;
    trial.text = "mkdir under " + base + " failed: " + errno_name(trial.err);
    return trial;
  }
  if (::mkdir(child.c_str(), 0755) != 0) {
    trial.err = errno;
    trial.text = "mkdir of a nested cgroup under " + base + " failed: " + errno_name(trial.err);
    ::rmdir(parent.c_str());
    return trial;
  }
  trial.created = true;
  std::vector<std::string>& set = trial.limits_set;
  std::vector<std::string> failed;
  for (const auto& [file, value] : limits) {
    const std::string path = child + "/" + file;
    if (!path_exists(path)) continue;
    const int err = write_file(path, value);
    if (err == 0) {
      set.push_back(file);
    } else {
      failed.push_back(file + " (" + errno_name(err) + ")");
    }
  }
  std::vector<std::string> cleanup_errors;
  if (::rmdir(child.c_str()) != 0) cleanup_errors.push_back(child + ": " + errno_name(errno));
  if (::rmdir(parent.c_str()) != 0) cleanup_errors.push_back(parent + ": " + errno_name(errno));

  trial.text = "created and removed a child under " + base;
  if (!set.empty()) trial.text += ", set " + join(set, ",");
  if (!failed.empty()) trial.text += ", could not set " + join(failed, ",");
  if (set.empty() && failed.empty()) trial.text += " (no limit files: controllers not enabled)";
  if (!cleanup_errors.empty()) {
    trial.text += "; LEFT BEHIND: " + join(cleanup_errors, ", ");
  }
  return trial;
}

// Tries the hierarchy's root first (where a root-run sandbox creates its cgroups), then this
// process's own cgroup (where an unprivileged user may hold a delegated subtree).
CgroupTrial try_child_cgroup(const CgroupHierarchy& mount, const std::string& own_path,
                             const LimitWrites& limits) {
  CgroupTrial trial = try_child_cgroup_at(mount.mount_point, limits);
  if (trial.created) return trial;
  std::string relative;
  if (mount.root == "/") {
    relative = own_path;
  } else if (own_path.rfind(mount.root + "/", 0) == 0) {
    relative = own_path.substr(mount.root.size());
  }
  const std::string own_dir = mount.mount_point + relative;
  if (relative.empty() || relative == "/" || !path_exists(own_dir)) return trial;
  CgroupTrial delegated = try_child_cgroup_at(own_dir, limits);
  if (!delegated.created) delegated.text = trial.text + "; " + delegated.text;
  return delegated;
}

FeatureReport probe_cgroups() {
  std::ifstream filesystems("/proc/filesystems");
  std::string fs_text((std::istreambuf_iterator<char>(filesystems)),
                      std::istreambuf_iterator<char>());
  const bool kernel_has_v2 = fs_text.find("\tcgroup2\n") != std::string::npos;

  const std::vector<CgroupHierarchy> mounts = read_cgroup_hierarchies();
  const CgroupHierarchy* v2 = nullptr;
  const CgroupHierarchy* v1_memory = nullptr;
  const CgroupHierarchy* v1_pids = nullptr;
  std::vector<std::string> v1_controllers;
  for (const CgroupHierarchy& m : mounts) {
    if (m.v2) {
      if (v2 == nullptr) v2 = &m;
      continue;
    }
    for (const std::string& c : m.controllers) {  // the mount's options: keep controllers
      const bool controller = std::find(std::begin(kV1Controllers), std::end(kV1Controllers), c) !=
                              std::end(kV1Controllers);
      if (controller && !has(v1_controllers, c)) v1_controllers.push_back(c);
    }
    if (v1_memory == nullptr && has(m.controllers, "memory")) v1_memory = &m;
    if (v1_pids == nullptr && has(m.controllers, "pids")) v1_pids = &m;
  }

  std::vector<std::string> parts;
  const char* layout = (v2 != nullptr && !v1_controllers.empty()) ? "hybrid"
                       : v2 != nullptr                            ? "v2"
                       : !v1_controllers.empty()                  ? "v1"
                                                                  : "none mounted";
  parts.push_back(std::string("layout ") + layout);
  if (!v1_controllers.empty()) parts.push_back("v1 controllers: " + join(v1_controllers, ","));
  if (v2 != nullptr) {
    parts.push_back("v2 at " + v2->mount_point + " with controllers: " +
                    (v2->controllers.empty() ? "none" : join(v2->controllers, ",")));
  } else if (kernel_has_v2) {
    parts.push_back("cgroup2 supported but not mounted");
  }
  if (v2 == nullptr && v1_controllers.empty()) {
    return make_report("cgroups", Status::kUnavailable, join(parts, "; "), kCostCgroups);
  }

  bool memory_limit = false;
  bool pids_limit = false;
  int first_err = 0;
  auto record = [&](const std::string& label, const CgroupTrial& t) {
    parts.push_back(label + ": " + t.text);
    if (t.err != 0 && first_err == 0) first_err = t.err;
    memory_limit |= has(t.limits_set, "memory.max") || has(t.limits_set, "memory.limit_in_bytes");
    pids_limit |= has(t.limits_set, "pids.max");
  };
  // 64 MiB and 64 tasks: arbitrary values, written only to the probe's own empty cgroup.
  if (v2 != nullptr) {
    record("v2", try_child_cgroup(*v2, own_cgroup_path(""),
                                  {{"memory.max", "67108864"}, {"pids.max", "64"}}));
  }
  if (v1_memory != nullptr) {
    record("v1 memory", try_child_cgroup(*v1_memory, own_cgroup_path("memory"),
                                         {{"memory.limit_in_bytes", "67108864"}}));
  }
  if (v1_pids != nullptr) {
    record("v1 pids", try_child_cgroup(*v1_pids, own_cgroup_path("pids"), {{"pids.max", "64"}}));
  }

  Status status = Status::kAvailable;
  if (!memory_limit || !pids_limit) {
    status = first_err == 0 ? Status::kUnavailable
                            : classify(first_err, {EPERM, EACCES, EROFS, ENOENT, EINVAL});
    std::vector<std::string> missing;
    if (!memory_limit) missing.push_back("memory");
    if (!pids_limit) missing.push_back("pids");
    parts.push_back("no hierarchy where a " + join(missing, " and ") + " limit could be set");
  }
  return make_report("cgroups", status, join(parts, "; "), kCostCgroups);
}

const FeatureReport* find(std::span<const FeatureReport> reports, std::string_view name) {
  for (const auto& r : reports) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace

std::vector<FeatureReport> probe_sandbox_features() {
  std::vector<FeatureReport> reports;
  reports.push_back(probe_user_namespaces());
  reports.push_back(probe_seccomp());
  reports.push_back(probe_landlock());
  reports.push_back(probe_cgroups());
  return reports;
}

Readiness assess_sandbox(std::span<const FeatureReport> reports) {
  std::vector<std::string> missing;
  for (const char* name : {"user_namespaces", "seccomp", "landlock", "cgroups"}) {
    const FeatureReport* r = find(reports, name);
    if (r == nullptr || !r->available()) missing.push_back(name);
  }
  Readiness out;
  out.ready = missing.empty();
  out.summary = out.ready ? "sandbox: ready (user namespaces + seccomp + Landlock + cgroup limits)"
                          : "sandbox: incomplete: missing " + join(missing, ", ");
  return out;
}

}  // namespace ritma::exec
