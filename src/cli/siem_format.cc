// ECS and OCSF renderings of Ritma events.
//
// Schemas followed:
//   - ECS 8.11 (https://www.elastic.co/guide/en/ecs/8.11/): field names from the field
//     reference; event.category / event.type values from the categorization allowed-value
//     lists, using only the event types each category expects.
//   - OCSF 1.1.0 (https://schema.ocsf.io/1.1.0/): class, category and activity ids, the
//     metadata, process, file, network endpoint and DNS query objects.
//
// Rules: a field is set only from what the event holds (or follows from it with certainty,
// such as "a successful execve ran a regular file"); nothing is guessed, and the node id,
// which an event does not carry, is left out. What a schema has no field for goes to
// `ritma` (ECS) or `unmapped` (OCSF), so no part of an event is dropped.
#include "cli/siem_format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"

namespace ritma::cli {
namespace {

using capture::Event;
using capture::EventType;
using nlohmann::json;

// ---- Shared helpers ----------------------------------------------------------------------

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// RFC 3339 in UTC with nanoseconds: 2026-11-22T03:12:00.500000000Z.
std::string utc_ns(int64_t wall_ns) {
  const int64_t secs = floor_div(wall_ns, 1000000000LL);
  const int64_t ns = wall_ns - secs * 1000000000LL;
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(wall_ns);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char tail[24];
  std::snprintf(tail, sizeof tail, ".%09lldZ", static_cast<long long>(ns));
  return std::string(buf, n) + tail;
}

std::string errno_name(int64_t negative_result) {
  const int64_t e = -negative_result;
  if (e > 0 && e < 4096) {
    if (const char* name = strerrorname_np(static_cast<int>(e))) return name;
  }
  return "errno " + std::to_string(e);
}

bool has_process(const Event& e) {
  switch (e.type) {
    case EventType::kExec:
    case EventType::kFork:
    case EventType::kExit:
    case EventType::kFile:
    case EventType::kNet:
    case EventType::kPriv:
      return true;
    default:
      return false;
  }
}

// Events whose `result` is a syscall's return value (negative errno on failure).
bool result_is_syscall(const Event& e) {
  return e.type == EventType::kExec || e.type == EventType::kFile || e.type == EventType::kNet ||
         e.type == EventType::kPriv;
}

// A non-blocking connect() that returns EINPROGRESS has started, not failed.
bool in_progress(const Event& e) {
  return e.type == EventType::kNet && e.op == RITMA_OP_CONNECT && e.result == -EINPROGRESS;
}

std::string octal(uint64_t mode) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(mode));
  return buf;
}

// The last component of a path, as ECS file.name and OCSF file.name want it.
std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path.size() == 1) return std::string(path);
  return std::string(path.substr(slash + 1));
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

bool is_ip(const capture::NetAddress& a) {
  return a.family == AF_INET || a.family == AF_INET6;
}

std::string ip_text(const capture::NetAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(a.family, a.ip.data(), buf, sizeof buf) == nullptr) return "";
  return buf;
}

// An id argument of set*id(): (uid_t)-1 means "leave unchanged".
bool id_given(uint64_t arg) {
  return (arg & 0xffffffffu) != 0xffffffffu;
}

// DNS QTYPE mnemonics (RFC 1035 and successors); others as RFC 3597's TYPEnnn.
std::string dns_type_name(uint16_t t) {
  switch (t) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 13:
      return "HINFO";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 48:
      return "DNSKEY";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 99:
      return "SPF";
    case 251:
      return "IXFR";
    case 252:
      return "AXFR";
    case 255:
      return "ANY";
    case 257:
      return "CAA";
    default:
      return "TYPE" + std::to_string(t);
  }
}

const char* loss_source_name(uint64_t source) {
  switch (source) {
    case 1:
      return "ring_buffer_full";
    case 2:
      return "pairing_map_full";
    case 3:
      return "undecodable_record";
    case 4:
      return "readonly_open_policy";
    case 5:
      return "sensor_self_excluded";
    default:
      return "unknown";
  }
}

const char* gap_previous_name(uint64_t previous) {
  switch (previous) {
    case 0:
      return "none";
    case 1:
      return "stopped_cleanly";
    case 2:
      return "ended_uncleanly";
    default:
      return "unknown";
  }
}

// What ECS and OCSF have no field for, common to both renderings: the raw record (ids,
// clocks, flags, result, integer arguments) and the process context beyond pid/comm/exe.
json ritma_extras(const Event& e) {
  json r = {
      {"seq", e.seq},         {"type_id", static_cast<int>(e.type)},
      {"op", e.op},           {"flags", e.flags},
      {"result", e.result},   {"mono_ns", e.mono_ns},
      {"wall_ns", e.wall_ns}, {"args", json::array({e.arg0, e.arg1, e.arg2, e.arg3})},
  };
  json flag_names = json::array();
  if (e.flags & RITMA_F_PATH_TRUNCATED) flag_names.push_back("path_truncated");
  if (e.flags & RITMA_F_PATH2_TRUNCATED) flag_names.push_back("path2_truncated");
  if (e.flags & RITMA_F_ARGV_TRUNCATED) flag_names.push_back("argv_truncated");
  if (e.flags & RITMA_F_EXEC_MEMFD) flag_names.push_back("exec_memfd");
  if (e.flags & RITMA_F_EXEC_DELETED) flag_names.push_back("exec_deleted");
  if (!flag_names.empty()) r["flag_names"] = std::move(flag_names);
  if (has_process(e)) {
    r["start_ns"] = e.start_ns;
    r["cgroup_id"] = e.cgroup_id;
    r["namespaces"] = {{"mnt", e.mntns}, {"pid", e.pidns}, {"net", e.netns}};
    if (!e.unit.empty()) r["unit"] = e.unit;
  }
  if (e.type == EventType::kLoss || e.type == EventType::kFiltered) {
    r["count"] = e.count;
    r["source"] = e.arg0;
    r["source_name"] = loss_source_name(e.arg0);
  }
  if (e.type == EventType::kRun) r["run_id"] = e.arg0;
  if (e.type == EventType::kGap) {
    r["previous_run"] = gap_previous_name(e.arg0);
    if (e.arg0 != 0) r["previous_run_id"] = e.arg1;
    if (e.arg2 != 0) {
      r["previous_end_wall_ns"] = e.arg2;
      r["previous_end"] = utc_ns(static_cast<int64_t>(e.arg2));
    }
    r["hot_index_last_seq"] = e.count;
    r["sealed_seq_end"] = e.arg3;
  }
  if (e.type == EventType::kExit) {
    r["exit_signal"] = e.result & 0x7f;
    r["exit_status"] = (e.result >> 8) & 0xff;
    r["core_dumped"] = (e.result & 0x80) != 0;
  }
  return r;
}

// Path, path2 and argv of the event types whose schema mapping has no place for them.
void add_raw_strings(json& r, const Event& e) {
  if (!e.path.empty()) r["path"] = e.path;
  if (!e.path2.empty()) r["path2"] = e.path2;
  if (!e.argv.empty()) r["argv"] = e.argv;
}

// The ids requested by set*id(), by name; ids left unchanged ((uid_t)-1) are omitted.
json requested_ids(const Event& e) {
  const bool user =
      e.op == RITMA_OP_SETUID || e.op == RITMA_OP_SETREUID || e.op == RITMA_OP_SETRESUID;
  const char* k = user ? "uid" : "gid";
  const uint64_t args[] = {e.arg0, e.arg1, e.arg2};
  std::vector<std::string> names;
  if (e.op == RITMA_OP_SETUID || e.op == RITMA_OP_SETGID) {
    names = {k};
  } else if (e.op == RITMA_OP_SETREUID || e.op == RITMA_OP_SETREGID) {
    names = {std::string("r") + k, std::string("e") + k};
  } else {
    names = {std::string("r") + k, std::string("e") + k, std::string("s") + k};
  }
  json ids = json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    if (id_given(args[i])) ids[names[i]] = args[i] & 0xffffffffu;
  }
  return ids;
}

bool is_set_id(uint16_t op) {
  return op >= RITMA_OP_SETUID && op <= RITMA_OP_SETRESGID;
}

// ---- ECS ---------------------------------------------------------------------------------

// The process that did it (the actor).
json ecs_process(const Event& e) {
  json p = {
      {"pid", e.pid},
      {"entity_id", to_hex(e.actor)},
      {"thread", {{"id", e.tid}}},
      {"parent", {{"pid", e.ppid}}},
      {"user", {{"id", std::to_string(e.euid)}}},
      {"real_user", {{"id", std::to_string(e.uid)}}},
      {"group", {{"id", std::to_string(e.egid)}}},
      {"real_group", {{"id", std::to_string(e.gid)}}},
  };
  if (!e.comm.empty()) p["name"] = e.comm;
  if (!e.exe.empty()) p["executable"] = e.exe;
  return p;
}

void ecs_endpoint(json& j, const char* side, const capture::NetAddress& a) {
  if (!is_ip(a)) return;
  j[side] = {{"ip", ip_text(a)}, {"port", a.port}};
  j["network"]["type"] = a.family == AF_INET ? "ipv4" : "ipv6";
}

}  // namespace

json to_ecs(const Event& e) {
  const std::string name(capture::event_name(e.type, e.op));
  json j;
  j["@timestamp"] = utc_ns(e.wall_ns);
  j["ecs"] = {{"version", kEcsVersion}};
  json r = ritma_extras(e);
  std::vector<std::string> category;
  std::vector<std::string> type;

  if (has_process(e)) {
    j["process"] = ecs_process(e);
    j["user"] = {{"id", std::to_string(e.uid)}, {"effective", {{"id", std::to_string(e.euid)}}}};
    j["group"] = {{"id", std::to_string(e.gid)}};
    if (!e.container_id.empty()) j["container"] = {{"id", e.container_id}};
  }

  auto set_file = [&](const std::string& path) {
    j["file"]["path"] = path;
    j["file"]["name"] = base_name(path);
  };

  switch (e.type) {
    case EventType::kExec: {
      category = {"process"};
      type = {"start"};
      json& p = j["process"];
      p["executable"] = e.path;
      p["args"] = e.argv;
      p["args_count"] = e.arg2 != 0 ? e.arg2 : static_cast<uint64_t>(e.argv.size());
      if (!e.argv.empty()) p["command_line"] = join_argv(e.argv);
      if (!e.exe.empty() && e.exe != e.path) r["exe"] = e.exe;
      r["exe_inode"] = e.arg0;
      r["exe_dev"] = e.arg1;
      break;
    }
    case EventType::kFork: {
      category = {"process"};
      const bool thread = e.arg0 == e.pid;
      r["fork"] = {{"child_pid", e.arg0},
                   {"child_start_ns", e.arg1},
                   {"clone_flags", e.arg2},
                   {"thread", thread}};
      if (thread) {
        type = {"info"};  // a new thread of the same process: no process started
      } else {
        // The new process is the event's subject; the actor is its parent.
        type = {"start"};
        json parent = j["process"];
        parent.erase("parent");
        r["ppid"] = e.ppid;  // the forking process's own parent
        j["process"] = {{"pid", e.arg0}, {"parent", std::move(parent)}};
      }
      break;
    }
    case EventType::kExit: {
      category = {"process"};
      type = {"end"};
      // An exit code only when the process exited; killed by a signal it has none.
      if ((e.result & 0x7f) == 0) j["process"]["exit_code"] = (e.result >> 8) & 0xff;
      break;
    }
    case EventType::kFile: {
      category = {"file"};
      switch (e.op) {
        case RITMA_OP_OPEN: {
          type = {"access"};
          if (e.result >= 0) {
            if ((e.arg0 & O_CREAT) && (e.arg0 & O_EXCL)) type.push_back("creation");
            if ((e.arg0 & O_TRUNC) && (e.arg0 & O_ACCMODE) != O_RDONLY) type.push_back("change");
            if ((e.arg0 & O_TMPFILE) != O_TMPFILE && (e.arg0 & O_DIRECTORY))
              j["file"]["type"] = "dir";
          }
          set_file(e.path);
          break;
        }
        case RITMA_OP_UNLINK:
          type = {"deletion"};
          set_file(e.path);
          break;
        case RITMA_OP_RMDIR:
          type = {"deletion"};
          set_file(e.path);
          j["file"]["type"] = "dir";
          break;
        case RITMA_OP_MKDIR:
          type = {"creation"};
          set_file(e.path);
          j["file"]["type"] = "dir";
          j["file"]["mode"] = octal(e.arg1);
          break;
        case RITMA_OP_RENAME:
          // ECS defines file.target_path for symlinks; for a rename it holds the new name.
          type = {"change"};
          set_file(e.path);
          j["file"]["target_path"] = e.path2;
          break;
        case RITMA_OP_LINK:
          // The new name is created; it links to the existing path.
          type = {"creation"};
          set_file(e.path2);
          j["file"]["target_path"] = e.path;
          break;
        case RITMA_OP_SYMLINK:
          type = {"creation"};
          set_file(e.path2);
          j["file"]["target_path"] = e.path;
          j["file"]["type"] = "symlink";
          break;
        case RITMA_OP_CHMOD:
          type = {"change"};
          set_file(e.path);
          j["file"]["mode"] = octal(e.arg1);
          break;
        case RITMA_OP_CHOWN: {
          type = {"change"};
          set_file(e.path);
          const uint64_t uid = e.arg3 >> 32;
          const uint64_t gid = e.arg3 & 0xffffffffu;
          if (id_given(uid)) j["file"]["uid"] = std::to_string(uid);
          if (id_given(gid)) j["file"]["gid"] = std::to_string(gid);
          break;
        }
        default:
          type = {"info"};
          add_raw_strings(r, e);
          break;
      }
      break;
    }
    case EventType::kNet: {
      category = {"network"};
      switch (e.op) {
        case RITMA_OP_CONNECT:
          type = {"connection", "start"};
          ecs_endpoint(j, "destination", e.addr);
          break;
        case RITMA_OP_ACCEPT:
          // The address accept() returns is the peer's: the side that initiated.
          type = {"connection", "start"};
          ecs_endpoint(j, "source", e.addr);
          break;
        case RITMA_OP_BIND:
          // The local address the socket is bound to.
          type = {"info"};
          ecs_endpoint(j, "source", e.addr);
          break;
        case RITMA_OP_LISTEN:
          type = {"start"};
          r["backlog"] = e.arg1;
          break;
        case RITMA_OP_SENDTO:
          type = {"protocol"};
          ecs_endpoint(j, "destination", e.addr);
          if (!e.dns_name.empty()) {
            j["network"]["protocol"] = "dns";
            j["dns"] = {{"type", "query"},
                        {"question", {{"name", e.dns_name}, {"type", dns_type_name(e.dns_type)}}}};
          }
          r["dns_type"] = e.dns_type;
          break;
        default:
          type = {"info"};
          break;
      }
      r["fd"] = e.arg0;
      if (e.addr.family == AF_UNIX) r["unix_path"] = e.addr.unix_path;
      if (e.addr.family != 0) r["address_family"] = e.addr.family;
      break;
    }
    case EventType::kPriv: {
      switch (e.op) {
        case RITMA_OP_SETUID:
        case RITMA_OP_SETGID:
        case RITMA_OP_SETREUID:
        case RITMA_OP_SETREGID:
        case RITMA_OP_SETRESUID:
        case RITMA_OP_SETRESGID:
          category = {"process"};
          type = {"change"};
          r["requested_ids"] = requested_ids(e);
          break;
        case RITMA_OP_CAPSET:
        case RITMA_OP_UNSHARE:
        case RITMA_OP_SETNS:
          category = {"process"};
          type = {"change"};
          break;
        case RITMA_OP_PTRACE:
          category = {"process"};
          type = {"access"};
          r["ptrace"] = {{"request", e.arg0}, {"pid", e.arg1}};
          break;
        case RITMA_OP_INIT_MODULE:
        case RITMA_OP_FINIT_MODULE:
          category = {"driver"};
          type = {"start"};
          break;
        case RITMA_OP_DELETE_MODULE:
          category = {"driver"};
          type = {"end"};
          break;
        case RITMA_OP_MOUNT:
          category = {"file"};
          type = {"change"};
          if (!e.path2.empty()) set_file(e.path2);  // the mount point
          break;
        case RITMA_OP_UMOUNT:
          category = {"file"};
          type = {"change"};
          if (!e.path.empty()) set_file(e.path);
          break;
        case RITMA_OP_MEMFD_CREATE:
          category = {"file"};
          type = {"creation"};
          if (!e.path.empty()) j["file"]["name"] = e.path;  // a name, not a path
          break;
        default:  // bpf, and ops newer than this mapping
          category = {"process"};
          type = {"info"};
          break;
      }
      add_raw_strings(r, e);
      break;
    }
    case EventType::kLoss:
    case EventType::kFiltered:
      category = {"host"};
      type = {"info"};
      add_raw_strings(r, e);
      break;
    case EventType::kRun:
      category = {"host"};
      type = {"info"};
      if (e.pid != 0) j["process"] = {{"pid", e.pid}};  // the sensor's own pid
      add_raw_strings(r, e);
      break;
    case EventType::kGap:
      category = {"host"};
      type = {"info"};
      add_raw_strings(r, e);
      break;
    default:
      type = {"info"};
      add_raw_strings(r, e);
      break;
  }

  json ev = {{"kind", "event"}, {"action", name}, {"dataset", "ritma.events"}};
  if (!category.empty()) ev["category"] = category;
  ev["type"] = type;
  ev["sequence"] = e.seq;
  if (result_is_syscall(e)) {
    ev["outcome"] = in_progress(e) ? "unknown" : e.result < 0 ? "failure" : "success";
    if (e.result < 0) j["error"] = {{"code", errno_name(e.result)}};
  }
  j["event"] = std::move(ev);
  j["ritma"] = std::move(r);
  return j;
}

// ---- OCSF --------------------------------------------------------------------------------

namespace {

struct OcsfClass {
  int uid;
  const char* name;
  int category_uid;
  const char* category_name;
};

constexpr OcsfClass kBaseEvent{0, "Base Event", 0, "Uncategorized"};
constexpr OcsfClass kFileSystemActivity{1001, "File System Activity", 1, "System Activity"};
constexpr OcsfClass kKernelExtensionActivity{1002, "Kernel Extension Activity", 1,
                                             "System Activity"};
constexpr OcsfClass kKernelActivity{1003, "Kernel Activity", 1, "System Activity"};
constexpr OcsfClass kProcessActivity{1007, "Process Activity", 1, "System Activity"};
constexpr OcsfClass kNetworkActivity{4001, "Network Activity", 4, "Network Activity"};
constexpr OcsfClass kDnsActivity{4003, "DNS Activity", 4, "Network Activity"};
constexpr OcsfClass kApplicationLifecycle{6002, "Application Lifecycle", 6, "Application Activity"};

constexpr int kOther = 99;

// OCSF file type ids.
constexpr int kFileUnknown = 0;
constexpr int kFileRegular = 1;
constexpr int kFileFolder = 2;
constexpr int kFileSymlink = 7;

json ocsf_file(const std::string& path, int type_id) {
  return {{"path", path}, {"name", base_name(path)}, {"type_id", type_id}};
}

// The process that did it. Its executable is a regular file (execve runs nothing else).
json ocsf_process(const Event& e) {
  json p = {
      {"pid", e.pid},
      {"tid", e.tid},
      {"uid", to_hex(e.actor)},
      {"parent_process", {{"pid", e.ppid}}},
      {"user", {{"uid", std::to_string(e.uid)}}},
  };
  if (!e.comm.empty()) p["name"] = e.comm;
  if (!e.exe.empty()) p["file"] = ocsf_file(e.exe, kFileRegular);
  if (!e.container_id.empty()) p["container"] = {{"uid", e.container_id}};
  return p;
}

json ocsf_endpoint(const capture::NetAddress& a) {
  return {{"ip", ip_text(a)}, {"port", a.port}};
}

// ptrace requests that obtain a hold on another process (Open) or write into it (Inject).
int ptrace_activity(uint64_t request) {
  switch (request) {
    case PTRACE_ATTACH:
    case PTRACE_SEIZE:
      return 3;  // Open
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA:
    case PTRACE_POKEUSER:
    case PTRACE_SETREGSET:
#ifdef PTRACE_SETREGS
    case PTRACE_SETREGS:
#endif
#ifdef PTRACE_SETFPREGS
    case PTRACE_SETFPREGS:
#endif
      return 4;  // Inject
    default:
      return kOther;
  }
}

const char* ocsf_activity_caption(int class_uid, int activity) {
  switch (class_uid) {
    case 1001: {
      static constexpr const char* kNames[] = {
          "Unknown", "Create",         "Read",         "Update",         "Delete",
          "Rename",  "Set Attributes", "Set Security", "Get Attributes", "Get Security",
          "Encrypt", "Decrypt",        "Mount",        "Unmount",        "Open"};
      if (activity >= 0 && activity <= 14) return kNames[activity];
      break;
    }
    case 1002:
      if (activity == 1) return "Load";
      if (activity == 2) return "Unload";
      break;
    case 1003: {
      static constexpr const char* kNames[] = {"Unknown", "Create", "Read", "Delete", "Invoke"};
      if (activity >= 0 && activity <= 4) return kNames[activity];
      break;
    }
    case 1007: {
      static constexpr const char* kNames[] = {"Unknown", "Launch", "Terminate",
                                               "Open",    "Inject", "Set User ID"};
      if (activity >= 0 && activity <= 5) return kNames[activity];
      break;
    }
    case 4001: {
      static constexpr const char* kNames[] = {"Unknown", "Open",   "Close",  "Reset",
                                               "Fail",    "Refuse", "Traffic"};
      if (activity >= 0 && activity <= 6) return kNames[activity];
      break;
    }
    case 4003:
      if (activity == 1) return "Query";
      if (activity == 2) return "Response";
      break;
    case 6002: {
      static constexpr const char* kNames[] = {"Unknown", "Install", "Remove",  "Start", "Stop",
                                               "Restart", "Enable",  "Disable", "Update"};
      if (activity >= 0 && activity <= 8) return kNames[activity];
      break;
    }
    default:
      break;
  }
  return "Other";
}

// Activity names for activity_id 99 (Other), where OCSF 1.1.0 has no activity.
const char* other_activity_name(const Event& e) {
  switch (e.type) {
    case EventType::kFork:
      return "Fork";
    case EventType::kLoss:
      return "Loss";
    case EventType::kFiltered:
      return "Filtered";
    case EventType::kGap:
      return "Gap";
    default:
      break;
  }
  switch (e.op) {
    case RITMA_OP_BIND:
      return "Bind";
    case RITMA_OP_LISTEN:
      return "Listen";
    case RITMA_OP_SETGID:
    case RITMA_OP_SETREGID:
    case RITMA_OP_SETRESGID:
      return "Set Group ID";
    case RITMA_OP_CAPSET:
      return "Set Capabilities";
    case RITMA_OP_PTRACE:
      return "Ptrace";
    case RITMA_OP_UNSHARE:
      return "Unshare";
    case RITMA_OP_SETNS:
      return "Set Namespace";
    default:
      return "Other";
  }
}

}  // namespace

json to_ocsf(const Event& e) {
  const std::string name(capture::event_name(e.type, e.op));
  OcsfClass cls = kBaseEvent;
  int activity = kOther;
  json j;
  json u = ritma_extras(e);
  u["event_name"] = name;

  if (has_process(e)) {
    j["actor"] = {{"process", ocsf_process(e)}, {"user", {{"uid", std::to_string(e.uid)}}}};
    u["euid"] = e.euid;
    u["gid"] = e.gid;
    u["egid"] = e.egid;
  }

  switch (e.type) {
    case EventType::kExec: {
      cls = kProcessActivity;
      activity = 1;  // Launch: the process runs a new image (execve); actor and process are it
      json p = ocsf_process(e);
      // A successful execve ran a regular file; a failed one may have named anything.
      p["file"] = ocsf_file(e.path, e.result >= 0 ? kFileRegular : kFileUnknown);
      if (!e.argv.empty()) p["cmd_line"] = join_argv(e.argv);
      j["process"] = std::move(p);
      if (!e.exe.empty() && e.exe != e.path) u["exe"] = e.exe;
      if (!e.argv.empty()) u["argv"] = e.argv;
      u["argc"] = e.arg2;
      u["exe_inode"] = e.arg0;
      u["exe_dev"] = e.arg1;
      break;
    }
    case EventType::kFork: {
      // OCSF 1.1.0 has no fork activity (1.4 adds Launch with launch_type_id Fork).
      cls = kProcessActivity;
      activity = kOther;
      j["process"] = {{"pid", e.arg0},
                      {"parent_process", {{"pid", e.pid}, {"uid", to_hex(e.actor)}}}};
      u["fork"] = {{"child_pid", e.arg0},
                   {"child_start_ns", e.arg1},
                   {"clone_flags", e.arg2},
                   {"thread", e.arg0 == e.pid}};
      break;
    }
    case EventType::kExit: {
      cls = kProcessActivity;
      activity = 2;  // Terminate, reflexive: actor.process and process are the exiting process
      j["process"] = ocsf_process(e);
      if ((e.result & 0x7f) == 0) j["exit_code"] = (e.result >> 8) & 0xff;
      break;
    }
    case EventType::kFile: {
      cls = kFileSystemActivity;
      switch (e.op) {
        case RITMA_OP_OPEN: {
          activity = 14;  // Open
          const bool dir =
              e.result >= 0 && (e.arg0 & O_TMPFILE) != O_TMPFILE && (e.arg0 & O_DIRECTORY);
          j["file"] = ocsf_file(e.path, dir ? kFileFolder : kFileUnknown);
          u["open_flags"] = e.arg0;
          if ((e.arg0 & O_CREAT) || (e.arg0 & O_TMPFILE) == O_TMPFILE) u["mode"] = octal(e.arg1);
          break;
        }
        case RITMA_OP_UNLINK:
          activity = 4;  // Delete
          j["file"] = ocsf_file(e.path, kFileUnknown);
          break;
        case RITMA_OP_RMDIR:
          activity = 4;  // Delete
          j["file"] = ocsf_file(e.path, kFileFolder);
          break;
        case RITMA_OP_MKDIR:
          activity = 1;  // Create
          j["file"] = ocsf_file(e.path, kFileFolder);
          u["mode"] = octal(e.arg1);
          break;
        case RITMA_OP_RENAME:
          activity = 5;  // Rename
          j["file"] = ocsf_file(e.path, kFileUnknown);
          j["file_result"] = ocsf_file(e.path2, kFileUnknown);
          break;
        case RITMA_OP_LINK:
          activity = 1;  // Create: a new name for an existing file
          j["file"] = ocsf_file(e.path2, kFileUnknown);
          u["link_target"] = e.path;
          break;
        case RITMA_OP_SYMLINK:
          activity = 1;  // Create
          j["file"] = ocsf_file(e.path2, kFileSymlink);
          u["link_target"] = e.path;
          break;
        case RITMA_OP_CHMOD:
          activity = 7;  // Set Security: permission bits
          j["file"] = ocsf_file(e.path, kFileUnknown);
          u["mode"] = octal(e.arg1);
          break;
        case RITMA_OP_CHOWN: {
          activity = 7;  // Set Security: ownership
          j["file"] = ocsf_file(e.path, kFileUnknown);
          const uint64_t uid = e.arg3 >> 32;
          const uint64_t gid = e.arg3 & 0xffffffffu;
          if (id_given(uid)) u["owner_uid"] = uid;
          if (id_given(gid)) u["owner_gid"] = gid;
          break;
        }
        default:
          activity = kOther;
          add_raw_strings(u, e);
          break;
      }
      break;
    }
    case EventType::kNet: {
      if (e.op == RITMA_OP_SENDTO) {
        cls = kDnsActivity;
        activity = 1;  // Query
        if (!e.dns_name.empty()) {
          j["query"] = {{"hostname", e.dns_name}, {"type", dns_type_name(e.dns_type)}};
        }
        u["dns_type"] = e.dns_type;
        if (is_ip(e.addr)) j["dst_endpoint"] = ocsf_endpoint(e.addr);
      } else {
        cls = kNetworkActivity;
        switch (e.op) {
          case RITMA_OP_CONNECT:
            // Open when connected or under way; a refused or failed connect is Refuse / Fail.
            activity = e.result >= 0 || in_progress(e) ? 1 : e.result == -ECONNREFUSED ? 5 : 4;
            if (is_ip(e.addr)) j["dst_endpoint"] = ocsf_endpoint(e.addr);
            break;
          case RITMA_OP_ACCEPT:
            activity = 1;  // Open; the address is the peer's
            if (is_ip(e.addr)) j["src_endpoint"] = ocsf_endpoint(e.addr);
            break;
          case RITMA_OP_BIND:
            activity = kOther;  // the local address the socket is bound to
            if (is_ip(e.addr)) j["src_endpoint"] = ocsf_endpoint(e.addr);
            break;
          case RITMA_OP_LISTEN:
            activity = kOther;
            u["backlog"] = e.arg1;
            break;
          default:
            activity = kOther;
            break;
        }
      }
      if (is_ip(e.addr)) {
        j["connection_info"] = {{"protocol_ver_id", e.addr.family == AF_INET ? 4 : 6},
                                {"direction_id", 0}};
      }
      u["fd"] = e.arg0;
      if (e.addr.family == AF_UNIX) u["unix_path"] = e.addr.unix_path;
      if (e.addr.family != 0) u["address_family"] = e.addr.family;
      break;
    }
    case EventType::kPriv: {
      cls = kProcessActivity;
      activity = kOther;
      switch (e.op) {
        case RITMA_OP_SETUID:
        case RITMA_OP_SETREUID:
        case RITMA_OP_SETRESUID:
          activity = 5;  // Set User ID
          j["process"] = ocsf_process(e);
          break;
        case RITMA_OP_PTRACE:
          activity = ptrace_activity(e.arg0);
          if (activity != kOther) j["process"] = {{"pid", e.arg1}};  // the traced process
          u["ptrace"] = {{"request", e.arg0}, {"pid", e.arg1}};
          break;
        case RITMA_OP_INIT_MODULE:
        case RITMA_OP_FINIT_MODULE:
          // The module file is not known (an image in memory or an fd), so `driver` is
          // left out.
          cls = kKernelExtensionActivity;
          activity = 1;  // Load
          break;
        case RITMA_OP_DELETE_MODULE:
          cls = kKernelExtensionActivity;
          activity = 2;  // Unload
          break;
        case RITMA_OP_BPF:
          cls = kKernelActivity;
          activity = 4;                                     // Invoke
          j["kernel"] = {{"name", "bpf"}, {"type_id", 2}};  // System Call
          break;
        case RITMA_OP_MOUNT:
          cls = kFileSystemActivity;
          activity = 12;  // Mount
          if (!e.path2.empty()) j["file"] = ocsf_file(e.path2, kFileUnknown);
          break;
        case RITMA_OP_UMOUNT:
          cls = kFileSystemActivity;
          activity = 13;  // Unmount
          if (!e.path.empty()) j["file"] = ocsf_file(e.path, kFileUnknown);
          break;
        case RITMA_OP_MEMFD_CREATE:
          cls = kFileSystemActivity;
          activity = 1;  // Create: an anonymous file, named but with no path
          j["file"] = {{"name", e.path}, {"type_id", kFileUnknown}};
          break;
        default:  // set*gid, capset, unshare, setns: Process Activity, Other
          j["process"] = ocsf_process(e);
          break;
      }
      if (is_set_id(e.op)) u["requested_ids"] = requested_ids(e);
      add_raw_strings(u, e);
      break;
    }
    case EventType::kRun:
      cls = kApplicationLifecycle;
      activity = 3;  // Start: this sensor run began
      j["app"] = {{"name", "ritma-sensor"}, {"vendor_name", "Ritma"}};
      if (e.path2.rfind("ritma-sensor ", 0) == 0) j["app"]["version"] = e.path2.substr(13);
      if (e.pid != 0) u["sensor_pid"] = e.pid;
      add_raw_strings(u, e);
      break;
    case EventType::kGap:
      cls = kApplicationLifecycle;
      activity = kOther;  // how the previous run ended, told at the start of this one
      j["app"] = {{"name", "ritma-sensor"}, {"vendor_name", "Ritma"}};
      add_raw_strings(u, e);
      break;
    default:  // loss, filtered, and types newer than this mapping: Base Event
      add_raw_strings(u, e);
      break;
  }

  const std::string activity_name =
      activity == kOther ? other_activity_name(e) : ocsf_activity_caption(cls.uid, activity);
  j["class_uid"] = cls.uid;
  j["class_name"] = cls.name;
  j["category_uid"] = cls.category_uid;
  j["category_name"] = cls.category_name;
  j["activity_id"] = activity;
  j["activity_name"] = activity_name;
  j["type_uid"] = cls.uid * 100 + activity;
  j["type_name"] = std::string(cls.name) + ": " + activity_name;
  j["time"] = floor_div(e.wall_ns, 1000000);
  j["severity_id"] = 1;
  j["severity"] = "Informational";
  if (result_is_syscall(e)) {
    if (in_progress(e)) {
      j["status_id"] = 0;
      j["status"] = "Unknown";
    } else {
      j["status_id"] = e.result < 0 ? 2 : 1;
      j["status"] = e.result < 0 ? "Failure" : "Success";
    }
    if (e.result < 0) j["status_code"] = errno_name(e.result);
  }
  const bool has_actor = e.actor != capture::ActorId{};
  j["metadata"] = {
      {"version", kOcsfVersion},
      {"product", {{"name", "Ritma"}, {"vendor_name", "Ritma"}}},
      // seq is unique within a boot; the actor id is boot-scoped, so actor:seq is unique.
      {"uid", has_actor ? to_hex(e.actor) + ":" + std::to_string(e.seq) : std::to_string(e.seq)},
  };
  j["unmapped"] = std::move(u);
  return j;
}

}  // namespace ritma::cli
