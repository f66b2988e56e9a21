// The sandbox's seccomp profiles as compiled programs: every profile fits the kernel's
// instruction limit, `default` and `strict` allow none of the dangerous calls (checked against a
// list kept here, not the one in the code), `strict` is a subset of `default`, and the filters
// do what seccomp_policy.h says when installed in a forked child (no root needed: no_new_privs
// lets any process install a filter). The argument conditions are exercised with values whose
// upper 32 bits carry garbage, which the kernel ignores and the filter must not be fooled by.
#include "exec/seccomp_policy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace ritma::exec {
namespace {

// Calls no filtering profile may allow: the old denylist and then some.
const char* const kMustNotAllow[] = {
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "mount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "perf_event_open",
    "lookup_dcookie",
    "syslog",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "setns",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "open_by_handle_at",
    "name_to_handle_at",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "uselib",
    "vhangup",
    "sysfs",
    "ustat",
    "clone3",
    "modify_ldt",
    "mbind",
    "set_mempolicy",
    "migrate_pages",
    "move_pages",
    "sethostname",
    "setdomainname",
    "vm86",
    "create_module",
};

// Taken out by strict.
const char* const kStrictOnlyRefused[] = {"chroot",          "kcmp",         "fanotify_init",
                                          "process_madvise", "memfd_secret", "personality",
                                          "io_setup",        "io_submit"};

// What any ordinary program needs.
const char* const kMustAllow[] = {
    "read",         "write",          "openat",          "close",
    "mmap",         "mprotect",       "munmap",          "brk",
    "futex",        "rseq",           "set_robust_list", "execve",
    "exit_group",   "wait4",          "clone",           "getrandom",
    "statx",        "newfstatat",     "pipe2",           "dup2",
    "rt_sigaction", "rt_sigprocmask", "socket",          "connect",
    "epoll_wait",   "poll",           "clock_gettime",   "nanosleep",
    "prctl",        "ioctl",          "getdents64",      "fcntl",
    "prlimit64",    "unshare",
};

SeccompProgram build(const std::string& profile) {
  Result<SeccompProgram> p = build_seccomp_program(profile);
  EXPECT_TRUE(p.ok()) << profile << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() ? std::move(p).value() : SeccompProgram{};
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SeccompPolicy, EveryProfileCompilesUnderTheInstructionLimit) {
  EXPECT_EQ(seccomp_profile_names(),
            (std::vector<std::string>{"default", "strict", "compat", "none"}));
  for (const std::string& name : seccomp_profile_names()) {
    const SeccompProgram p = build(name);
    EXPECT_EQ(p.profile, name);
    EXPECT_LE(p.filter.size(), static_cast<size_t>(BPF_MAXINSNS)) << name;
    if (name == "none") {
      EXPECT_TRUE(p.filter.empty());
    } else {
      EXPECT_FALSE(p.filter.empty()) << name;
    }
    std::cout << "  " << name << ": " << p.filter.size() << " instructions, " << p.allowed.size()
              << " allowed, " << p.denied.size() << " refused explicitly, "
              << "default action \"" << p.default_action << "\"\n";
  }
}

TEST(SeccompPolicy, UnknownProfileIsAnErrorNamingTheKnownOnes) {
  Result<SeccompProgram> p = build_seccomp_program("permissive");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("default, strict, compat, none"), std::string::npos)
      << p.error().message;
}

TEST(SeccompPolicy, AllowlistsAllowNoDangerousCall) {
  for (const char* profile : {"default", "strict"}) {
    const SeccompProgram p = build(profile);
    EXPECT_EQ(p.default_action, "errno ENOSYS");
    EXPECT_TRUE(std::is_sorted(p.allowed.begin(), p.allowed.end()));
    for (const char* name : kMustNotAllow) {
      EXPECT_FALSE(contains(p.allowed, name)) << profile << " allows " << name;
    }
    for (const char* name : kMustAllow) {
      EXPECT_TRUE(contains(p.allowed, name)) << profile << " does not allow " << name;
    }
    // The old denylist is still refused by name (EPERM), where this architecture has the call.
    for (const char* name : {"keyctl", "bpf", "ptrace", "mount", "perf_event_open", "setns",
                             "userfaultfd", "io_uring_setup", "open_by_handle_at", "syslog"}) {
      EXPECT_TRUE(contains(p.denied, name)) << profile << " does not refuse " << name;
    }
    EXPECT_TRUE(contains(p.denied, "clone3 (ENOSYS)"));
    EXPECT_TRUE(contains(p.denied, "ioctl(TIOCSTI|TIOCLINUX)"));
  }
}

TEST(SeccompPolicy, StrictIsTheDefaultAllowlistMinusMore) {
  const SeccompProgram def = build("default");
  const SeccompProgram strict = build("strict");
  for (const std::string& name : strict.allowed) {
    EXPECT_TRUE(contains(def.allowed, name)) << "strict allows " << name << ", default not";
  }
  for (const char* name : kStrictOnlyRefused) {
    EXPECT_TRUE(contains(def.allowed, name)) << name;
    EXPECT_FALSE(contains(strict.allowed, name)) << name;
    EXPECT_TRUE(contains(strict.denied, name)) << name;
  }
  EXPECT_TRUE(contains(strict.denied, "socket(not AF_UNIX/AF_INET/AF_INET6)"));
}

TEST(SeccompPolicy, CompatIsTheDenylist) {
  const SeccompProgram p = build("compat");
  EXPECT_EQ(p.default_action, "allow");
  EXPECT_TRUE(p.allowed.empty());
  for (const char* name : {"keyctl", "bpf", "ptrace", "mount", "acct", "setns"}) {
    EXPECT_TRUE(contains(p.denied, name)) << name;
  }
}

// ---- installed in a child ----

struct Call {
  const char* what;
  long nr;
  long args[6];
};

constexpr unsigned long kHigh = 0x100000000UL;  // garbage in the upper half

// Runs `calls` in a forked child under `profile`'s filter; returns one errno per call (0 for
// success), or an empty vector if the child failed.
std::vector<int> run_under(const std::string& profile, const std::vector<Call>& calls) {
  const SeccompProgram p = build(profile);
  int pipefd[2];
  if (::pipe(pipefd) != 0) return {};
  const pid_t child = ::fork();
  if (child < 0) return {};
  if (child == 0) {
    ::close(pipefd[0]);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(3);
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(p.filter.size());
    prog.filter = const_cast<sock_filter*>(p.filter.data());
    if (!p.filter.empty() && ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      ::_exit(4);
    }
    for (const Call& c : calls) {
      const long rc =
          ::syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
      const int err = rc < 0 ? errno : 0;
      if (rc >= 0 && c.nr == SYS_socket) ::close(static_cast<int>(rc));
      if (::write(pipefd[1], &err, sizeof err) != sizeof err) ::_exit(5);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::vector<int> out;
  int err = 0;
  while (::read(pipefd[0], &err, sizeof err) == sizeof err) out.push_back(err);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << profile << ": status " << status;
  return out;
}

std::string errno_text(int err) {
  return err == 0 ? "ok" : strerrorname_np(err);
}

// One call and the errno each profile should give it ("ok": success).
struct Expectation {
  Call call;
  const char* default_result;
  const char* strict_result;
  const char* compat_result;
};

TEST(SeccompPolicy, InstalledFiltersDoWhatTheHeaderSays) {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  const long addr = reinterpret_cast<long>(page);
  char name[16] = {};
  const long name_addr = reinterpret_cast<long>(name);
  const long hi = static_cast<long>(kHigh);
  const std::vector<Expectation> table = {
      // ioctl on a bad descriptor: EBADF when the filter lets it through.
      {{"ioctl(TCGETS)", SYS_ioctl, {-1, TCGETS}}, "EBADF", "EBADF", "EBADF"},
      {{"ioctl(FIONREAD)", SYS_ioctl, {-1, FIONREAD}}, "EBADF", "EBADF", "EBADF"},
      {{"ioctl(0x5413)", SYS_ioctl, {-1, 0x5413}}, "EBADF", "EBADF", "EBADF"},
      {{"ioctl(sign-extended _IOR)", SYS_ioctl, {-1, static_cast<long>(0xffffffff802c542aUL)}},
       "EBADF",
       "EBADF",
       "EBADF"},
      {{"ioctl(TIOCSTI)", SYS_ioctl, {-1, TIOCSTI}}, "EPERM", "EPERM", "EPERM"},
      {{"ioctl(TIOCLINUX)", SYS_ioctl, {-1, TIOCLINUX}}, "EPERM", "EPERM", "EPERM"},
      {{"ioctl(TIOCSTI | high)", SYS_ioctl, {-1, hi | TIOCSTI}}, "EPERM", "EPERM", "EPERM"},
      {{"ioctl(TIOCLINUX | -1<<32)",
        SYS_ioctl,
        {-1, static_cast<long>(0xffffffff00000000UL) | TIOCLINUX}},
       "EPERM",
       "EPERM",
       "EPERM"},
      // sockets
      {{"socket(AF_UNIX)", SYS_socket, {AF_UNIX, SOCK_DGRAM}}, "ok", "ok", "ok"},
      {{"socket(AF_INET)", SYS_socket, {AF_INET, SOCK_DGRAM}}, "ok", "ok", "ok"},
      {{"socket(AF_NETLINK)", SYS_socket, {AF_NETLINK, SOCK_RAW}}, "ok", "EPERM", "ok"},
      {{"socket(AF_UNIX | high)", SYS_socket, {hi | AF_UNIX, SOCK_DGRAM}}, "ok", "EPERM", "ok"},
      {{"socket(AF_NETLINK | high)", SYS_socket, {hi | AF_NETLINK, SOCK_RAW}}, "ok", "EPERM", "ok"},
      // namespaces
      {{"unshare(CLONE_NEWUSER)", SYS_unshare, {CLONE_NEWUSER}}, "EPERM", "EPERM", "EPERM"},
      {{"unshare(CLONE_NEWTIME)", SYS_unshare, {0x80}}, "EPERM", "EPERM", "EPERM"},
      {{"unshare(CLONE_FILES)", SYS_unshare, {CLONE_FILES}}, "ok", "ok", "ok"},
      {{"clone3", SYS_clone3, {0, 0}}, "ENOSYS", "ENOSYS", "ENOSYS"},
      // prctl: listed options only under the allowlists
      {{"prctl(PR_GET_NAME)", SYS_prctl, {PR_GET_NAME, name_addr}}, "ok", "ok", "ok"},
      {{"prctl(PR_GET_NAME | high)", SYS_prctl, {hi | PR_GET_NAME, name_addr}}, "ok", "ok", "ok"},
      {{"prctl(PR_SET_MM)", SYS_prctl, {PR_SET_MM, 0}}, "ENOSYS", "ENOSYS", "EPERM"},
      // outside the allowlist, allowed by the old denylist
      {{"mbind(MPOL_DEFAULT)", SYS_mbind, {addr, 4096, 0, 0, 0, 0}}, "ENOSYS", "ENOSYS", "ok"},
      // taken out by strict
      {{"personality(query)", SYS_personality, {0xffffffffL}}, "ok", "EPERM", "ok"},
      // the dangerous calls: EPERM everywhere
      {{"keyctl", SYS_keyctl, {0, -3}}, "EPERM", "EPERM", "EPERM"},
      {{"bpf", SYS_bpf, {0, 0, 0}}, "EPERM", "EPERM", "EPERM"},
      {{"acct", SYS_acct, {0}}, "EPERM", "EPERM", "EPERM"},
      // and the ordinary ones work
      {{"getppid", SYS_getppid, {}}, "ok", "ok", "ok"},
      {{"getrandom", SYS_getrandom, {name_addr, 8, 0}}, "ok", "ok", "ok"},
  };
  std::vector<Call> calls;
  for (const Expectation& e : table) calls.push_back(e.call);
  for (const char* profile : {"default", "strict", "compat"}) {
    const std::vector<int> got = run_under(profile, calls);
    ASSERT_EQ(got.size(), table.size()) << profile;
    for (size_t i = 0; i < table.size(); ++i) {
      const Expectation& e = table[i];
      const std::string p = profile;
      const char* want = p == "default"  ? e.default_result
                         : p == "strict" ? e.strict_result
                                         : e.compat_result;
      // mbind gives ENOSYS on a kernel without NUMA, whatever the filter says.
      if (std::strcmp(e.call.what, "mbind(MPOL_DEFAULT)") == 0 && p == "compat" &&
          got[i] == ENOSYS) {
        continue;
      }
      EXPECT_EQ(errno_text(got[i]), want) << profile << ": " << e.call.what;
    }
  }
  ::munmap(page, 4096);
}

}  // namespace
}  // namespace ritma::exec
