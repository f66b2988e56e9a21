// Requiem's sandbox: runs one command in fresh namespaces, a read-only view of the host, a
// seccomp filter, a Landlock ruleset, rlimits and its own cgroups, and returns what happened
// together with what the child MEASURED as applied (never what was merely asked for).
//
// Processes. The caller (P) forks a relay (C) that creates the namespaces (user, mount, pid,
// ipc, uts and, unless network=host, net) and is moved by P into the run's cgroups; C forks
// the init (I), pid 1 of the new pid namespace, which builds the view and pivot_roots into
// it; I forks the target (T), which sets rlimits, no_new_privs, Landlock, drops every
// capability, installs the seccomp filter LAST, and execs. I reaps every orphan and, when T
// exits, hands T's wait status to P and exits, which kills whatever T left behind (the
// kernel tears down a pid namespace with its init).
//
// Identity. Inside, the command is uid/gid 0 with no capabilities at all (bounding set
// emptied, effective/permitted/inheritable cleared, no_new_privs). Outside, that uid is the
// caller's own uid when the caller is not root; when the caller is root it is
// `host_uid_when_root` (65534, nobody): a root caller's sandbox must not be host root, or
// every root-owned file (/etc/shadow) would be readable. Supplementary groups are dropped
// (root caller) or are the caller's (unprivileged, setgroups denied). For a root caller the
// workspace and the writable binds are idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP onto
// the sandbox's user namespace): files owned by host root appear owned by the sandbox's root
// and new files are created owned by host root, so the caller can use the outputs.
//
// View (filesystem). kHostReadOnly: the host's / bind-mounted recursively and made read-only
// and nosuid (one mount_setattr(AT_RECURSIVE)), with a fresh /proc for the new pid namespace,
// a /dev tmpfs (null, zero, full, random, urandom, tty bound from the host; fd, stdin, stdout,
// stderr symlinks; the tmpfs itself then read-only), a fresh tmpfs /tmp, and the workspace
// bound read-write AT ITS HOST PATH (so paths in the command's arguments and outputs mean the
// same inside and out). kBindsOnly: an empty read-only tmpfs root with only /proc, /dev, /tmp
// and the binds. Binds are opened by the caller (open_tree) before the fork, so the sandbox
// never needs permission to walk to them; their targets are created under /tmp or in an
// existing directory of the view (the read-only root cannot grow new directories).
//
// Network: kNone = a new network namespace with no interface up (not even lo); kLoopback =
// a new network namespace with lo up; kHost = the host's network (no net namespace).
//
// Limits. Wall timeout: the whole run is killed (cgroup.kill on v2, else freeze + SIGKILL of
// every pid; the pid namespace dies with its init anyway) and the outcome reports how many
// processes its cgroups still held afterwards (0). Memory, pids and CPU: cgroups (see
// cgroup_limits.h; v2 preferred, v1 as on these hybrid machines). CPU seconds, open files,
// file size and address space: rlimits, read back with getrlimit. Output: stdout and stderr
// are captured through pipes, each up to `output_bytes`; the first byte beyond kills the run
// with reason "output", and what was captured (the first output_bytes of each) is kept.
//
// Degradation. Namespaces, pivot_root, no_new_privs and the capability drop are not
// optional: if any fails, the run fails. Cgroup limits (cgroup_memory, cgroup_pids,
// cgroup_cpu), the v2 cgroup id (cgroup_v2_id), Landlock (landlock), seccomp (seccomp, when
// the kernel has none) and the workspace idmap (workspace_idmap) fail the run when requested
// but unavailable, unless allow_degraded is set; then each is named, with why, in
// SandboxOutcome::degraded and the run goes on without it.
//
// Threads: run_sandboxed forks; it is safe to call from a threaded program (the children only
// use what glibc's fork makes safe), and several runs may proceed in parallel.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ritma::exec {

enum class NetworkMode { kNone, kLoopback, kHost };
enum class ViewMode { kHostReadOnly, kBindsOnly };

// "none" | "loopback" | "host"; unknown names are an error.
Result<NetworkMode> parse_network_mode(const std::string& name);
const char* network_mode_name(NetworkMode mode);

struct BindMount {
  std::string source;  // host path (file or directory)
  std::string target;  // absolute path inside the view
  bool writable = false;
};

struct SandboxLimits {
  uint64_t wall_timeout_ms = 0;      // 0: none
  uint64_t cpu_seconds = 0;          // RLIMIT_CPU; 0: unlimited
  uint64_t memory_bytes = 0;         // cgroup memory (and memory+swap) limit; 0: none
  uint64_t pids = 0;                 // cgroup pids.max; 0: none
  uint32_t cpu_millis = 0;           // cgroup CPU bandwidth, thousandths of a CPU; 0: none
  uint64_t open_files = 0;           // RLIMIT_NOFILE; 0: inherited
  uint64_t output_bytes = 0;         // per stream (stdout, stderr); 0: unlimited
  uint64_t file_size_bytes = 0;      // RLIMIT_FSIZE; 0: unlimited
  uint64_t address_space_bytes = 0;  // RLIMIT_AS; 0: unlimited
};

struct SandboxSpec {
  // argv[0] is an absolute path inside the view, or a name looked up in the PATH of `env`
  // (else /usr/local/bin:/usr/bin:/bin), inside the view.
  std::vector<std::string> argv;
  // The command's whole environment, "K=V" each. The caller's own environment is never
  // passed on.
  std::vector<std::string> env;
  std::string workspace;  // absolute host path of a directory; "" for none
  std::string cwd;        // inside the view; "" = the workspace (else /)
  ViewMode view = ViewMode::kHostReadOnly;
  std::vector<BindMount> binds;
  NetworkMode network = NetworkMode::kNone;
  std::string seccomp_profile = "default";  // see seccomp_policy.h
  bool landlock = true;
  SandboxLimits limits;
  std::string hostname = "requiem";
  bool allow_degraded = false;
  uint32_t host_uid_when_root = 65534;
  uint32_t host_gid_when_root = 65534;
};

// What the child measured, in the order it measured it: "ns.user=new", "pid1=1",
// "pivot_root=ok", "no_new_privs=1", "rlimit.nofile=64/64", "landlock.abi=7",
// "seccomp.load=0", "status.Seccomp=2", "status.NoNewPrivs=1", "status.CapEff=0000000000000000",
// ... plus the parent's own observations under "parent.*" (cgroup paths, limits read back,
// /proc/<pid>/status of the target after its execve when it was still there to read).
struct AppliedReport {
  std::vector<std::pair<std::string, std::string>> entries;
  int seccomp_mode = -1;  // Seccomp: of /proc/self/status in the target after installing
  int no_new_privs = -1;  // prctl(PR_GET_NO_NEW_PRIVS) in the target
  int landlock_abi = 0;   // 0: no ruleset applied
  bool exec_reached = false;

  // The value of the first entry `key`, or "".
  std::string get(const std::string& key) const;
};

struct SandboxOutcome {
  // "exit", "signal", "timeout", "memory" (an OOM kill in the run's memory cgroup), "pids"
  // (the pids limit refused a fork), "output" (stdout or stderr went over output_bytes).
  // Precedence when several happened: memory, pids, output, timeout, then how the target
  // ended (signal or exit). The target's own status is kept in exit_code/signal either way.
  std::string termination;
  int exit_code = -1;  // when the target exited
  int signal = 0;      // when a signal killed the target
  bool timed_out = false;
  std::vector<std::string> limits_hit;  // every limit that bit, e.g. {"pids", "timeout"}

  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  double wall_seconds = 0;
  // rusage of every process reaped in the sandbox (the relay's RUSAGE_CHILDREN chain).
  int64_t user_cpu_us = 0;
  int64_t system_cpu_us = 0;
  int64_t max_rss_bytes = 0;
  // From the cgroups; -1 / 0 when unknown.
  int64_t cgroup_cpu_usec = -1;
  uint64_t memory_peak_bytes = 0;
  uint64_t oom_kills = 0;
  uint64_t pids_refused = 0;

  std::string stdout_data;  // at most limits.output_bytes
  std::string stderr_data;
  uint64_t stdout_bytes = 0;  // bytes captured (== size of stdout_data)
  uint64_t stderr_bytes = 0;
  bool output_truncated = false;

  AppliedReport applied;
  std::vector<std::string> degraded;      // "<feature>: why", only with allow_degraded
  uint64_t cgroup_id = 0;                 // the v2 cgroup's id (bpf_get_current_cgroup_id); 0: none
  std::vector<std::string> cgroup_paths;  // "<controller>=<dir>"
  // Processes the run's cgroups still held once the sandbox was gone (after giving killed
  // processes up to a second to finish exiting), counted before any clean-up kill and the
  // removal of the cgroups; -1 when there were no cgroups.
  long processes_left = -1;
};

// Called in the caller's process once the sandbox's processes are in their cgroups and
// BEFORE the target may execve (it waits on a pipe), with the v2 cgroup id (0 when there is
// none): the kernel tracer starts filtering on it here. An error aborts the run (the
// sandbox is killed) and is returned.
using BeforeExecHook = std::function<Status(uint64_t cgroup_id)>;

// Runs `spec` to completion. An error means the run could not be set up as asked (the
// message names the step and the reason, e.g. the child's own "pivot_root: EINVAL"); a
// command that runs and fails is an outcome, not an error. A target that cannot be executed
// (no such file) is an error too.
Result<SandboxOutcome> run_sandboxed(const SandboxSpec& spec, const BeforeExecHook& hook = {});

}  // namespace ritma::exec
