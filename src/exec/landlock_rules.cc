// Landlock through the raw system calls. The structures and flags are declared here for the
// ABIs newer than the installed kernel headers (Debian 12's stop at v2).
#include "exec/landlock_rules.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/unique_fd.h"

namespace ritma::exec {
namespace {

// struct landlock_ruleset_attr as of ABI v6; the size passed tells the kernel which fields
// it may read.
struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;
  uint64_t scoped = 0;
};

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access = 0;
  int32_t parent_fd = -1;
};

constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

constexpr uint64_t kExecute = 1ULL << 0;
constexpr uint64_t kWriteFile = 1ULL << 1;
constexpr uint64_t kReadFile = 1ULL << 2;
constexpr uint64_t kReadDir = 1ULL << 3;
constexpr uint64_t kAbi1All = (1ULL << 13) - 1;     // execute .. make_sym
constexpr uint64_t kRefer = 1ULL << 13;             // v2
constexpr uint64_t kTruncate = 1ULL << 14;          // v3
constexpr uint64_t kIoctlDev = 1ULL << 15;          // v5
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0;  // v6
constexpr uint64_t kScopeSignal = 1ULL << 1;        // v6

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

uint64_t handled_for(int abi) {
  uint64_t handled = kAbi1All;
  if (abi >= 2) handled |= kRefer;
  if (abi >= 3) handled |= kTruncate;
  if (abi >= 5) handled |= kIoctlDev;
  return handled;
}

}  // namespace

int landlock_abi_version() {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<LandlockApplied> apply_landlock(int abi, const std::vector<std::string>& writable) {
  if (abi <= 0) return make_error("Landlock is not available in this kernel");
  LandlockApplied out;
  out.abi = abi;
  RulesetAttr attr;
  attr.handled_access_fs = handled_for(abi);
  size_t attr_size = sizeof(uint64_t);
  if (abi >= 4) attr_size = 2 * sizeof(uint64_t);
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnix | kScopeSignal;
    attr_size = sizeof attr;
  }
  out.handled_access_fs = attr.handled_access_fs;
  out.scoped = attr.scoped;
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0)));
  if (!ruleset.valid()) {
    return make_error("landlock_create_ruleset (ABI v" + std::to_string(abi) +
                      ") failed: " + errno_text(errno));
  }
  auto allow = [&](const std::string& path, uint64_t access) -> Status {
    UniqueFd dir(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!dir.valid()) return make_error("landlock: open " + path + " failed: " + errno_text(errno));
    PathBeneathAttr rule;
    rule.allowed_access = access & attr.handled_access_fs;
    rule.parent_fd = dir.get();
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &rule, 0) != 0) {
      return make_error("landlock_add_rule for " + path + " failed: " + errno_text(errno));
    }
    ++out.rules;
    return {};
  };
  // Everything readable and executable; devices' ioctls (terminals) allowed.
  RITMA_TRY(allow("/", kExecute | kReadFile | kReadDir | kIoctlDev));
  // /dev: the few devices bound there are written to (/dev/null, /dev/tty); O_TRUNC on them
  // is what `> /dev/null` does.
  RITMA_TRY(allow("/dev", kReadFile | kReadDir | kWriteFile | kTruncate | kIoctlDev));
  for (const std::string& path : writable) RITMA_TRY(allow(path, attr.handled_access_fs));
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return make_error("landlock_restrict_self failed: " + errno_text(errno));
  }
  return out;
}

}  // namespace ritma::exec
