// Seccomp profiles built with libseccomp and exported as BPF (see seccomp_policy.h). The
// filter is compiled in the parent: the child, which may be running after fork() from a
// threaded caller, then needs no library call and no allocation to install it.
#include "exec/seccomp_policy.h"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "core/unique_fd.h"

namespace ritma::exec {
namespace {

// Refused with EPERM by every filtering profile: calls that reach state shared with the host or
// other processes. Names this architecture does not have (create_module, vm86, ... on x86_64;
// many more on aarch64) are skipped, here and in every list below.
constexpr const char* kDangerous[] = {
    // keys and BPF
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    // other processes' memory and state
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    // mounts (the view is built before the filter; the command gets no say)
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    // modules and kexec
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "query_module",
    "get_kernel_syms",
    "kexec_load",
    "kexec_file_load",
    // observation of the host
    "perf_event_open",
    "lookup_dcookie",
    "syslog",
    // userfaultfd (a classic exploit primitive) and io_uring (bypasses this filter entirely)
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    // namespaces: joining any; creating one is refused below by flag
    "setns",
    // swap, reboot, accounting, quotas
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    // handle-based opens walk around the mount view
    "open_by_handle_at",
    "name_to_handle_at",
    // clocks
    "settimeofday",
    "stime",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    // raw I/O and obsolete calls
    "iopl",
    "ioperm",
    "vm86",
    "vm86old",
    "uselib",
    "vhangup",
    "sysfs",
    "ustat",
};

// ---- The allowlist of `default`, by what a program is doing. ----

// Starting, running and ending processes and threads. clone and unshare are allowed below under
// a flag condition; clone3 is left out on purpose (ENOSYS, see the header).
constexpr const char* kAllowProcess[] = {
    "execve",
    "execveat",
    "fork",
    "vfork",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    // thread setup by the C library and the dynamic loader
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "arch_prctl",
    "restart_syscall",
    "membarrier",
    // futexes, old and new interfaces
    "futex",
    "futex_waitv",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    // identities inside the run's pid namespace
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "getpgrp",
    "setpgid",
    "getsid",
    "setsid",
    "pidfd_open",
    "pidfd_send_signal",
    // scheduling of the caller and its children
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_setparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "sched_getattr",
    "sched_setattr",
    "sched_get_priority_min",
    "sched_get_priority_max",
    "sched_rr_get_interval",
    "getpriority",
    "setpriority",
    "ioprio_get",
    "ioprio_set",
    "getcpu",
    // narrowing one's own privileges further
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    // removed by strict
    "personality",
    "chroot",
    "kcmp",
    "process_madvise",
};

// Who the process is and what it may use. Without capabilities the set* calls can only move
// between ids the process already has.
constexpr const char* kAllowIdentity[] = {
    "getuid",    "geteuid",   "getgid",   "getegid",  "getresuid", "getresgid", "getgroups",
    "setuid",    "setgid",    "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
    "setfsgid",  "setgroups", "capget",   "capset",   "getrlimit", "setrlimit", "prlimit64",
    "getrusage", "times",     "umask",    "uname",    "sysinfo",
};

// Memory: mapping, protecting, advising, locking, anonymous files. NUMA placement (mbind,
// set_mempolicy, migrate_pages, move_pages) is not here: a program asking gets ENOSYS, as on a
// kernel without NUMA.
constexpr const char* kAllowMemory[] = {
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "msync",
    "mincore",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "memfd_create",
    // shadow stacks and sealing (skipped where this libseccomp cannot name them)
    "map_shadow_stack",
    "mseal",
    // removed by strict
    "memfd_secret",
};

// Files and directories: opening, reading and writing, metadata, the directory tree,
// extended attributes, change notification.
constexpr const char* kAllowFiles[] = {
    // descriptors
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    // data
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "sendfile",
    "copy_file_range",
    "splice",
    "tee",
    "vmsplice",
    "readahead",
    "fadvise64",
    "fallocate",
    "truncate",
    "ftruncate",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "cachestat",
    // metadata
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    // the tree
    "getcwd",
    "chdir",
    "fchdir",
    "getdents",
    "getdents64",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "symlink",
    "symlinkat",
    "readlink",
    "readlinkat",
    "mknod",
    "mknodat",
    // extended attributes
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    // change notification (fanotify: removed by strict)
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "fanotify_init",
    "fanotify_mark",
};

// Waiting on several descriptors at once, and the descriptors made for waiting on; Linux AIO
// (removed by strict).
constexpr const char* kAllowMultiplex[] = {
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "io_setup",
    "io_destroy",
    "io_submit",
    "io_cancel",
    "io_getevents",
    "io_pgetevents",
};

// Pipes and IPC. The run has its own IPC namespace, so System V and POSIX message queues,
// semaphores and shared memory only reach the run's own processes.
constexpr const char* kAllowIpc[] = {
    "pipe",      "pipe2",        "msgget",          "msgsnd",     "msgrcv",
    "msgctl",    "semget",       "semop",           "semtimedop", "semctl",
    "shmget",    "shmat",        "shmdt",           "shmctl",     "mq_open",
    "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",  "mq_getsetattr",
};

// Signals, handlers, and interval timers that deliver them.
constexpr const char* kAllowSignals[] = {
    "rt_sigaction",    "rt_sigprocmask",
    "rt_sigreturn",    "rt_sigsuspend",
    "rt_sigpending",   "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "sigaltstack",     "kill",
    "tkill",           "tgkill",
    "pause",           "alarm",
    "getitimer",       "setitimer",
};

// Clocks: reading them, sleeping on them, and per-process timers. Setting them is refused.
constexpr const char* kAllowTime[] = {
    "clock_gettime", "clock_getres",     "gettimeofday", "time",
    "nanosleep",     "clock_nanosleep",  "timer_create", "timer_settime",
    "timer_gettime", "timer_getoverrun", "timer_delete",
};

// Sockets. socket() itself is added per profile (any family in default; strict limits it).
constexpr const char* kAllowSockets[] = {
    "socketpair",  "bind",        "listen",   "accept",     "accept4",    "connect",
    "getsockname", "getpeername", "sendto",   "recvfrom",   "sendmsg",    "recvmsg",
    "sendmmsg",    "recvmmsg",    "shutdown", "setsockopt", "getsockopt",
};

// Randomness.
constexpr const char* kAllowRandom[] = {"getrandom"};

// prctl options a program uses on itself: its name, death signal, dumpability, no_new_privs,
// seccomp mode, capability bounding set (read, or drop), subreaper, timer slack, THP, speculation
// controls, the arm64 vector-length, tagged-address and shadow-stack controls, naming anonymous
// mappings, the auxiliary vector. Left out (ENOSYS): PR_SET_MM, PR_SET_SECUREBITS,
// PR_SET_IO_FLUSHER, PR_SCHED_CORE, PR_SET_SYSCALL_USER_DISPATCH, PR_SET_MEMORY_MERGE and
// anything newer.
struct PrctlOption {
  uint32_t value;
  const char* name;
};
constexpr PrctlOption kAllowPrctl[] = {
    {1, "PR_SET_PDEATHSIG"},
    {2, "PR_GET_PDEATHSIG"},
    {3, "PR_GET_DUMPABLE"},
    {4, "PR_SET_DUMPABLE"},
    {7, "PR_GET_KEEPCAPS"},
    {8, "PR_SET_KEEPCAPS"},
    {15, "PR_SET_NAME"},
    {16, "PR_GET_NAME"},
    {21, "PR_GET_SECCOMP"},
    {22, "PR_SET_SECCOMP"},
    {23, "PR_CAPBSET_READ"},
    {24, "PR_CAPBSET_DROP"},
    {25, "PR_GET_TSC"},
    {27, "PR_GET_SECUREBITS"},
    {29, "PR_SET_TIMERSLACK"},
    {30, "PR_GET_TIMERSLACK"},
    {34, "PR_MCE_KILL_GET"},
    {36, "PR_SET_CHILD_SUBREAPER"},
    {37, "PR_GET_CHILD_SUBREAPER"},
    {38, "PR_SET_NO_NEW_PRIVS"},
    {39, "PR_GET_NO_NEW_PRIVS"},
    {40, "PR_GET_TID_ADDRESS"},
    {41, "PR_SET_THP_DISABLE"},
    {42, "PR_GET_THP_DISABLE"},
    {47, "PR_CAP_AMBIENT"},
    {50, "PR_SVE_SET_VL"},
    {51, "PR_SVE_GET_VL"},
    {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"},
    {54, "PR_PAC_RESET_KEYS"},
    {55, "PR_SET_TAGGED_ADDR_CTRL"},
    {56, "PR_GET_TAGGED_ADDR_CTRL"},
    {63, "PR_SME_SET_VL"},
    {64, "PR_SME_GET_VL"},
    {65, "PR_SET_MDWE"},
    {66, "PR_GET_MDWE"},
    {74, "PR_GET_SHADOW_STACK_STATUS"},
    {75, "PR_SET_SHADOW_STACK_STATUS"},
    {76, "PR_LOCK_SHADOW_STACK_STATUS"},
    {0x41555856, "PR_GET_AUXV"},
    {0x53564d41, "PR_SET_VMA"},
    {0x59616d61, "PR_SET_PTRACER"},  // harmless: ptrace itself is refused
};

// Taken out of the allowlist by "strict" (refused with EPERM there).
constexpr const char* kStrictRefused[] = {
    "chroot",       "kcmp",         "fanotify_init", "fanotify_mark", "process_madvise",
    "memfd_secret", "personality",  "io_setup",      "io_destroy",    "io_submit",
    "io_cancel",    "io_getevents", "io_pgetevents",
};

constexpr uint64_t kNamespaceFlags[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};
constexpr uint64_t kCloneNewTime = 0x00000080;  // CLONE_NEWTIME; unshare only (clone: CSIGNAL)

// The ioctl requests refused everywhere: pushing bytes into a terminal's input queue.
constexpr uint32_t kRefusedIoctls[] = {TIOCSTI, TIOCLINUX};

enum class Kind { kAllowlist, kStrict, kCompat };

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// One argument comparison. libseccomp's SCMP_A* macros are C compound literals, which ISO C++
// does not have.
scmp_arg_cmp arg_cmp(unsigned arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
  scmp_arg_cmp c{};
  c.arg = arg;
  c.op = op;
  c.datum_a = a;
  c.datum_b = b;
  return c;
}

// The kernel reads int-typed arguments (flags, families, ioctl requests, prctl options) as 32
// bits, so the comparisons look at the low 32 bits only: garbage in the upper half cannot slip
// past.
scmp_arg_cmp low32_eq(unsigned arg, uint64_t value) {
  return arg_cmp(arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, value);
}

// Comparisons each of which holds only if the low 32 bits of `arg` are none of `excluded`, and
// one of which holds whenever they are none of them: as separate rules, "anything but these
// values", which libseccomp cannot say directly (it has no masked "not equal", and a 64-bit
// SCMP_CMP_NE would let a value with garbage in the upper half through). A bit on which all
// excluded values agree, set the other way, already rules them all out: one rule per such bit.
// The values that agree with them on all those bits differ only on the few remaining bits: one
// rule per remaining pattern that is not an excluded value's.
std::vector<scmp_arg_cmp> low32_none_of(unsigned arg, std::initializer_list<uint32_t> excluded) {
  const uint32_t first = *excluded.begin();
  uint32_t differing = 0;
  for (uint32_t v : excluded) differing |= v ^ first;
  std::vector<scmp_arg_cmp> out;
  for (unsigned bit = 0; bit < 32; ++bit) {
    const uint32_t m = 1U << bit;
    if ((differing & m) != 0) continue;
    out.push_back(arg_cmp(arg, SCMP_CMP_MASKED_EQ, m, ~first & m));
  }
  // Every pattern of the differing bits (a subset of `differing`), enumerated as subsets.
  uint32_t pattern = 0;
  do {
    bool taken = false;
    for (uint32_t v : excluded) taken = taken || (v & differing) == pattern;
    if (!taken) out.push_back(arg_cmp(arg, SCMP_CMP_MASKED_EQ, differing, pattern));
    pattern = (pattern - differing) & differing;
  } while (pattern != 0);
  return out;
}

std::string lib_error(const char* what, int rc) {
  return std::string("libseccomp: ") + what + " failed: " + std::strerror(-rc);
}

// Adds rules to one context and records what they allow and refuse.
class Builder {
 public:
  Builder(scmp_filter_ctx ctx, uint32_t default_action, SeccompProgram& out)
      : ctx_(ctx), default_action_(default_action), out_(out) {}

  // `name` allowed when all of `args` hold (always, without any).
  Status allow(const char* name, std::initializer_list<scmp_arg_cmp> args = {}) {
    return add(SCMP_ACT_ALLOW, name, args.begin(), args.size(), &out_.allowed);
  }
  Status allow_if(const char* name, const scmp_arg_cmp& cmp) {
    return add(SCMP_ACT_ALLOW, name, &cmp, 1, &out_.allowed);
  }
  // `name` refused with EPERM, always; listed in `denied`.
  Status refuse(const char* name) {
    return add(SCMP_ACT_ERRNO(EPERM), name, nullptr, 0, &out_.denied);
  }
  // `name` refused with `action` when all of `args` hold; the caller notes it in `denied`.
  Status refuse_if(uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args) {
    return add(action, name, args.begin(), args.size(), nullptr);
  }
  void note_denied(std::string what) { out_.denied.push_back(std::move(what)); }
  void note_condition(std::string what) { out_.conditions.push_back(std::move(what)); }

 private:
  Status add(uint32_t action, const char* name, const scmp_arg_cmp* args, size_t count,
             std::vector<std::string>* record) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return {};  // not a syscall on this architecture (or too new)
    // libseccomp refuses a rule whose action is the default one; it is redundant anyway.
    if (action != default_action_) {
      const int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(count),
                                            count == 0 ? nullptr : args);
      if (rc != 0) {
        return make_error(lib_error((std::string("adding a rule for ") + name).c_str(), rc));
      }
    }
    if (record != nullptr && std::find(record->begin(), record->end(), name) == record->end()) {
      record->push_back(name);
    }
    return {};
  }

  scmp_filter_ctx ctx_;
  uint32_t default_action_;
  SeccompProgram& out_;
};

bool in(const char* name, const auto& list) {
  for (const char* n : list) {
    if (std::strcmp(n, name) == 0) return true;
  }
  return false;
}

// The refusals every filtering profile has: the dangerous calls, namespace creation, clone3 and
// terminal input injection.
Status add_refusals(Builder& b) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDangerous) RITMA_TRY(b.refuse(name));
  // Creating a namespace: unshare() and clone() with any CLONE_NEW* flag. One rule per flag,
  // since libseccomp can only test "(arg & mask) == value".
  for (uint64_t flag : kNamespaceFlags) {
    RITMA_TRY(b.refuse_if(eperm, "unshare", {arg_cmp(0, SCMP_CMP_MASKED_EQ, flag, flag)}));
    RITMA_TRY(b.refuse_if(eperm, "clone", {arg_cmp(0, SCMP_CMP_MASKED_EQ, flag, flag)}));
  }
  RITMA_TRY(b.refuse_if(eperm, "unshare",
                        {arg_cmp(0, SCMP_CMP_MASKED_EQ, kCloneNewTime, kCloneNewTime)}));
  b.note_denied("unshare(CLONE_NEW*)");
  b.note_denied("clone(CLONE_NEW*)");
  // clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall back to
  // clone(), whose flags it can. (Under an allowlist this is the default action already.)
  RITMA_TRY(b.refuse_if(SCMP_ACT_ERRNO(ENOSYS), "clone3", {}));
  b.note_denied("clone3 (ENOSYS)");
  for (uint32_t request : kRefusedIoctls) {
    RITMA_TRY(b.refuse_if(eperm, "ioctl", {low32_eq(1, request)}));
  }
  b.note_denied("ioctl(TIOCSTI|TIOCLINUX)");
  return {};
}

Status add_allowlist(Builder& b, Kind kind) {
  const bool strict = kind == Kind::kStrict;
  const auto allow_all = [&](const auto& names) -> Status {
    for (const char* name : names) {
      if (strict && in(name, kStrictRefused)) continue;
      RITMA_TRY(b.allow(name));
    }
    return {};
  };
  RITMA_TRY(allow_all(kAllowProcess));
  RITMA_TRY(allow_all(kAllowIdentity));
  RITMA_TRY(allow_all(kAllowMemory));
  RITMA_TRY(allow_all(kAllowFiles));
  RITMA_TRY(allow_all(kAllowMultiplex));
  RITMA_TRY(allow_all(kAllowIpc));
  RITMA_TRY(allow_all(kAllowSignals));
  RITMA_TRY(allow_all(kAllowTime));
  RITMA_TRY(allow_all(kAllowSockets));
  RITMA_TRY(allow_all(kAllowRandom));

  // clone and unshare without any namespace flag (with one: EPERM, from add_refusals).
  uint64_t clone_new = 0;
  for (uint64_t flag : kNamespaceFlags) clone_new |= flag;
  RITMA_TRY(b.allow("clone", {arg_cmp(0, SCMP_CMP_MASKED_EQ, clone_new, 0)}));
  RITMA_TRY(b.allow("unshare", {arg_cmp(0, SCMP_CMP_MASKED_EQ, clone_new | kCloneNewTime, 0)}));
  b.note_condition("clone: only without CLONE_NEW* flags (EPERM with one)");
  b.note_condition("unshare: only without CLONE_NEW* flags (EPERM with one)");

  // ioctl with any request but the refused ones (those: EPERM, from add_refusals).
  for (const scmp_arg_cmp& cmp : low32_none_of(1, {kRefusedIoctls[0], kRefusedIoctls[1]})) {
    RITMA_TRY(b.allow_if("ioctl", cmp));
  }
  b.note_condition("ioctl: any request except TIOCSTI and TIOCLINUX (EPERM)");

  std::string options;
  for (const PrctlOption& option : kAllowPrctl) {
    RITMA_TRY(b.allow("prctl", {low32_eq(0, option.value)}));
    options += (options.empty() ? "" : ", ") + std::string(option.name);
  }
  b.note_condition("prctl: only " + options + " (ENOSYS otherwise)");

  if (!strict) {
    RITMA_TRY(b.allow("socket"));
    return {};
  }
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kStrictRefused) RITMA_TRY(b.refuse(name));
  // Sockets: AF_UNIX (1), AF_INET (2) and AF_INET6 (10) only, compared on all 64 bits (a family
  // with garbage in the upper half is refused, though the kernel would read the low half).
  for (uint64_t family : {uint64_t{AF_UNIX}, uint64_t{AF_INET}, uint64_t{AF_INET6}}) {
    RITMA_TRY(b.allow("socket", {arg_cmp(0, SCMP_CMP_EQ, family)}));
  }
  for (uint64_t family : {0, 3, 4, 5, 6, 7, 8, 9}) {
    RITMA_TRY(b.refuse_if(eperm, "socket", {low32_eq(0, family)}));
  }
  // Above AF_INET6, on all 64 bits: this also catches every value with a nonzero upper half.
  RITMA_TRY(b.refuse_if(eperm, "socket", {arg_cmp(0, SCMP_CMP_GE, AF_INET6 + 1)}));
  b.note_denied("socket(not AF_UNIX/AF_INET/AF_INET6)");
  b.note_condition("socket: only AF_UNIX, AF_INET and AF_INET6 (EPERM otherwise)");
  return {};
}

}  // namespace

std::vector<std::string> seccomp_profile_names() {
  return {"default", "strict", "compat", "none"};
}

Result<SeccompProgram> build_seccomp_program(std::string_view profile) {
  SeccompProgram out;
  out.profile = std::string(profile);
  if (profile == "none") return out;
  Kind kind;
  if (profile == "default") {
    kind = Kind::kAllowlist;
  } else if (profile == "strict") {
    kind = Kind::kStrict;
  } else if (profile == "compat") {
    kind = Kind::kCompat;
  } else {
    return make_error("unknown seccomp profile \"" + std::string(profile) +
                      "\" (known: default, strict, compat, none)");
  }
  const uint32_t default_action = kind == Kind::kCompat ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(ENOSYS);
  out.default_action = kind == Kind::kCompat ? "allow" : "errno ENOSYS";
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) return make_error("libseccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return make_error(lib_error("setting the bad-architecture action", rc));
  // The sandbox sets no_new_privs itself (and reads it back); the exported program does not
  // carry this attribute anyway.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return make_error(lib_error("clearing SCMP_FLTATR_CTL_NNP", rc));
  // A binary search over syscall numbers instead of a linear chain: with a few hundred allowed
  // calls the common ones (read, write, mmap) no longer wait behind the rest.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return make_error(lib_error("setting SCMP_FLTATR_CTL_OPTIMIZE to 2", rc));

  Builder builder(ctx.get(), default_action, out);
  RITMA_TRY(add_refusals(builder));
  if (kind != Kind::kCompat) RITMA_TRY(add_allowlist(builder, kind));
  std::sort(out.allowed.begin(), out.allowed.end());

  UniqueFd mem(::memfd_create("requiem-seccomp", MFD_CLOEXEC));
  if (!mem.valid()) return make_error(std::string("memfd_create failed: ") + std::strerror(errno));
  rc = seccomp_export_bpf(ctx.get(), mem.get());
  if (rc != 0) return make_error(lib_error("seccomp_export_bpf", rc));
  const off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return make_error("libseccomp exported a BPF program of " + std::to_string(size) +
                      " bytes, not a whole number of instructions");
  }
  out.filter.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  const ssize_t n = ::pread(mem.get(), out.filter.data(), static_cast<size_t>(size), 0);
  if (n != size) return make_error("reading the exported seccomp program back failed");
  if (out.filter.size() > BPF_MAXINSNS) {
    return make_error("seccomp program has " + std::to_string(out.filter.size()) +
                      " instructions, over the kernel's limit of " + std::to_string(BPF_MAXINSNS));
  }
  return out;
}

}  // namespace ritma::exec
