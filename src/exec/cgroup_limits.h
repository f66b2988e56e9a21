// One sandboxed run's cgroups: a fresh cgroup per hierarchy that a limit needs, plus one in the
// cgroup v2 hierarchy for the run's identity.
//
// Layouts: pure v2 (memory, pids and cpu in the v2 root's cgroup.controllers): one cgroup
// holds the limits and gives the id. Hybrid (these machines: memory, pids, cpu, cpuacct,
// freezer mounted as v1; /sys/fs/cgroup/unified a v2 hierarchy without controllers): the
// limits go to v1 cgroups, and a cgroup under the v2 mount still gives the run the id that
// bpf_get_current_cgroup_id() returns (the kernel trace filters on it) and cgroup.kill, which
// is a core v2 file that needs no controller. Pure v1: limits only, no id.
//
// Where: under the hierarchy's root when that is writable (root), else under this process's
// own cgroup (a delegated subtree, for unprivileged callers), named requiem-<pid>-<seq>.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace ritma::exec {

// A cgroup hierarchy mounted in this process's mount namespace (/proc/self/mountinfo).
struct CgroupHierarchy {
  bool v2 = false;
  std::string root;                      // the mount's root inside the hierarchy
  std::string mount_point;               // where it is mounted
  std::vector<std::string> controllers;  // v1: the mount's options; v2: cgroup.controllers
};
std::vector<CgroupHierarchy> read_cgroup_hierarchies();
// This process's cgroup path in the v2 hierarchy (controller "") or in the v1 hierarchy with
// `controller`; "/" when not listed.
std::string own_cgroup_path(const std::string& controller);

struct CgroupLimits {
  uint64_t memory_bytes = 0;  // 0: no limit
  uint64_t pids = 0;          // 0: no limit
  uint32_t cpu_millis = 0;    // CPU bandwidth in thousandths of a CPU; 0: no limit
};

struct CgroupUsage {
  uint64_t oom_kills = 0;          // OOM kills inside the run's memory cgroup
  bool oom_known = false;          // whether the memory cgroup could tell
  uint64_t pids_max_events = 0;    // forks refused by the pids limit
  uint64_t memory_peak_bytes = 0;  // 0 when unknown
  int64_t cpu_usage_usec = -1;     // total CPU of the cgroup; -1 when unknown
  int64_t cpu_user_usec = -1;
  int64_t cpu_system_usec = -1;
};

class RunCgroups {
 public:
  // Creates the cgroups and writes the limits. A limit that cannot be set (no hierarchy with
  // its controller, no permission) is not an error here: it is named in `unavailable` (e.g.
  // "cgroup_memory: ...") so the caller can fail or degrade; the same for the v2 id
  // ("cgroup_v2_id: ..."). Errors are reserved for what leaves nothing usable.
  static Result<std::unique_ptr<RunCgroups>> create(const CgroupLimits& limits,
                                                    std::vector<std::string>& unavailable);
  ~RunCgroups();
  RunCgroups(const RunCgroups&) = delete;
  RunCgroups& operator=(const RunCgroups&) = delete;

  // Moves `pid` into every cgroup of the run; names the first cgroup that refused.
  Status add_process(pid_t pid) const;

  // The v2 cgroup id (its kernfs inode), 0 when there is no v2 cgroup.
  uint64_t v2_id() const { return v2_id_; }
  const std::string& v2_path() const { return v2_dir_; }
  // "<controller>=<directory>" for every cgroup created.
  std::vector<std::string> paths() const;
  // What was written ("memory.limit_in_bytes=67108864", ...), read back after writing.
  const std::vector<std::string>& limits_applied() const { return applied_; }

  // Kills every process in the run's cgroups (cgroup.kill on v2; otherwise freeze, SIGKILL
  // each pid, thaw, until empty) and waits up to `wait_ms` for them to be gone.
  void kill_all(int wait_ms) const;
  // Processes still listed in the run's cgroups (the largest count over the hierarchies).
  size_t process_count() const;
  // Waits up to `wait_ms` for the cgroups to empty (killed processes finishing their exit);
  // returns process_count() at the end. Kills nothing.
  size_t wait_empty(int wait_ms) const;
  CgroupUsage usage() const;
  // Removes the cgroups (retrying briefly while the last exiting tasks leave); the
  // destructor does it too.
  void remove();

 private:
  RunCgroups() = default;

  std::string v2_dir_;       // the v2 cgroup (id, cgroup.kill, cpu.stat; limits when pure v2)
  bool v2_limits_ = false;   // memory/pids/cpu files live in v2_dir_
  std::string memory_dir_;   // v1 memory
  std::string pids_dir_;     // v1 pids
  std::string cpu_dir_;      // v1 cpu
  std::string cpuacct_dir_;  // v1 cpuacct
  std::string freezer_dir_;  // v1 freezer
  uint64_t v2_id_ = 0;
  std::vector<std::string> applied_;
  std::vector<std::string> created_;  // every directory, in creation order
};

}  // namespace ritma::exec
