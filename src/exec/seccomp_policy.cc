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

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "core/unique_fd.h"

namespace ritma::exec {
namespace {

// Calls that reach state shared with the host or other processes. Names this architecture
// does not have (create_module, vm86, ... on x86_64; many more on aarch64) are skipped.
constexpr const char* kDefaultDenied[] = {
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

// Added by "strict".
constexpr const char* kStrictDenied[] = {
    "chroot", "kcmp", "fanotify_init", "process_madvise", "memfd_secret", "personality",
};

constexpr uint64_t kNamespaceFlags[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};
constexpr uint64_t kCloneNewTime = 0x00000080;  // CLONE_NEWTIME; unshare only (clone: CSIGNAL)

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

// The kernel reads int-typed arguments (flags, families, ioctl requests) as 32 bits, so the
// comparisons look at the low 32 bits only: garbage in the upper half cannot slip past.
scmp_arg_cmp low32_eq(unsigned arg, uint64_t value) {
  return arg_cmp(arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, value);
}

std::string lib_error(const char* what, int rc) {
  return std::string("libseccomp: ") + what + " failed: " + std::strerror(-rc);
}

Status add_rule(scmp_filter_ctx ctx, uint32_t action, const char* name,
                std::initializer_list<scmp_arg_cmp> args, std::vector<std::string>* denied) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return {};  // not a syscall on this architecture
  const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()),
                                        args.size() == 0 ? nullptr : args.begin());
  if (rc != 0) return make_error(lib_error((std::string("adding a rule for ") + name).c_str(), rc));
  if (denied != nullptr) denied->push_back(name);
  return {};
}

Status add_default_rules(scmp_filter_ctx ctx, std::vector<std::string>& denied) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDefaultDenied) RITMA_TRY(add_rule(ctx, eperm, name, {}, &denied));
  // Creating a namespace: unshare() and clone() with any CLONE_NEW* flag. One rule per flag,
  // since libseccomp can only test "(arg & mask) == value".
  for (uint64_t flag : kNamespaceFlags) {
    RITMA_TRY(
        add_rule(ctx, eperm, "unshare", {arg_cmp(0, SCMP_CMP_MASKED_EQ, flag, flag)}, nullptr));
    RITMA_TRY(add_rule(ctx, eperm, "clone", {arg_cmp(0, SCMP_CMP_MASKED_EQ, flag, flag)}, nullptr));
  }
  RITMA_TRY(add_rule(ctx, eperm, "unshare",
                     {arg_cmp(0, SCMP_CMP_MASKED_EQ, kCloneNewTime, kCloneNewTime)}, nullptr));
  denied.push_back("unshare(CLONE_NEW*)");
  denied.push_back("clone(CLONE_NEW*)");
  // clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall back to
  // clone(), whose flags it can.
  RITMA_TRY(add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", {}, nullptr));
  denied.push_back("clone3 (ENOSYS)");
  // Pushing bytes into a terminal's input queue.
  RITMA_TRY(add_rule(ctx, eperm, "ioctl", {low32_eq(1, TIOCSTI)}, nullptr));
  RITMA_TRY(add_rule(ctx, eperm, "ioctl", {low32_eq(1, TIOCLINUX)}, nullptr));
  denied.push_back("ioctl(TIOCSTI|TIOCLINUX)");
  return {};
}

Status add_strict_rules(scmp_filter_ctx ctx, std::vector<std::string>& denied) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kStrictDenied) RITMA_TRY(add_rule(ctx, eperm, name, {}, &denied));
  // Sockets: AF_UNIX (1), AF_INET (2) and AF_INET6 (10) only.
  for (uint64_t family : {0, 3, 4, 5, 6, 7, 8, 9}) {
    RITMA_TRY(add_rule(ctx, eperm, "socket", {low32_eq(0, family)}, nullptr));
  }
  // Above AF_INET6: the upper half cannot lower the value, so a 64-bit comparison holds.
  RITMA_TRY(add_rule(ctx, eperm, "socket", {arg_cmp(0, SCMP_CMP_GE, AF_INET6 + 1)}, nullptr));
  denied.push_back("socket(not AF_UNIX/AF_INET/AF_INET6)");
  return {};
}

}  // namespace

std::vector<std::string> seccomp_profile_names() {
  return {"default", "strict", "none"};
}

Result<SeccompProgram> build_seccomp_program(std::string_view profile) {
  SeccompProgram out;
  out.profile = std::string(profile);
  if (profile == "none") return out;
  if (profile != "default" && profile != "strict") {
    return make_error("unknown seccomp profile \"" + std::string(profile) +
                      "\" (known: default, strict, none)");
  }
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return make_error("libseccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return make_error(lib_error("setting the bad-architecture action", rc));
  // The sandbox sets no_new_privs itself (and reads it back); the exported program does not
  // carry this attribute anyway.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return make_error(lib_error("clearing SCMP_FLTATR_CTL_NNP", rc));
  RITMA_TRY(add_default_rules(ctx.get(), out.denied));
  if (profile == "strict") RITMA_TRY(add_strict_rules(ctx.get(), out.denied));

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
