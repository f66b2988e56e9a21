// Event names and address rendering.
#include "capture/event.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace ritma::capture {

std::string_view event_name(EventType type, uint16_t op) {
  switch (type) {
    case EventType::kExec:
      return "exec";
    case EventType::kFork:
      return "fork";
    case EventType::kExit:
      return "exit";
    case EventType::kLoss:
      return "loss";
    case EventType::kFiltered:
      return "filtered";
    case EventType::kRun:
      return "run";
    case EventType::kGap:
      return "gap";
    case EventType::kFile:
    case EventType::kNet:
    case EventType::kPriv:
      break;
  }
  switch (op) {
    case RITMA_OP_OPEN:
      return "open";
    case RITMA_OP_UNLINK:
      return "unlink";
    case RITMA_OP_RENAME:
      return "rename";
    case RITMA_OP_CHMOD:
      return "chmod";
    case RITMA_OP_CHOWN:
      return "chown";
    case RITMA_OP_LINK:
      return "link";
    case RITMA_OP_SYMLINK:
      return "symlink";
    case RITMA_OP_MKDIR:
      return "mkdir";
    case RITMA_OP_RMDIR:
      return "rmdir";
    case RITMA_OP_CONNECT:
      return "connect";
    case RITMA_OP_ACCEPT:
      return "accept";
    case RITMA_OP_BIND:
      return "bind";
    case RITMA_OP_LISTEN:
      return "listen";
    case RITMA_OP_SENDTO:
      return "dns";
    case RITMA_OP_SETUID:
      return "setuid";
    case RITMA_OP_SETGID:
      return "setgid";
    case RITMA_OP_SETREUID:
      return "setreuid";
    case RITMA_OP_SETREGID:
      return "setregid";
    case RITMA_OP_SETRESUID:
      return "setresuid";
    case RITMA_OP_SETRESGID:
      return "setresgid";
    case RITMA_OP_CAPSET:
      return "capset";
    case RITMA_OP_PTRACE:
      return "ptrace";
    case RITMA_OP_INIT_MODULE:
      return "init_module";
    case RITMA_OP_FINIT_MODULE:
      return "finit_module";
    case RITMA_OP_DELETE_MODULE:
      return "delete_module";
    case RITMA_OP_BPF:
      return "bpf";
    case RITMA_OP_MOUNT:
      return "mount";
    case RITMA_OP_UMOUNT:
      return "umount";
    case RITMA_OP_UNSHARE:
      return "unshare";
    case RITMA_OP_SETNS:
      return "setns";
    case RITMA_OP_MEMFD_CREATE:
      return "memfd_create";
    default:
      return "unknown";
  }
}

std::string NetAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family) {
    case AF_INET:
      inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port);
    case AF_INET6:
      inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port);
    case AF_UNIX:
      return "unix:" + unix_path;
    default:
      return {};
  }
}

}  // namespace ritma::capture
