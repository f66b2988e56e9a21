// Event: one thing the sensor saw, after decoding and attribution. This is the in-memory form
// every later stage uses (hot index, sealing, queries). Its canonical, hashed form is the
// `ritma-ev@1` CBOR atom (capture/event_atom.h, docs/FORMAT.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/bpf/sensor_event.h"

namespace ritma::capture {

enum class EventType : uint16_t {
  kExec = 1,
  kFork = 2,
  kExit = 3,
  kFile = 4,
  kNet = 5,
  kPriv = 6,
  kLoss = 100,      // records the kernel could not deliver (ring buffer full, pairing overflow)
  kFiltered = 101,  // events skipped by policy, counted (e.g. read-only opens of noisy paths)
  kRun = 200,       // sensor run start: node, boot, version, config digest
  kGap = 201,       // how the previous run ended (clean stop, or unclean)
};

// Stable lowercase names ("exec", "open", "connect", ...) used by the CLI and the hot index:
// for FILE/NET/PRIV events the op's name, else the type's.
std::string_view event_name(EventType type, uint16_t op);

// A 16-byte actor id: BLAKE3("ritma-actor@1" || boot id || u32le(tgid) || u64le(start_ns))[0:16].
// Two processes with the same pid but different start times get different ids.
using ActorId = std::array<uint8_t, 16>;
// The kernel's boot id (/proc/sys/kernel/random/boot_id) as 16 raw bytes.
using BootId = std::array<uint8_t, 16>;

struct NetAddress {
  uint16_t family = 0;           // AF_INET, AF_INET6, AF_UNIX, or 0 when none
  std::array<uint8_t, 16> ip{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;
  std::string unix_path;          // AF_UNIX only
  std::string to_string() const;  // "10.0.0.1:53", "[::1]:8080", "unix:/run/x.sock", ""
};

struct Event {
  // Order and clocks.
  uint64_t seq = 0;      // per-boot sequence number, assigned in ring-buffer order
  uint64_t mono_ns = 0;  // CLOCK_BOOTTIME ns, from BPF
  int64_t wall_ns = 0;   // Unix time ns: mono_ns + the calibrated offset
  EventType type = EventType::kExec;
  uint16_t op = 0;     // enum ritma_op for kFile/kNet/kPriv
  uint32_t flags = 0;  // RITMA_F_*
  int64_t result = 0;  // syscall return (negative errno on failure); exit status for kExit

  // Actor.
  uint32_t pid = 0, tid = 0, ppid = 0;
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  uint64_t start_ns = 0;         // process start, boot-time ns
  uint64_t parent_start_ns = 0;  // the real parent's start, boot-time ns (not sealed)
  ActorId actor{};
  std::string comm;
  std::string exe;  // from the process table (last exec), when known
  uint64_t cgroup_id = 0;
  std::string container_id;  // docker/containerd/cri-o/podman id, when the cgroup names one
  std::string unit;          // systemd unit, when the cgroup names one
  uint32_t mntns = 0, pidns = 0, netns = 0;

  // Type fields (which are meaningful depends on type/op; docs/FORMAT.md lists them).
  std::string path;
  std::string path2;
  std::vector<std::string> argv;
  uint64_t arg0 = 0, arg1 = 0, arg2 = 0, arg3 = 0;
  NetAddress addr;
  std::string dns_name;
  uint16_t dns_type = 0;
  uint64_t count = 0;  // kLoss / kFiltered: how many
};

}  // namespace ritma::capture
