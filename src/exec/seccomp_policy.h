// The sandbox's seccomp profiles, compiled with libseccomp into a classic BPF program in the
// parent, so the child only has to hand the finished program to the kernel (one syscall, no
// allocation, nothing left to fail between "installed" and execve).
//
// Profiles (names are part of the request model; `requiem exec --seccomp NAME`):
//   default  a denylist modelled on firejail's @default: everything is allowed except the
//            calls that reach the kernel's shared state or other processes (keys, BPF, ptrace,
//            mounts, modules, kexec, perf, userfaultfd, new namespaces, swap, reboot, accounting,
//            handle-based opens, clock setting, raw I/O, io_uring, TIOCSTI). They fail with
//            EPERM, so programs that probe for them degrade instead of dying.
//   strict   default, plus: no sockets other than AF_UNIX, AF_INET and AF_INET6, and no
//            chroot, kcmp, fanotify_init, process_madvise, memfd_secret or personality;
//            denied calls still fail with EPERM.
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
  std::vector<sock_filter> filter;  // empty for "none"
  std::vector<std::string> denied;  // the syscalls the profile denies (resolved on this arch)
};

// The known profile names, in the order above.
std::vector<std::string> seccomp_profile_names();

// Compiles `profile` for the native architecture. Unknown names and libseccomp failures are
// errors naming what failed.
Result<SeccompProgram> build_seccomp_program(std::string_view profile);

}  // namespace ritma::exec
