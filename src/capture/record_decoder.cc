// Ring-buffer record decoding.
#include "capture/record_decoder.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace ritma::capture {
namespace {

template <typename T>
std::string bounded_string(const T& field) {
  return std::string(field, strnlen(field, sizeof(field)));
}

template <typename Rec>
Status check_size(ByteSpan record, const char* kind) {
  if (record.size() < sizeof(Rec)) {
    return make_error(std::string("truncated ") + kind +
                      " record: " + std::to_string(record.size()) + " bytes, expected " +
                      std::to_string(sizeof(Rec)));
  }
  return {};
}

void copy_task(const ritma_task& t, Event& e) {
  e.pid = t.pid;
  e.tid = t.tid;
  e.ppid = t.ppid;
  e.uid = t.uid;
  e.gid = t.gid;
  e.euid = t.euid;
  e.egid = t.egid;
  e.start_ns = t.start_ns;
  e.parent_start_ns = t.parent_start_ns;
  e.cgroup_id = t.cgroup_id;
  e.mntns = t.mntns;
  e.pidns = t.pidns;
  e.netns = t.netns;
  e.comm = bounded_string(t.comm);
}

void decode_sockaddr(const uint8_t* addr, uint32_t len, NetAddress& out) {
  out = NetAddress{};
  if (len < sizeof(sa_family_t)) return;
  sa_family_t family;
  std::memcpy(&family, addr, sizeof family);
  if (family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    out.family = AF_INET;
    std::memcpy(out.ip.data(), &in.sin_addr, 4);
    out.port = ntohs(in.sin_port);
  } else if (family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof in6);
    out.family = AF_INET6;
    std::memcpy(out.ip.data(), &in6.sin6_addr, 16);
    out.port = ntohs(in6.sin6_port);
  } else if (family == AF_UNIX) {
    out.family = AF_UNIX;
    const char* path = reinterpret_cast<const char*>(addr) + sizeof(sa_family_t);
    const size_t max = len - sizeof(sa_family_t);
    if (max > 0 && path[0] == '\0') {
      out.unix_path = "@" + std::string(path + 1, strnlen(path + 1, max - 1));  // abstract
    } else {
      out.unix_path = std::string(path, strnlen(path, max));
    }
  }
}

}  // namespace

Result<std::pair<std::string, uint16_t>> parse_dns_question(ByteSpan m) {
  if (m.size() < 12) return make_error("DNS message shorter than its header");
  const uint16_t qdcount = static_cast<uint16_t>((m[4] << 8) | m[5]);
  if (qdcount == 0) return make_error("DNS message has no question");
  size_t pos = 12;
  std::string name;
  for (;;) {
    if (pos >= m.size()) return make_error("DNS name truncated");
    const uint8_t len = m[pos++];
    if (len == 0) break;
    if ((len & 0xc0) != 0) return make_error("DNS name uses compression or a reserved label type");
    if (len > 63) return make_error("DNS label longer than 63 bytes");
    if (pos + len > m.size()) return make_error("DNS label truncated");
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i) {
      const char c = static_cast<char>(m[pos + i]);
      name += (c >= 0x21 && c <= 0x7e) ? c : '?';
    }
    pos += len;
    if (name.size() > 255) return make_error("DNS name longer than 255 bytes");
  }
  if (pos + 2 > m.size()) return make_error("DNS question type truncated");
  const uint16_t qtype = static_cast<uint16_t>((m[pos] << 8) | m[pos + 1]);
  return std::make_pair(name.empty() ? std::string(".") : name, qtype);
}

Status decode_record(ByteSpan record, Event& e) {
  if (record.size() < sizeof(ritma_rec_header)) {
    return make_error("record shorter than its header (" + std::to_string(record.size()) +
                      " bytes)");
  }
  ritma_rec_header h;
  std::memcpy(&h, record.data(), sizeof h);
  if (h.size != record.size()) {
    return make_error("record declares " + std::to_string(h.size) + " bytes but has " +
                      std::to_string(record.size()));
  }
  e = Event{};
  e.mono_ns = h.ktime_ns;
  e.flags = h.flags;
  e.result = h.result;
  e.op = h.op;
  copy_task(h.task, e);

  switch (h.kind) {
    case RITMA_KIND_EXEC: {
      RITMA_TRY(check_size<ritma_exec_rec>(record, "exec"));
      ritma_exec_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kExec;
      e.path = bounded_string(r.filename);
      e.arg0 = r.exe_ino;
      e.arg1 = r.exe_dev;
      e.arg2 = r.argc;
      const size_t n = std::min<size_t>(r.argv_len, sizeof r.argv);
      size_t start = 0;
      for (size_t i = 0; i < n; ++i) {
        if (r.argv[i] == '\0') {
          e.argv.emplace_back(r.argv + start, i - start);
          start = i + 1;
        }
      }
      if (start < n) {
        e.argv.emplace_back(r.argv + start, n - start);  // cut mid-argument by the bound
        e.flags |= RITMA_F_ARGV_TRUNCATED;
      }
      if (r.argc > e.argv.size()) e.flags |= RITMA_F_ARGV_TRUNCATED;
      return {};
    }
    case RITMA_KIND_FORK: {
      RITMA_TRY(check_size<ritma_fork_rec>(record, "fork"));
      ritma_fork_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kFork;
      e.arg0 = r.child_pid;
      e.arg1 = r.child_start_ns;
      e.arg2 = r.clone_flags;
      return {};
    }
    case RITMA_KIND_EXIT: {
      RITMA_TRY(check_size<ritma_exit_rec>(record, "exit"));
      ritma_exit_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kExit;
      e.result = r.exit_code;
      return {};
    }
    case RITMA_KIND_FILE: {
      RITMA_TRY(check_size<ritma_file_rec>(record, "file"));
      ritma_file_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kFile;
      e.path = bounded_string(r.path);
      e.path2 = bounded_string(r.path2);
      e.arg0 = r.flags;
      e.arg1 = r.mode;
      e.arg2 = static_cast<uint64_t>(r.dirfd);
      e.arg3 = (r.uid << 32) | (r.gid & 0xffffffffu);
      return {};
    }
    case RITMA_KIND_NET: {
      RITMA_TRY(check_size<ritma_net_rec>(record, "net"));
      ritma_net_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kNet;
      e.arg0 = static_cast<uint64_t>(r.fd);
      e.arg1 = r.backlog;
      decode_sockaddr(r.addr, std::min<uint32_t>(r.addr_len, sizeof r.addr), e.addr);
      if (h.op == RITMA_OP_SENDTO) {
        auto q = parse_dns_question(
            ByteSpan(r.payload, std::min<uint32_t>(r.payload_len, sizeof r.payload)));
        if (q.ok()) {
          e.dns_name = q->first;
          e.dns_type = q->second;
        }
      }
      return {};
    }
    case RITMA_KIND_PRIV: {
      RITMA_TRY(check_size<ritma_priv_rec>(record, "privilege"));
      ritma_priv_rec r;
      std::memcpy(&r, record.data(), sizeof r);
      e.type = EventType::kPriv;
      e.arg0 = r.arg[0];
      e.arg1 = r.arg[1];
      e.arg2 = r.arg[2];
      e.arg3 = r.arg[3];
      e.path = bounded_string(r.path);
      e.path2 = bounded_string(r.path2);
      return {};
    }
    default:
      return make_error("unknown record kind " + std::to_string(h.kind));
  }
}

}  // namespace ritma::capture
