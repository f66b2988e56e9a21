// The sandbox's seccomp profiles, compiled with libseccomp into a classic BPF program in the
// parent, so the child only has to hand the finished program to the kernel (one syscall, no
// allocation, nothing left to fail between "installed" and execve).
//
// Profiles (names are part of the request model; `requiem exec --seccomp NAME`):
//   default  an allowlist. What ordinary programs do is allowed, by category (seccomp_policy.cc
//            lists them): processes and threads, memory, files and directories, I/O
//            multiplexing and event descriptors, pipes and System V / POSIX IPC, signals,
//            reading clocks and sleeping, sockets, getrandom, a subset of prctl options, and
//            seccomp/Landlock (which can only narrow what is allowed). Some of those are allowed
//            under an argument condition: clone and unshare only without any CLONE_NEW* flag
//            (with one: EPERM); ioctl except TIOCSTI and TIOCLINUX (EPERM); prctl only for the
//            listed options. clone3 is not allowed: its flags sit in memory the filter cannot
//            read, and the ENOSYS it gets makes glibc fall back to clone(), whose flags it can.
//            The calls that reach the kernel's shared state or other processes (keys, BPF,
//            ptrace, mounts, modules, kexec, perf, userfaultfd, io_uring, setns, swap, reboot,
//            accounting, quotas, handle-based opens, clock setting, raw port I/O, syslog) are
//            refused explicitly with EPERM, as before the allowlist, so programs that probe for
//            them degrade the way they always did.
//            Everything else fails with ENOSYS, not EPERM: to a program that is "this kernel
//            does not have that call", and ENOSYS is the one error every libc and runtime has a
//            fallback for (glibc retries clone3 as clone, fchmodat2 as fchmodat, faccessat2 as
//            faccessat, statx as fstatat, ...). That matters because the allowlist is limited to
//            what this libseccomp can name: a call newer than its tables (mseal, statmount,
//            listmount, the *xattrat family, ...) cannot be allowed at all, and EPERM for it
//            would turn a libc fast path into a hard failure, where ENOSYS makes it an older
//            kernel. EPERM is kept for what we refuse on purpose.
//   strict   the default allowlist minus: sockets other than AF_UNIX, AF_INET and AF_INET6
//            (EPERM), chroot, kcmp, fanotify_init/fanotify_mark, process_madvise, memfd_secret,
//            personality and Linux AIO (io_setup, io_submit, ...), all refused with EPERM.
//   compat   the old denylist, for programs that need unusual calls: everything is allowed
//            except the dangerous calls above and the same argument conditions (CLONE_NEW*,
//            TIOCSTI/TIOCLINUX: EPERM; clone3: ENOSYS).
//   none     no filter at all (no_new_privs is still set).
// Every filter checks the architecture first: a syscall made through any other ABI (i386,
// x32) kills the process (SCMP_FLTATR_ACT_BADARCH = KILL_PROCESS).
#pragma once

#include <linux/filter.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ritma::exec {

struct SeccompProgram {
  std::string profile;              // the profile's name
  std::string default_action;       // "errno ENOSYS" (default, strict), "allow" (compat), "" (none)
  std::vector<sock_filter> filter;  // empty for "none"
  // The syscalls the profile allows, unconditionally or under one of `conditions` (resolved on
  // this architecture, sorted). Empty for compat and none, which have no allowlist.
  std::vector<std::string> allowed;
  // The argument conditions on allowed calls, one line each ("clone: ...").
  std::vector<std::string> conditions;
  // What the profile refuses explicitly (EPERM unless noted), resolved on this architecture.
  std::vector<std::string> denied;
};

// The known profile names: default, strict, compat, none.
std::vector<std::string> seccomp_profile_names();

// Compiles `profile` for the native architecture. Unknown names and libseccomp failures are
// errors naming what failed; so is a program over BPF_MAXINSNS.
Result<SeccompProgram> build_seccomp_program(std::string_view profile);

}  // namespace ritma::exec
