// Cgroup v2 id -> path -> container/unit. The path patterns are those the runtimes' cgroup
// drivers write (runc/crun's systemd and cgroupfs drivers, as used by docker, containerd,
// cri-o, podman and kubelet); see parse_cgroup_path.
#include "capture/cgroup_resolver.h"

#include <sys/stat.h>

#include <array>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace ritma::capture {

namespace {

constexpr size_t kMaxUnresolvable = 1u << 16;

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

// Every supported runtime names containers by the full 64-hex id in cgroup paths; shorter
// hex strings are not accepted anywhere, so names like "session-3.scope" or a 12-hex directory
// are never mistaken for containers.
bool is_container_id(std::string_view s) {
  return s.size() == 64 && is_lower_hex(s);
}

// A Kubernetes pod UID: a UUID (8-4-4-4-12 lowercase hex) or, for static pods, the 32-hex
// hash kubelet uses instead.
bool is_pod_uid(std::string_view s) {
  if (s.size() == 32) return is_lower_hex(s);
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_pos != (s[i] == '-')) return false;
    if (!dash_pos && !is_lower_hex(s.substr(i, 1))) return false;
  }
  return true;
}

bool ends_with_unit_suffix(std::string_view c) {
  return (c.ends_with(".service") && c.size() > 8) || (c.ends_with(".scope") && c.size() > 6);
}

struct PrefixRule {
  std::string_view prefix;
  ContainerRuntime runtime;
  bool monitor;
  bool scope_required;  // only "<prefix><id>.scope" (systemd driver); else also "<prefix><id>"
};

// Longer prefixes first: "crio-conmon-" must be tried before "crio-".
constexpr std::array<PrefixRule, 6> kPrefixRules = {{
    {"cri-containerd-", ContainerRuntime::kContainerd, false, true},
    {"crio-conmon-", ContainerRuntime::kCrio, true, false},
    {"crio-", ContainerRuntime::kCrio, false, false},
    {"libpod-conmon-", ContainerRuntime::kPodman, true, false},
    {"libpod-", ContainerRuntime::kPodman, false, false},
    {"docker-", ContainerRuntime::kDocker, false, true},
}};

// Whether `comp` names a container; if so fills the container fields of `out`.
bool match_container(std::string_view comp, std::string_view parent, bool under_kubepods,
                     ContainerInfo& out) {
  for (const PrefixRule& rule : kPrefixRules) {
    if (!comp.starts_with(rule.prefix)) continue;
    std::string_view rest = comp.substr(rule.prefix.size());
    const bool scoped = rest.ends_with(".scope");
    if (scoped) rest.remove_suffix(6);
    if (!scoped && rule.scope_required) return false;
    if (!is_container_id(rest)) return false;
    out.container_id = std::string(rest);
    out.runtime = rule.runtime;
    out.monitor = rule.monitor;
    return true;
  }
  if (!is_container_id(comp)) return false;
  if (parent == "docker") {
    out.runtime = ContainerRuntime::kDocker;
  } else if (under_kubepods) {
    out.runtime = ContainerRuntime::kCri;
  } else {
    return false;
  }
  out.container_id = std::string(comp);
  out.monitor = false;
  return true;
}

// "pod<uid>" (cgroupfs driver) or "kubepods[-<qos>]-pod<uid with '_' for '-'>.slice" (systemd
// driver); the UID in dashed form, or "" when `comp` is neither.
std::string match_pod(std::string_view comp) {
  std::string uid;
  if (comp.starts_with("pod")) {
    uid = std::string(comp.substr(3));
  } else if (comp.starts_with("kubepods-") && comp.ends_with(".slice")) {
    const std::string_view stem = comp.substr(0, comp.size() - 6);
    const size_t at = stem.rfind("-pod");
    if (at == std::string_view::npos) return {};
    uid = std::string(stem.substr(at + 4));
    for (char& c : uid) {
      if (c == '_') c = '-';
    }
  } else {
    return {};
  }
  return is_pod_uid(uid) ? uid : std::string();
}

bool is_kubepods(std::string_view comp) {
  return comp == "kubepods" || comp.starts_with("kubepods.") || comp.starts_with("kubepods-");
}

// Undoes the octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) of mountinfo.
std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view d = s.substr(i + 1, 3);
      if (d[0] >= '0' && d[0] <= '3' && d[1] >= '0' && d[1] <= '7' && d[2] >= '0' && d[2] <= '7') {
        out.push_back(static_cast<char>((d[0] - '0') * 64 + (d[1] - '0') * 8 + (d[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    const size_t stop = end == std::string_view::npos ? s.size() : end;
    if (stop > start) out.push_back(s.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// "/a/b" from "a/b/", "/a//b" and the like; "/" for the root.
std::string normalize_path(std::string_view path) {
  std::string out;
  for (std::string_view comp : split(path, '/')) {
    out.push_back('/');
    out.append(comp);
  }
  return out.empty() ? std::string("/") : out;
}

}  // namespace

std::string_view runtime_name(ContainerRuntime runtime) {
  switch (runtime) {
    case ContainerRuntime::kNone:
      return "";
    case ContainerRuntime::kDocker:
      return "docker";
    case ContainerRuntime::kContainerd:
      return "containerd";
    case ContainerRuntime::kCrio:
      return "cri-o";
    case ContainerRuntime::kPodman:
      return "podman";
    case ContainerRuntime::kCri:
      return "cri";
  }
  return "";
}

CgroupResolver::CgroupResolver(std::filesystem::path root, CgroupResolverOptions options)
    : root_(std::move(root)), options_(options) {}

Result<CgroupResolver> CgroupResolver::open_system(const std::string& mountinfo_path,
                                                   CgroupResolverOptions options) {
  std::ifstream in(mountinfo_path);
  if (!in) return make_error(mountinfo_path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(mountinfo_path + ": read failed");
  RITMA_ASSIGN_OR_RETURN(std::string mount, find_cgroup2_mount(text.str()));
  return CgroupResolver(std::filesystem::path(mount), options);
}

Result<std::string> CgroupResolver::find_cgroup2_mount(std::string_view mountinfo) {
  // Line: id parent major:minor root mount-point options [optional fields...] - fstype source
  // super-options.
  std::string chosen;
  int chosen_rank = 0;
  for (std::string_view line : split(mountinfo, '\n')) {
    const std::vector<std::string_view> f = split(line, ' ');
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (sep + 1 >= f.size() || f.size() < 5 || f[sep + 1] != "cgroup2") continue;
    std::string mount_point = unescape_mountinfo(f[4]);
    const int rank = mount_point == "/sys/fs/cgroup"           ? 3
                     : mount_point == "/sys/fs/cgroup/unified" ? 2
                                                               : 1;
    if (rank > chosen_rank) {
      chosen = std::move(mount_point);
      chosen_rank = rank;
    }
  }
  if (chosen_rank == 0) return make_error("no cgroup2 filesystem is mounted (mountinfo)");
  return chosen;
}

ContainerInfo CgroupResolver::parse_cgroup_path(std::string_view path) {
  ContainerInfo info;
  bool under_kubepods = false;
  std::string_view parent;
  for (std::string_view comp : split(path, '/')) {
    ContainerInfo found;
    if (match_container(comp, parent, under_kubepods, found)) {
      info.container_id = std::move(found.container_id);
      info.runtime = found.runtime;
      info.monitor = found.monitor;
    } else if (ends_with_unit_suffix(comp)) {
      info.unit = std::string(comp);
    }
    if (under_kubepods) {
      std::string uid = match_pod(comp);
      if (!uid.empty()) info.pod_uid = std::move(uid);
    }
    if (is_kubepods(comp)) {
      under_kubepods = true;
      std::string uid = match_pod(comp);  // "kubepods-pod<uid>.slice" (guaranteed QoS)
      if (!uid.empty()) info.pod_uid = std::move(uid);
    }
    parent = comp;
  }
  return info;
}

std::optional<std::string> CgroupResolver::path_for_id(uint64_t id) {
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  if (unresolvable_.contains(id)) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  if (walked_ && now - last_walk_ < options_.min_refresh_interval) return std::nullopt;
  const size_t seen = refresh();
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  // The id came from a live task, so its cgroup existed before this walk began; a complete
  // walk that did not find it will not find it later either (e.g. the cgroup was removed).
  if (seen < options_.max_cgroups) {
    if (unresolvable_.size() >= kMaxUnresolvable) unresolvable_.clear();
    unresolvable_.insert(id);
  }
  return std::nullopt;
}

std::optional<uint64_t> CgroupResolver::id_for_path(std::string_view path) {
  const std::string rel = normalize_path(path);
  for (std::string_view comp : split(rel, '/')) {
    if (comp == "..") return std::nullopt;
  }
  const std::string full = rel == "/" ? root_.string() : root_.string() + rel;
  struct stat st;
  if (::stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  const uint64_t id = st.st_ino;
  paths_[id] = rel;
  unresolvable_.erase(id);
  return id;
}

const ContainerInfo* CgroupResolver::info_for_id(uint64_t id) {
  if (auto it = infos_.find(id); it != infos_.end()) return &it->second;
  std::optional<std::string> path = path_for_id(id);
  if (!path) return nullptr;
  if (infos_.size() >= options_.max_cgroups) infos_.clear();
  return &infos_.emplace(id, parse_cgroup_path(*path)).first->second;
}

size_t CgroupResolver::refresh() {
  last_walk_ = std::chrono::steady_clock::now();
  walked_ = true;
  ++walks_;
  // Entries of removed cgroups are kept (in-flight events may still name them), but not
  // without bound.
  if (paths_.size() > 2 * options_.max_cgroups) {
    paths_.clear();
    infos_.clear();
  }
  struct Pending {
    std::filesystem::path dir;
    std::string rel;
    int depth;
  };
  std::vector<Pending> stack;
  struct stat st;
  if (::lstat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  paths_[st.st_ino] = "/";
  size_t seen = 1;
  stack.push_back({root_, "", 0});
  while (!stack.empty() && seen < options_.max_cgroups) {
    Pending cur = std::move(stack.back());
    stack.pop_back();
    std::error_code ec;
    // A directory that vanishes mid-walk only ends its own listing.
    std::filesystem::directory_iterator it(cur.dir, ec), end;
    for (; !ec && it != end && seen < options_.max_cgroups; it.increment(ec)) {
      std::error_code type_ec;
      if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
      const std::filesystem::path& child = it->path();
      if (::lstat(child.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      std::string rel = cur.rel + "/" + child.filename().string();
      ++seen;
      if (cur.depth + 1 < options_.max_depth) stack.push_back({child, rel, cur.depth + 1});
      paths_[st.st_ino] = std::move(rel);
    }
  }
  return seen;
}

}  // namespace ritma::capture
