// The sandbox's Landlock ruleset: the whole view readable and executable, writes only beneath
// the listed directories (the workspace, /tmp, writable binds) and to /dev's few devices. The
// ruleset handles every file-system right the running kernel's ABI knows (v1: 13 rights, v2:
// +refer, v3: +truncate, v5: +ioctl_dev) and, from v6, scopes signals and abstract UNIX
// sockets to the sandbox. Network rights (v4) are left to the network namespace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace ritma::exec {

// The kernel's Landlock ABI version; 0 when Landlock is absent or disabled.
int landlock_abi_version();

struct LandlockApplied {
  int abi = 0;
  uint64_t handled_access_fs = 0;
  uint64_t scoped = 0;
  size_t rules = 0;
};

// Restricts the calling process (and what it executes). Call with no_new_privs already set,
// after the view is final (pivot_root done), since rules are bound to the paths' inodes.
// `writable` must exist. Fails naming the call that failed.
Result<LandlockApplied> apply_landlock(int abi, const std::vector<std::string>& writable);

}  // namespace ritma::exec
