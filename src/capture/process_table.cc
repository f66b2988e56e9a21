// Process attribution: boot id, actor ids, and the process table (seeded from /proc,
// maintained from kernel records).
#include "capture/process_table.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <unordered_set>

#include "core/blake3_hasher.h"
#include "core/bytes.h"
#include "core/unique_fd.h"

namespace ritma::capture {

namespace {

constexpr std::string_view kActorTag = "ritma-actor@1";
constexpr size_t kMaxStatBytes = 4096;
constexpr size_t kMaxStatusBytes = 16384;
constexpr size_t kMaxCgroupFileBytes = 65536;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads at most `max_bytes` of a file (proc files report size 0, so read until EOF).
Result<std::string> read_bounded(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(path + ": cannot open: " + std::strerror(errno));
  std::string out;
  char buf[4096];
  while (out.size() < max_bytes) {
    const size_t want = std::min(sizeof buf, max_bytes - out.size());
    const ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(path + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

template <typename T>
bool parse_uint(std::string_view s, T& out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

struct StatFields {
  uint32_t pid = 0;
  std::string comm;
  uint32_t ppid = 0;
  uint64_t start_ticks = 0;
};

// /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22) ...". comm may hold spaces and
// parentheses, so it runs from the first '(' to the last ')'.
std::optional<StatFields> parse_stat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      open < 2 || text[open - 1] != ' ') {
    return std::nullopt;
  }
  StatFields f;
  if (!parse_uint(text.substr(0, open - 1), f.pid)) return std::nullopt;
  f.comm = std::string(text.substr(open + 1, close - open - 1));
  const std::vector<std::string_view> rest = split_fields(text.substr(close + 1));
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  if (rest.size() < 20) return std::nullopt;
  if (!parse_uint(rest[1], f.ppid) || !parse_uint(rest[19], f.start_ticks)) return std::nullopt;
  return f;
}

// The real uid, real gid and effective uid from /proc/<pid>/status.
std::optional<Credentials> parse_status(std::string_view text) {
  Credentials c;
  bool have_uid = false, have_gid = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const bool is_uid = line.starts_with("Uid:");
    if (!is_uid && !line.starts_with("Gid:")) continue;
    const std::vector<std::string_view> f = split_fields(line.substr(4));
    if (f.size() < 2) return std::nullopt;
    uint32_t real = 0, effective = 0;
    if (!parse_uint(f[0], real) || !parse_uint(f[1], effective)) return std::nullopt;
    if (is_uid) {
      c.uid = real;
      c.euid = effective;
      have_uid = true;
    } else {
      c.gid = real;
      have_gid = true;
    }
  }
  if (!have_uid || !have_gid) return std::nullopt;
  return c;
}

// NUL-separated arguments; the last one may lack its NUL (a rewritten cmdline).
std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// The path of the "0::<path>" line of /proc/<pid>/cgroup (the unified hierarchy).
std::optional<std::string> unified_cgroup_path(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with("0::")) return std::string(line.substr(3));
    pos = end + 1;
  }
  return std::nullopt;
}

std::string comm_of(std::string_view filename) {
  const size_t slash = filename.rfind('/');
  std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  return std::string(base.substr(0, RITMA_COMM_LEN - 1));
}

// Whether a started before b, comparing exact starts when both are exact, else ticks.
bool started_before(const ProcessInfo& a, const ProcessInfo& b) {
  if (a.start_exact && b.start_exact) return a.start_ns < b.start_ns;
  return a.start_ticks < b.start_ticks;
}

}  // namespace

Result<BootId> parse_boot_id(std::string_view text) {
  std::string_view s = text;
  if (s.ends_with('\n')) s.remove_suffix(1);
  if (s.size() != 36) {
    return make_error("boot id: expected a UUID of 36 characters (8-4-4-4-12 hex), got " +
                      std::to_string(s.size()));
  }
  BootId id{};
  size_t byte = 0;
  for (size_t i = 0; i < s.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return make_error("boot id: expected '-' at offset " + std::to_string(i));
      ++i;
      continue;
    }
    const int hi = hex_value(s[i]);
    const int lo = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    if (hi < 0 || lo < 0) {
      return make_error("boot id: invalid hex digit near offset " + std::to_string(i));
    }
    id[byte++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return id;
}

Result<BootId> read_boot_id(const std::string& path) {
  // 37 bytes are expected; read a little more so trailing garbage is seen and rejected.
  RITMA_ASSIGN_OR_RETURN(std::string text, read_bounded(path, 64));
  Result<BootId> id = parse_boot_id(text);
  if (!id.ok()) return make_error(path + ": " + id.error().message);
  return id;
}

ActorId compute_actor_id(const BootId& boot_id, uint32_t tgid, uint64_t start_ns) {
  uint8_t fixed[4 + 8];
  for (int i = 0; i < 4; ++i) fixed[i] = static_cast<uint8_t>(tgid >> (8 * i));
  for (int i = 0; i < 8; ++i) fixed[4 + i] = static_cast<uint8_t>(start_ns >> (8 * i));
  Blake3Hasher h;
  h.update(kActorTag);
  h.update(ByteSpan(boot_id));
  h.update(ByteSpan(fixed, sizeof fixed));
  const Hash32 full = h.finalize();
  ActorId id;
  std::copy_n(full.begin(), id.size(), id.begin());
  return id;
}

TaskSnapshot TaskSnapshot::from_kernel(const ritma_task& task) {
  TaskSnapshot t;
  t.tgid = task.pid;
  t.ppid = task.ppid;
  t.start_ns = task.start_ns;
  t.parent_start_ns = task.parent_start_ns;
  t.creds = Credentials{task.uid, task.gid, task.euid};
  t.cgroup_id = task.cgroup_id;
  t.comm = std::string_view(task.comm, strnlen(task.comm, sizeof task.comm));
  return t;
}

ProcessTable::ProcessTable(const BootId& boot_id, CgroupResolver* cgroups,
                           ProcessTableOptions options)
    : boot_id_(boot_id), cgroups_(cgroups), options_(options) {
  ns_per_tick_ = options_.ns_per_tick;
  if (ns_per_tick_ == 0) {
    const long hz = ::sysconf(_SC_CLK_TCK);
    ns_per_tick_ = 1'000'000'000ull / static_cast<uint64_t>(hz > 0 ? hz : 100);
  }
  if (options_.max_entries == 0) options_.max_entries = 1;
}

void ProcessTable::set_exact_start(ProcessInfo& p, uint64_t start_ns) {
  p.start_ns = start_ns;
  p.start_ticks = start_ns / ns_per_tick_;
  p.start_exact = true;
  p.actor = compute_actor_id(boot_id_, p.tgid, start_ns);
}

void ProcessTable::set_argv(ProcessInfo& p, std::vector<std::string> argv, bool truncated) const {
  size_t bytes = 0;
  size_t keep = 0;
  for (; keep < argv.size() && keep < options_.max_argv_entries; ++keep) {
    if (bytes + argv[keep].size() + 1 > options_.max_argv_bytes) break;
    bytes += argv[keep].size() + 1;
  }
  p.argv_truncated = truncated || keep < argv.size();
  argv.resize(keep);
  p.argv = std::move(argv);
}

ProcessInfo* ProcessTable::find_serial(uint32_t tgid, uint64_t serial) {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return nullptr;
  for (ProcessInfo& p : it->second) {
    if (p.serial == serial) return &p;
  }
  return nullptr;
}

ProcessInfo* ProcessTable::find_by_ticks(uint32_t tgid, uint64_t ticks) {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return nullptr;
  for (ProcessInfo& p : it->second) {
    if (p.start_ticks == ticks) return &p;
  }
  return nullptr;
}

ProcessInfo* ProcessTable::lookup(uint32_t tgid, uint64_t start_ns) {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return nullptr;
  for (ProcessInfo& p : it->second) {
    if (p.start_exact && p.start_ns == start_ns) return &p;
  }
  const uint64_t ticks = start_ns / ns_per_tick_;
  for (ProcessInfo& p : it->second) {
    if (!p.start_exact && p.start_ticks == ticks) {
      set_exact_start(p, start_ns);
      ++stats_.upgraded;
      return &p;
    }
  }
  return nullptr;
}

void ProcessTable::remove(uint32_t tgid, uint64_t serial) {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return;
  auto& bucket = it->second;
  auto pos = std::find_if(bucket.begin(), bucket.end(),
                          [serial](const ProcessInfo& p) { return p.serial == serial; });
  if (pos == bucket.end()) return;
  bucket.erase(pos);
  --size_;
  if (bucket.empty()) by_tgid_.erase(it);
}

void ProcessTable::compact_exit_order() {
  std::deque<std::pair<uint32_t, uint64_t>> kept;
  for (const auto& [tgid, serial] : exit_order_) {
    const ProcessInfo* p = find_serial(tgid, serial);
    if (p != nullptr && p->exited) kept.emplace_back(tgid, serial);
  }
  exit_order_ = std::move(kept);
}

void ProcessTable::mark_exited(ProcessInfo& p, int32_t status, uint64_t at_ns) {
  const bool first = !p.exited;
  p.exited = true;
  p.exit_status = status;
  p.exit_ns = at_ns;
  if (!first) return;
  exit_order_.emplace_back(p.tgid, p.serial);
  // Items of entries removed by reuse or reap are skipped lazily; keep them from piling up.
  if (exit_order_.size() > 2 * options_.max_entries + 1024) compact_exit_order();
}

void ProcessTable::make_room() {
  while (size_ >= options_.max_entries) {
    if (!exit_order_.empty()) {
      const auto [tgid, serial] = exit_order_.front();
      exit_order_.pop_front();
      const ProcessInfo* p = find_serial(tgid, serial);
      if (p == nullptr || !p->exited) continue;
      remove(tgid, serial);
      ++stats_.evicted;
      continue;
    }
    // Only live processes are left: drop the one that started first.
    const ProcessInfo* oldest = nullptr;
    for (const auto& [tgid, bucket] : by_tgid_) {
      for (const ProcessInfo& p : bucket) {
        if (oldest == nullptr || p.start_ns < oldest->start_ns) oldest = &p;
      }
    }
    if (oldest == nullptr) return;
    remove(oldest->tgid, oldest->serial);
    ++stats_.evicted;
  }
}

ProcessInfo* ProcessTable::insert(ProcessInfo p) {
  make_room();
  auto& bucket = by_tgid_[p.tgid];
  bool stale = false;
  for (size_t i = bucket.size(); i-- > 0;) {
    const ProcessInfo& e = bucket[i];
    if (started_before(e, p)) {
      // The pid was reused, so `e` is gone (its exit may have been missed).
      bucket.erase(bucket.begin() + static_cast<std::ptrdiff_t>(i));
      --size_;
      ++stats_.pid_reuses;
    } else if (started_before(p, e)) {
      stale = true;
    }
  }
  p.serial = next_serial_++;
  bucket.push_back(std::move(p));
  ++size_;
  ++stats_.added;
  ProcessInfo& added = bucket.back();
  // A newer process holds this pid now, so this one has ended; its exit time is unknown.
  if (stale) mark_exited(added, 0, 0);
  return &added;
}

ProcessInfo* ProcessTable::observe(const TaskSnapshot& task) {
  if (task.tgid == 0) return nullptr;
  ProcessInfo* p = lookup(task.tgid, task.start_ns);
  if (p == nullptr) {
    ProcessInfo n;
    n.tgid = task.tgid;
    set_exact_start(n, task.start_ns);
    n.ppid = task.ppid;
    n.comm = std::string(task.comm);
    n.creds = task.creds;
    n.cgroup_id = task.cgroup_id;
    p = insert(std::move(n));
  }
  if (task.parent_start_ns != 0) {
    p->ppid = task.ppid;
    p->parent_start_known = true;
    p->parent_start_exact = true;
    p->parent_start_ns = task.parent_start_ns;
    p->parent_start_ticks = task.parent_start_ns / ns_per_tick_;
  } else if (task.ppid != p->ppid) {
    p->ppid = task.ppid;  // reparented, to a parent whose start we do not know
    p->parent_start_known = false;
    p->parent_start_exact = false;
  }
  p->creds = task.creds;
  if (task.cgroup_id != 0) p->cgroup_id = task.cgroup_id;
  if (!task.comm.empty() && task.comm != p->comm) p->comm = std::string(task.comm);
  return p;
}

void ProcessTable::on_fork(const TaskSnapshot& parent, uint32_t child_tgid,
                           uint64_t child_start_ns) {
  const ProcessInfo* par = observe(parent);
  if (child_tgid == 0 || child_tgid == parent.tgid) return;
  ProcessInfo child;
  child.tgid = child_tgid;
  child.ppid = parent.tgid;
  if (parent.start_ns != 0) {
    child.parent_start_known = true;
    child.parent_start_exact = true;
    child.parent_start_ns = parent.start_ns;
    child.parent_start_ticks = parent.start_ns / ns_per_tick_;
  }
  child.creds = parent.creds;
  child.cgroup_id = parent.cgroup_id;
  child.comm = std::string(parent.comm);
  if (par != nullptr) {
    // Copied now: inserting the child may evict the parent.
    child.exe = par->exe;
    child.argv = par->argv;
    child.argv_truncated = par->argv_truncated;
    if (child.comm.empty()) child.comm = par->comm;
  }
  set_exact_start(child, child_start_ns);
  if (ProcessInfo* known = lookup(child_tgid, child_start_ns)) {
    known->ppid = child.ppid;
    known->parent_start_known = child.parent_start_known;
    known->parent_start_exact = child.parent_start_exact;
    known->parent_start_ns = child.parent_start_ns;
    known->parent_start_ticks = child.parent_start_ticks;
    if (known->exe.empty() && known->exec_count == 0) {
      known->exe = std::move(child.exe);
      known->argv = std::move(child.argv);
      known->argv_truncated = child.argv_truncated;
    }
    return;
  }
  insert(std::move(child));
}

void ProcessTable::on_exec(const TaskSnapshot& task, std::string_view filename,
                           std::vector<std::string> argv, bool argv_truncated) {
  ProcessInfo* p = observe(task);
  if (p == nullptr) return;
  p->exe = std::string(filename);
  set_argv(*p, std::move(argv), argv_truncated);
  if (task.comm.empty()) p->comm = comm_of(filename);
  ++p->exec_count;
}

void ProcessTable::on_exit(uint32_t tgid, uint64_t start_ns, int32_t status, uint64_t at_ns) {
  ProcessInfo* p = lookup(tgid, start_ns);
  if (p != nullptr) mark_exited(*p, status, at_ns);
}

void ProcessTable::enrich(Event& ev) {
  switch (ev.type) {
    case EventType::kLoss:
    case EventType::kFiltered:
    case EventType::kRun:
    case EventType::kGap:
      return;
    default:
      break;
  }
  if (ev.pid == 0) return;
  ProcessInfo* p = nullptr;
  if (ev.start_ns != 0) {
    if (ev.type == EventType::kExit) {
      p = lookup(ev.pid, ev.start_ns);
    } else {
      TaskSnapshot t;
      t.tgid = ev.pid;
      t.ppid = ev.ppid;
      t.start_ns = ev.start_ns;
      t.creds = Credentials{ev.uid, ev.gid, ev.euid};
      t.cgroup_id = ev.cgroup_id;
      t.comm = ev.comm;
      p = observe(t);
    }
  }
  if (p != nullptr && p->start_exact && p->start_ns == ev.start_ns) {
    ev.actor = p->actor;  // the same value compute_actor_id gives, computed once per process
  } else {
    ev.actor = compute_actor_id(boot_id_, ev.pid, ev.start_ns);
  }
  if (p != nullptr) {
    if (ev.exe.empty()) ev.exe = p->exe;
    if (ev.comm.empty()) ev.comm = p->comm;
  }
  if (cgroups_ != nullptr && ev.cgroup_id != 0) {
    if (const ContainerInfo* info = cgroups_->info_for_id(ev.cgroup_id)) {
      if (ev.container_id.empty()) ev.container_id = info->container_id;
      if (ev.unit.empty()) ev.unit = info->unit;
    }
  }
}

const ProcessInfo* ProcessTable::find(uint32_t tgid, uint64_t start_ns) const {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return nullptr;
  for (const ProcessInfo& p : it->second) {
    if (p.start_exact ? p.start_ns == start_ns : p.start_ticks == start_ns / ns_per_tick_) {
      return &p;
    }
  }
  return nullptr;
}

const ProcessInfo* ProcessTable::find_live(uint32_t tgid) const {
  auto it = by_tgid_.find(tgid);
  if (it == by_tgid_.end()) return nullptr;
  const ProcessInfo* best = nullptr;
  for (const ProcessInfo& p : it->second) {
    if (!p.exited && (best == nullptr || started_before(*best, p))) best = &p;
  }
  return best;
}

const ProcessInfo* ProcessTable::find_parent(const ProcessInfo& child) const {
  if (child.ppid == 0 || child.ppid == child.tgid) return nullptr;
  auto it = by_tgid_.find(child.ppid);
  if (it == by_tgid_.end()) return nullptr;
  const ProcessInfo* best = nullptr;
  for (const ProcessInfo& e : it->second) {
    if (child.parent_start_known) {
      const bool match = child.parent_start_exact && e.start_exact
                             ? e.start_ns == child.parent_start_ns
                             : e.start_ticks == child.parent_start_ticks;
      if (match) return &e;
    } else if (!started_before(child, e) && (best == nullptr || started_before(*best, e))) {
      best = &e;
    }
  }
  return best;
}

std::vector<ProcessInfo> ProcessTable::lineage(uint32_t tgid, uint64_t start_ns,
                                               size_t max_depth) const {
  std::vector<ProcessInfo> chain;
  const ProcessInfo* p = find(tgid, start_ns);
  std::unordered_set<uint64_t> seen;
  while (p != nullptr && chain.size() < max_depth && seen.insert(p->serial).second) {
    chain.push_back(*p);
    p = find_parent(*p);
  }
  return chain;
}

size_t ProcessTable::reap(uint64_t older_than_ns) {
  size_t removed = 0;
  for (auto it = by_tgid_.begin(); it != by_tgid_.end();) {
    auto& bucket = it->second;
    const auto end = std::remove_if(bucket.begin(), bucket.end(), [&](const ProcessInfo& p) {
      return p.exited && p.exit_ns < older_than_ns;
    });
    removed += static_cast<size_t>(bucket.end() - end);
    bucket.erase(end, bucket.end());
    it = bucket.empty() ? by_tgid_.erase(it) : std::next(it);
  }
  size_ -= removed;
  stats_.reaped += removed;
  if (removed > 0) compact_exit_order();
  return removed;
}

Result<size_t> ProcessTable::seed_from_proc(const std::string& proc_root) {
  std::error_code ec;
  std::filesystem::directory_iterator it(proc_root, ec), end;
  if (ec) return make_error(proc_root + ": cannot list: " + ec.message());
  std::vector<ProcessInfo> found;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    uint32_t pid = 0;
    if (!parse_uint(std::string_view(name), pid) || pid == 0) continue;
    const std::string dir = proc_root + "/" + name;
    // stat and status are required; a process that vanished fails here and is skipped.
    Result<std::string> stat_text = read_bounded(dir + "/stat", kMaxStatBytes);
    if (!stat_text.ok()) continue;
    std::optional<StatFields> stat = parse_stat(*stat_text);
    if (!stat || stat->pid != pid) continue;
    Result<std::string> status_text = read_bounded(dir + "/status", kMaxStatusBytes);
    if (!status_text.ok()) continue;
    std::optional<Credentials> creds = parse_status(*status_text);
    if (!creds) continue;

    ProcessInfo p;
    p.tgid = pid;
    p.ppid = stat->ppid;
    p.start_ticks = stat->start_ticks;
    p.start_ns = stat->start_ticks * ns_per_tick_;
    p.comm = std::move(stat->comm);
    p.creds = *creds;
    p.seeded_from_proc = true;
    // Kernel threads have no cmdline and no exe; both are optional.
    if (Result<std::string> cmdline = read_bounded(dir + "/cmdline", options_.max_argv_bytes + 1);
        cmdline.ok()) {
      const bool cut = cmdline->size() > options_.max_argv_bytes;
      std::vector<std::string> argv = split_cmdline(*cmdline);
      if (cut && !argv.empty()) argv.pop_back();  // a fragment of an argument
      set_argv(p, std::move(argv), cut);
    }
    char target[PATH_MAX];
    const ssize_t n = ::readlink((dir + "/exe").c_str(), target, sizeof target);
    if (n > 0 && static_cast<size_t>(n) < sizeof target)
      p.exe.assign(target, static_cast<size_t>(n));
    if (cgroups_ != nullptr) {
      if (Result<std::string> cg = read_bounded(dir + "/cgroup", kMaxCgroupFileBytes); cg.ok()) {
        if (std::optional<std::string> path = unified_cgroup_path(*cg)) {
          p.cgroup_id = cgroups_->id_for_path(*path).value_or(0);
        }
      }
    }
    found.push_back(std::move(p));
  }

  std::vector<std::pair<uint32_t, uint64_t>> added;  // (tgid, serial)
  for (ProcessInfo& p : found) {
    if (ProcessInfo* known = find_by_ticks(p.tgid, p.start_ticks)) {
      // Already known from kernel records (fresher) or an earlier seeding: fill what is missing.
      if (known->seeded_from_proc || known->exe.empty()) known->exe = std::move(p.exe);
      if (known->seeded_from_proc || known->argv.empty()) {
        known->argv = std::move(p.argv);
        known->argv_truncated = p.argv_truncated;
      }
      if (known->seeded_from_proc) {
        known->ppid = p.ppid;
        known->creds = p.creds;
        known->comm = std::move(p.comm);
      }
      if (p.cgroup_id != 0) known->cgroup_id = p.cgroup_id;
      added.emplace_back(known->tgid, known->serial);
      continue;
    }
    const ProcessInfo* inserted = insert(std::move(p));
    added.emplace_back(inserted->tgid, inserted->serial);
  }

  // Link parents. /proc names a live parent by pid; its start must not be after the child's,
  // or the pid was reused between the two reads.
  for (const auto& [tgid, serial] : added) {
    ProcessInfo* p = find_serial(tgid, serial);
    if (p == nullptr || p->parent_start_known) continue;
    const ProcessInfo* parent = find_parent(*p);
    if (parent == nullptr) continue;
    p->parent_start_known = true;
    p->parent_start_exact = parent->start_exact;
    p->parent_start_ns = parent->start_ns;
    p->parent_start_ticks = parent->start_ticks;
  }
  return added.size();
}

}  // namespace ritma::capture
