// CgroupResolver: from the cgroup v2 id that BPF reports (bpf_get_current_cgroup_id) to the
// cgroup's path, and from the path to what a person asks about: the container id, its runtime,
// the Kubernetes pod and the systemd unit.
//
// A cgroup v2 id is the inode number of the cgroup's directory in the unified hierarchy, and
// on 64-bit kernels ids are never reused within a boot, so a cached id -> path map stays true
// for as long as the cgroup exists. The map is built by walking the hierarchy and rebuilt
// (rate-limited) when an id is not found, so cgroups created after start are picked up.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/result.h"

namespace ritma::capture {

enum class ContainerRuntime : uint8_t {
  kNone = 0,
  kDocker,      // docker-<id>.scope, /docker/<id>
  kContainerd,  // cri-containerd-<id>.scope
  kCrio,        // crio-<id>.scope, crio-conmon-<id>.scope, crio-<id> (cgroupfs driver)
  kPodman,      // libpod-<id>.scope, libpod-conmon-<id>.scope, libpod-<id> (cgroupfs driver)
  // A bare <id> under kubepods (kubelet's cgroupfs driver): some CRI runtime (containerd, or
  // docker through dockershim) that the path does not name.
  kCri,
};

// "docker", "containerd", "cri-o", "podman", "cri", or "" for kNone.
std::string_view runtime_name(ContainerRuntime runtime);

// What a cgroup path says about the processes in it. Every field is empty when the path does
// not say it.
struct ContainerInfo {
  std::string container_id;  // 64 lowercase hex characters
  ContainerRuntime runtime = ContainerRuntime::kNone;
  // The cgroup is the runtime's monitor for that container (crio-conmon-, libpod-conmon-),
  // not the container itself.
  bool monitor = false;
  std::string pod_uid;  // Kubernetes pod UID (dashed form), when under kubepods
  std::string unit;     // systemd unit: "ssh.service", "session-3.scope"

  bool operator==(const ContainerInfo&) const = default;
};

struct CgroupResolverOptions {
  int max_depth = 32;             // cgroups more levels than this below the root are not seen
  size_t max_cgroups = 1u << 18;  // a walk stops after this many directories
  // A lookup miss rebuilds the map at most this often; refresh() is not limited.
  std::chrono::milliseconds min_refresh_interval{1000};
};

class CgroupResolver {
 public:
  // The unified hierarchy mounted at `root`, an existing directory. Nothing is read until the
  // first lookup.
  explicit CgroupResolver(std::filesystem::path root, CgroupResolverOptions options = {});

  // Finds the cgroup v2 mount in `mountinfo_path` (the format of /proc/self/mountinfo). Fails
  // when the file cannot be read or no cgroup2 filesystem is mounted.
  static Result<CgroupResolver> open_system(
      const std::string& mountinfo_path = "/proc/self/mountinfo",
      CgroupResolverOptions options = {});

  // The mount point of the cgroup2 filesystem described in mountinfo text. Prefers
  // /sys/fs/cgroup (pure v2) and /sys/fs/cgroup/unified (hybrid) over other mount points, and
  // decodes the octal escapes the kernel writes for spaces and the like.
  static Result<std::string> find_cgroup2_mount(std::string_view mountinfo);

  // Pure: what `path` (as in /proc/<pid>/cgroup's "0::<path>" line, e.g.
  // "/system.slice/docker-<id>.scope") says. The innermost container wins when containers
  // nest; the unit is the last .service or .scope component that is not a container scope.
  static ContainerInfo parse_cgroup_path(std::string_view path);

  const std::filesystem::path& root() const { return root_; }

  // The cgroup's path relative to the hierarchy root ("/" for the root itself), or nullopt
  // when no such cgroup was found. A miss triggers a rebuild of the map, at most once per
  // min_refresh_interval; an id still missing right after a rebuild is remembered as
  // unresolvable and never walked for again.
  std::optional<std::string> path_for_id(uint64_t id);

  // The id (directory inode) of the cgroup at `path` relative to the root, by stat(2); the
  // pair is cached. nullopt when the path does not exist or escapes the hierarchy ("..").
  std::optional<uint64_t> id_for_path(std::string_view path);

  // parse_cgroup_path(path_for_id(id)), cached per id. nullptr when the id is unknown. The
  // pointer stays valid until the next call of a non-const method.
  const ContainerInfo* info_for_id(uint64_t id);

  // Walks the hierarchy now and adds what it finds to the map (cgroups that vanished keep
  // their entries: their ids are never reused). Returns the number of cgroups seen.
  size_t refresh();

  size_t cached_paths() const { return paths_.size(); }
  uint64_t walks() const { return walks_; }

 private:
  std::filesystem::path root_;
  CgroupResolverOptions options_;
  std::unordered_map<uint64_t, std::string> paths_;
  std::unordered_map<uint64_t, ContainerInfo> infos_;
  std::unordered_set<uint64_t> unresolvable_;
  std::chrono::steady_clock::time_point last_walk_{};
  bool walked_ = false;
  uint64_t walks_ = 0;
};

}  // namespace ritma::capture
