// A run's cgroups (see cgroup_limits.h). Every file write is checked and read back; nothing is
// assumed from the layout alone.
#include "exec/cgroup_limits.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "core/text_lines.h"
#include "core/unique_fd.h"

namespace ritma::exec {
namespace {

using Hierarchy = CgroupHierarchy;

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Writes `content` to an existing file; 0 or the errno.
int write_file(const std::string& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  const ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return errno;
  return static_cast<size_t>(n) == content.size() ? 0 : EIO;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of "key N" in a flat-keyed cgroup file (memory.events, pids.events, cpu.stat,
// memory.oom_control); -1 when absent.
int64_t keyed_value(const std::string& path, std::string_view key) {
  std::istringstream in(read_all(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ' ') {
      return std::strtoll(line.c_str() + key.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

int64_t number_file(const std::string& path) {
  const std::string text = read_first_line(path);
  if (text.empty() || text[0] < '0' || text[0] > '9') return -1;
  return std::strtoll(text.c_str(), nullptr, 10);
}

std::string unescape_mount_path(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

// Where this process's cgroup is inside `h`'s mount, "" when outside the mount's root.
std::string own_dir(const Hierarchy& h, const std::string& controller) {
  const std::string own = own_cgroup_path(controller);
  if (h.root == "/") return own == "/" ? h.mount_point : h.mount_point + own;
  if (own == h.root) return h.mount_point;
  if (own.rfind(h.root + "/", 0) == 0) return h.mount_point + own.substr(h.root.size());
  return "";
}

std::atomic<uint64_t> g_sequence{0};

// Creates <base>/<name> under the hierarchy's root, else under this process's own cgroup.
// Returns the directory, or "" with `why` set.
std::string make_cgroup(const Hierarchy& h, const std::string& controller, const std::string& name,
                        std::string& why) {
  std::vector<std::string> bases{h.mount_point};
  const std::string own = own_dir(h, controller);
  if (!own.empty() && own != h.mount_point) bases.push_back(own);
  std::vector<std::string> failures;
  for (const std::string& base : bases) {
    const std::string dir = base + "/" + name;
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    failures.push_back("mkdir " + dir + ": " + errno_text(errno));
  }
  why = join(failures, "; ");
  return "";
}

}  // namespace

std::vector<CgroupHierarchy> read_cgroup_hierarchies() {
  std::vector<CgroupHierarchy> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const std::vector<std::string> before = split(std::string_view(line).substr(0, dash), ' ');
    const std::vector<std::string> after = split(std::string_view(line).substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    CgroupHierarchy h;
    if (after[0] == "cgroup2") {
      h.v2 = true;
    } else if (after[0] != "cgroup") {
      continue;
    }
    h.root = unescape_mount_path(before[3]);
    h.mount_point = unescape_mount_path(before[4]);
    h.controllers = h.v2 ? split(read_first_line(h.mount_point + "/cgroup.controllers"), ' ')
                         : split(after[2], ',');
    out.push_back(std::move(h));
  }
  return out;
}

std::string own_cgroup_path(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::vector<std::string> controllers =
        split(std::string_view(line).substr(first + 1, second - first - 1), ',');
    const bool match =
        controller.empty() ? line.compare(0, 3, "0::") == 0 : has(controllers, controller);
    if (match) {
      const std::string path = line.substr(second + 1);
      return path.empty() ? "/" : path;
    }
  }
  return "/";
}

Result<std::unique_ptr<RunCgroups>> RunCgroups::create(const CgroupLimits& limits,
                                                       std::vector<std::string>& unavailable) {
  std::unique_ptr<RunCgroups> cg(new RunCgroups());
  const std::vector<Hierarchy> hierarchies = read_cgroup_hierarchies();
  const Hierarchy* v2 = nullptr;
  auto v1_with = [&](const char* controller) -> const Hierarchy* {
    for (const Hierarchy& h : hierarchies) {
      if (!h.v2 && has(h.controllers, controller)) return &h;
    }
    return nullptr;
  };
  for (const Hierarchy& h : hierarchies) {
    if (h.v2 && v2 == nullptr) v2 = &h;
  }
  const std::string name =
      "requiem-" + std::to_string(::getpid()) + "-" + std::to_string(g_sequence.fetch_add(1));

  // Which controllers the v2 hierarchy must provide (those with no v1 mount).
  std::vector<std::string> v2_controllers;
  if (v2 != nullptr) {
    if (limits.memory_bytes > 0 && has(v2->controllers, "memory")) {
      v2_controllers.push_back("memory");
    }
    if (limits.pids > 0 && has(v2->controllers, "pids")) v2_controllers.push_back("pids");
    if (limits.cpu_millis > 0 && has(v2->controllers, "cpu")) v2_controllers.push_back("cpu");
  }

  if (v2 != nullptr) {
    std::string why;
    // Controllers are handed down through the parent's subtree_control; at the root this is
    // allowed even with processes in it.
    for (const std::string& c : v2_controllers) {
      const std::string own = own_dir(*v2, "");
      (void)write_file(v2->mount_point + "/cgroup.subtree_control", "+" + c);
      if (!own.empty() && own != v2->mount_point) {
        (void)write_file(own + "/cgroup.subtree_control", "+" + c);
      }
    }
    cg->v2_dir_ = make_cgroup(*v2, "", name, why);
    if (cg->v2_dir_.empty()) {
      unavailable.push_back("cgroup_v2_id: " + why);
    } else {
      cg->created_.push_back(cg->v2_dir_);
      struct stat st;
      if (::stat(cg->v2_dir_.c_str(), &st) == 0) cg->v2_id_ = st.st_ino;
      cg->v2_limits_ = !v2_controllers.empty();
    }
  } else {
    unavailable.push_back("cgroup_v2_id: no cgroup2 hierarchy is mounted");
  }

  // `required`: a limit depends on it (else it is an aid, e.g. cpuacct's figures, and its
  // absence is not reported as a missing feature).
  auto v1_dir = [&](const char* controller, std::string& dir, bool required = true) -> bool {
    const Hierarchy* h = v1_with(controller);
    if (h == nullptr) return false;
    std::string why;
    dir = make_cgroup(*h, controller, name, why);
    if (dir.empty()) {
      if (required) unavailable.push_back(std::string("cgroup_") + controller + ": " + why);
      return false;
    }
    cg->created_.push_back(dir);
    return true;
  };
  // Writes a limit and records what the kernel kept; false (and `unavailable`) on failure.
  auto set = [&](const std::string& what, const std::string& dir, const std::string& file,
                 const std::string& value) {
    const std::string path = dir + "/" + file;
    const int err = write_file(path, value);
    if (err != 0) {
      unavailable.push_back(what + ": writing " + value + " to " + path +
                            " failed: " + errno_text(err));
      return false;
    }
    cg->applied_.push_back(file + "=" + read_first_line(path));
    return true;
  };
  auto in_v2 = [&](const char* c) { return cg->v2_limits_ && has(v2_controllers, c); };

  if (limits.memory_bytes > 0) {
    const std::string bytes = std::to_string(limits.memory_bytes);
    if (in_v2("memory")) {
      if (set("cgroup_memory", cg->v2_dir_, "memory.max", bytes) &&
          path_exists(cg->v2_dir_ + "/memory.swap.max")) {
        set("cgroup_memory", cg->v2_dir_, "memory.swap.max", "0");
      }
    } else if (v1_dir("memory", cg->memory_dir_)) {
      if (set("cgroup_memory", cg->memory_dir_, "memory.limit_in_bytes", bytes) &&
          path_exists(cg->memory_dir_ + "/memory.memsw.limit_in_bytes")) {
        // Memory plus swap held to the same figure: no escaping the limit into swap.
        set("cgroup_memory", cg->memory_dir_, "memory.memsw.limit_in_bytes", bytes);
      }
    } else if (v1_with("memory") == nullptr) {
      unavailable.push_back("cgroup_memory: no hierarchy has the memory controller");
    }
  }
  if (limits.pids > 0) {
    const std::string n = std::to_string(limits.pids);
    if (in_v2("pids")) {
      set("cgroup_pids", cg->v2_dir_, "pids.max", n);
    } else if (v1_dir("pids", cg->pids_dir_)) {
      set("cgroup_pids", cg->pids_dir_, "pids.max", n);
    } else if (v1_with("pids") == nullptr) {
      unavailable.push_back("cgroup_pids: no hierarchy has the pids controller");
    }
  }
  if (limits.cpu_millis > 0) {
    constexpr uint64_t kPeriodUs = 100000;
    const uint64_t quota = std::max<uint64_t>(1000, limits.cpu_millis * kPeriodUs / 1000);
    if (in_v2("cpu")) {
      set("cgroup_cpu", cg->v2_dir_, "cpu.max",
          std::to_string(quota) + " " + std::to_string(kPeriodUs));
    } else if (v1_dir("cpu", cg->cpu_dir_)) {
      if (set("cgroup_cpu", cg->cpu_dir_, "cpu.cfs_period_us", std::to_string(kPeriodUs))) {
        set("cgroup_cpu", cg->cpu_dir_, "cpu.cfs_quota_us", std::to_string(quota));
      }
    } else if (v1_with("cpu") == nullptr) {
      unavailable.push_back("cgroup_cpu: no hierarchy has the cpu controller");
    }
  }
  // Without a v2 cgroup: CPU use from cpuacct, and the freezer to kill without races.
  if (cg->v2_dir_.empty()) {
    v1_dir("cpuacct", cg->cpuacct_dir_, false);
    v1_dir("freezer", cg->freezer_dir_, false);
  }
  return cg;
}

RunCgroups::~RunCgroups() {
  remove();
}

Status RunCgroups::add_process(pid_t pid) const {
  const std::string text = std::to_string(pid);
  for (const std::string& dir : created_) {
    const int err = write_file(dir + "/cgroup.procs", text);
    if (err != 0) {
      return make_error("moving pid " + text + " into " + dir + " failed: " + errno_text(err));
    }
  }
  return {};
}

std::vector<std::string> RunCgroups::paths() const {
  std::vector<std::string> out;
  const std::pair<const char*, const std::string*> named[] = {
      {"v2", &v2_dir_},   {"memory", &memory_dir_},   {"pids", &pids_dir_},
      {"cpu", &cpu_dir_}, {"cpuacct", &cpuacct_dir_}, {"freezer", &freezer_dir_},
  };
  for (const auto& [label, dir] : named) {
    if (!dir->empty()) out.push_back(std::string(label) + "=" + *dir);
  }
  return out;
}

size_t RunCgroups::process_count() const {
  size_t most = 0;
  for (const std::string& dir : created_) {
    std::istringstream in(read_all(dir + "/cgroup.procs"));
    size_t n = 0;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) ++n;
    }
    most = std::max(most, n);
  }
  return most;
}

size_t RunCgroups::wait_empty(int wait_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    const size_t n = process_count();
    if (n == 0 || std::chrono::steady_clock::now() >= deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void RunCgroups::kill_all(int wait_ms) const {
  if (created_.empty()) return;
  const bool killed_by_v2 = !v2_dir_.empty() && write_file(v2_dir_ + "/cgroup.kill", "1") == 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    if (!killed_by_v2) {
      // v1: freeze so nothing forks between reading the list and the kill, then thaw so the
      // kills are delivered.
      if (!freezer_dir_.empty()) (void)write_file(freezer_dir_ + "/freezer.state", "FROZEN");
      for (const std::string& dir : created_) {
        std::istringstream in(read_all(dir + "/cgroup.procs"));
        std::string line;
        while (std::getline(in, line)) {
          const long pid = std::strtol(line.c_str(), nullptr, 10);
          if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
      }
      if (!freezer_dir_.empty()) (void)write_file(freezer_dir_ + "/freezer.state", "THAWED");
    }
    if (process_count() == 0 || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

CgroupUsage RunCgroups::usage() const {
  CgroupUsage u;
  const std::string memory_dir =
      v2_limits_ && path_exists(v2_dir_ + "/memory.events") ? v2_dir_ : memory_dir_;
  if (!memory_dir.empty()) {
    const bool v2_files = memory_dir == v2_dir_;
    const int64_t kills =
        keyed_value(memory_dir + (v2_files ? "/memory.events" : "/memory.oom_control"), "oom_kill");
    if (kills >= 0) {
      u.oom_kills = static_cast<uint64_t>(kills);
      u.oom_known = true;
    }
    const int64_t peak =
        number_file(memory_dir + (v2_files ? "/memory.peak" : "/memory.max_usage_in_bytes"));
    if (peak > 0) u.memory_peak_bytes = static_cast<uint64_t>(peak);
  }
  const std::string pids_dir =
      v2_limits_ && path_exists(v2_dir_ + "/pids.events") ? v2_dir_ : pids_dir_;
  if (!pids_dir.empty()) {
    const int64_t max = keyed_value(pids_dir + "/pids.events", "max");
    if (max > 0) u.pids_max_events = static_cast<uint64_t>(max);
  }
  if (!v2_dir_.empty()) {
    // cpu.stat's usage lines are core v2 files: present without the cpu controller.
    const std::string stat = v2_dir_ + "/cpu.stat";
    u.cpu_usage_usec = keyed_value(stat, "usage_usec");
    u.cpu_user_usec = keyed_value(stat, "user_usec");
    u.cpu_system_usec = keyed_value(stat, "system_usec");
  } else if (!cpuacct_dir_.empty()) {
    auto usec = [](int64_t ns) { return ns < 0 ? int64_t{-1} : ns / 1000; };
    u.cpu_usage_usec = usec(number_file(cpuacct_dir_ + "/cpuacct.usage"));
    u.cpu_user_usec = usec(number_file(cpuacct_dir_ + "/cpuacct.usage_user"));
    u.cpu_system_usec = usec(number_file(cpuacct_dir_ + "/cpuacct.usage_sys"));
  }
  return u;
}

void RunCgroups::remove() {
  // The last tasks of a killed run may still be leaving: retry EBUSY for up to ~200 ms.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (::rmdir(it->c_str()) == 0 || errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  created_.clear();
}

}  // namespace ritma::exec
