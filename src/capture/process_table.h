// ProcessTable: user space's picture of the processes on this host, kept for attribution.
// It is seeded from /proc at start and maintained from the sensor's fork/exec/exit records,
// and it fills in what a single kernel record cannot carry: the executable of the last exec,
// the container and systemd unit (through CgroupResolver), and the actor id.
//
// A process is identified by (tgid, start time), never by pid alone: when a pid is reused the
// new process gets its own entry and its own actor id. Processes seen only in /proc have a
// start time in clock ticks (field 22 of /proc/<pid>/stat); the first kernel record that names
// such a process with its exact boot-time ns (whose quotient by the tick length equals the
// ticks, as the kernel computes it) upgrades the entry to the exact value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capture/bpf/sensor_event.h"
#include "capture/cgroup_resolver.h"
#include "capture/event.h"
#include "core/result.h"

namespace ritma::capture {

// Parses the kernel's boot id text: a UUID in 8-4-4-4-12 hex form (either case), optionally
// followed by one '\n'. Anything else (whitespace, braces, other lengths) is an error.
Result<BootId> parse_boot_id(std::string_view text);

// Reads and parses /proc/sys/kernel/random/boot_id (or `path`).
Result<BootId> read_boot_id(const std::string& path = "/proc/sys/kernel/random/boot_id");

// BLAKE3("ritma-actor@1" || boot_id || u32le(tgid) || u64le(start_ns))[0:16]; the tag is the
// 13 ASCII bytes without a NUL. start_ns is the group leader's start_boottime.
ActorId compute_actor_id(const BootId& boot_id, uint32_t tgid, uint64_t start_ns);

struct Credentials {
  uint32_t uid = 0, gid = 0, euid = 0;
  bool operator==(const Credentials&) const = default;
};

// What a kernel record says about the process that made it (the part of struct ritma_task the
// table keeps). parent_start_ns == 0 means "not known".
struct TaskSnapshot {
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  uint64_t start_ns = 0;
  uint64_t parent_start_ns = 0;
  Credentials creds;
  uint64_t cgroup_id = 0;
  std::string_view comm;  // must outlive the call it is passed to

  // View of `task` (comm points into it).
  static TaskSnapshot from_kernel(const ritma_task& task);
};

struct ProcessInfo {
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  // Boot-time ns of the start. Exact only when start_exact; for a process seen only in /proc
  // it is start_ticks * ns_per_tick, the start of its tick.
  uint64_t start_ns = 0;
  uint64_t start_ticks = 0;  // start_ns / ns_per_tick: what /proc shows
  bool start_exact = false;

  // The parent's start, when known: exact from kernel records, in ticks from /proc.
  bool parent_start_known = false;
  bool parent_start_exact = false;
  uint64_t parent_start_ns = 0;
  uint64_t parent_start_ticks = 0;

  Credentials creds;
  std::string comm;
  std::string exe;  // path of the last exec as the kernel gave it, or /proc/<pid>/exe
  std::vector<std::string> argv;
  bool argv_truncated = false;
  uint64_t cgroup_id = 0;
  ActorId actor{};  // all zero until start_exact: an id from an approximate start would be wrong
  uint32_t exec_count = 0;  // execs seen since the table learnt of the process
  bool seeded_from_proc = false;

  bool exited = false;
  int32_t exit_status = 0;  // task->exit_code: (status << 8) | signal
  uint64_t exit_ns = 0;     // boot-time ns of the exit record; 0 when not known

  uint64_t serial = 0;  // insertion order, unique within the table
};

struct ProcessTableOptions {
  size_t max_entries = 1u << 20;
  // Length of a /proc clock tick in ns; 0 means 1e9 / sysconf(_SC_CLK_TCK).
  uint64_t ns_per_tick = 0;
  size_t max_argv_entries = 64;
  size_t max_argv_bytes = 4096;  // of all entries together, counting a NUL after each
};

// Not thread-safe: one ingest thread owns the table (and its CgroupResolver).
class ProcessTable {
 public:
  // `cgroups` may be null (no container/unit attribution, cgroup ids of seeded processes stay
  // 0); when not null it must outlive the table.
  ProcessTable(const BootId& boot_id, CgroupResolver* cgroups, ProcessTableOptions options = {});
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Adds every process under `proc_root` (stat, status, cmdline, exe, cgroup of each
  // numeric directory) and links parents whose start precedes their children's. Processes
  // that vanish or whose files cannot be parsed are skipped silently. Returns how many
  // processes were added or refreshed; fails only when `proc_root` cannot be listed.
  Result<size_t> seed_from_proc(const std::string& proc_root = "/proc");

  // Finds or adds the process `task` describes and refreshes its ppid, credentials, cgroup
  // and comm from it. A new process displaces older entries with the same tgid (their pid was
  // reused); a process older than an entry with its tgid is added as already exited. Returns
  // null only for tgid 0.
  ProcessInfo* observe(const TaskSnapshot& task);

  // A fork record: `parent` made the process (child_tgid, child_start_ns), which inherits the
  // parent's credentials, cgroup, comm, exe and argv. Thread creation (same tgid) is ignored.
  void on_fork(const TaskSnapshot& parent, uint32_t child_tgid, uint64_t child_start_ns);

  // An exec record: replaces exe, argv and comm (the kernel's comm when `task` has one, else
  // the basename of `filename`), takes the credentials after the exec, counts the exec. argv
  // is bounded by the options; `argv_truncated` says the kernel already cut it.
  void on_exec(const TaskSnapshot& task, std::string_view filename, std::vector<std::string> argv,
               bool argv_truncated = false);

  // An exit record for (tgid, start_ns) at boot-time `at_ns`. Never touches another process
  // with the same tgid. Unknown processes are ignored.
  void on_exit(uint32_t tgid, uint64_t start_ns, int32_t status, uint64_t at_ns);

  // The entry for (tgid, start_ns), where start_ns is exact (from a kernel record): the one
  // with exactly this start, or one seeded from /proc whose tick matches, which is then
  // upgraded to the exact start (and gets its actor id). The pointer stays valid until the
  // next non-const call.
  ProcessInfo* lookup(uint32_t tgid, uint64_t start_ns);

  // Queries that change nothing: the entry with exactly this start or, for an entry seeded
  // from /proc, one whose tick matches (not upgraded); and the newest live entry of a tgid.
  // Pointers stay valid until the next non-const call.
  const ProcessInfo* find(uint32_t tgid, uint64_t start_ns) const;
  const ProcessInfo* find_live(uint32_t tgid) const;

  // Fills `ev.actor` (always from the event's own pid and start_ns), and, when known,
  // `ev.exe` and `ev.comm` if empty, `ev.container_id` and `ev.unit` from `ev.cgroup_id`.
  // Records of kinds without an actor (loss, filtered, run, gap) are left alone. Processes
  // not yet known are added (except from exit records). Call the on_* method of a lifecycle
  // record before enrich() so an exec's event carries its new exe.
  void enrich(Event& ev);

  // [the process, its parent, grandparent, ...] as far as the table knows, at most
  // `max_depth` entries. A parent is only followed when its start matches the one recorded
  // for the child (or, when that is unknown, it started no later than the child), so a
  // reused pid is never taken for an ancestor. Empty when the process is unknown.
  std::vector<ProcessInfo> lineage(uint32_t tgid, uint64_t start_ns, size_t max_depth = 256) const;

  // Removes exited processes whose exit was before `older_than_ns` (or is not known).
  // Returns how many were removed.
  size_t reap(uint64_t older_than_ns);

  size_t size() const { return size_; }
  uint64_t ns_per_tick() const { return ns_per_tick_; }
  const BootId& boot_id() const { return boot_id_; }

  struct Stats {
    uint64_t added = 0;
    uint64_t pid_reuses = 0;  // entries displaced by a newer process with the same tgid
    uint64_t upgraded = 0;    // /proc entries given their exact start
    uint64_t evicted = 0;     // removed to stay within max_entries
    uint64_t reaped = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  ProcessInfo* find_serial(uint32_t tgid, uint64_t serial);
  // Any entry (exact or not) whose start falls in tick `ticks`.
  ProcessInfo* find_by_ticks(uint32_t tgid, uint64_t ticks);
  const ProcessInfo* find_parent(const ProcessInfo& child) const;
  // Adds `p` (tgid != 0, not present) applying the pid-reuse rule and the entry cap.
  ProcessInfo* insert(ProcessInfo p);
  void mark_exited(ProcessInfo& p, int32_t status, uint64_t at_ns);
  void make_room();
  void remove(uint32_t tgid, uint64_t serial);
  void set_exact_start(ProcessInfo& p, uint64_t start_ns);
  void set_argv(ProcessInfo& p, std::vector<std::string> argv, bool truncated) const;
  void compact_exit_order();

  BootId boot_id_;
  CgroupResolver* cgroups_;
  ProcessTableOptions options_;
  uint64_t ns_per_tick_;
  // Almost always one entry per tgid; more only while a reused pid's stale process lingers.
  std::unordered_map<uint32_t, std::vector<ProcessInfo>> by_tgid_;
  size_t size_ = 0;
  uint64_t next_serial_ = 1;
  // (tgid, serial) in the order processes exited: eviction takes the oldest first. Entries
  // already removed are skipped when met.
  std::deque<std::pair<uint32_t, uint64_t>> exit_order_;
  Stats stats_;
};

}  // namespace ritma::capture
