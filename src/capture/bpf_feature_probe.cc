// Capture feature probes. Each probe builds a tiny BPF program from hand-written instructions
// and loads and attaches it with libbpf's low-level API (no skeleton, no object file), so the
// doctor can answer before, and independently of, the sensor's own BPF objects.
#include "capture/bpf_feature_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text_lines.h"
#include "core/unique_fd.h"

namespace ritma::capture {
namespace {

using Status = FeatureReport::Status;

constexpr const char* kProgName = "ritma_probe";
// Tracing, fentry and LSM programs are refused without a GPL-compatible licence.
constexpr const char* kLicense = "GPL";
// The kernel-internal ENOTSUPP, which bpf() lets escape to user space.
constexpr int kEnotsupp = 524;
constexpr unsigned long kTracefsMagic = 0x74726163;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// The tracepoints the sensor's base relies on (DESIGN.md, "Capture").
constexpr const char* kBaseTracepoints[] = {"sys_enter", "sys_exit", "sched_process_exec",
                                            "sched_process_fork", "sched_process_exit"};

constexpr const char* kCostBtf =
    "no vmlinux BTF: CO-RE programs cannot be relocated and tp_btf/fentry/LSM cannot attach; "
    "ritma-sensor will refuse to start";
constexpr const char* kCostBpfSyscall =
    "bpf() unusable: no eBPF at all; the sensor cannot capture and ritma-sensor will refuse to "
    "start";
constexpr const char* kCostRingbuf =
    "no BPF ring buffer: the sensor cannot deliver events to user space; ritma-sensor will "
    "refuse to start";
constexpr const char* kCostRawTracepoint =
    "raw tracepoints unavailable: the sensor must use BTF tracepoints; without either it cannot "
    "capture and ritma-sensor will refuse to start";
constexpr const char* kCostBtfTracepoint =
    "BTF tracepoints unavailable: the sensor uses raw tracepoints instead (no loss of coverage)";
constexpr const char* kCostTracepoint =
    "classic tracepoints unavailable: nothing lost; capture uses raw/BTF tracepoints";
constexpr const char* kCostKprobe =
    "kprobes unavailable: optional extra probes off; capture uses tracepoints (no loss of "
    "coverage)";
constexpr const char* kCostFentry =
    "fentry/fexit unavailable: optional function-entry probes off; capture uses tracepoints (no "
    "loss of coverage)";
constexpr const char* kCostBpfLsm =
    "BPF-LSM unavailable: optional in-kernel security hooks off; capture uses tracepoints (no "
    "loss of coverage)";

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingBufferPtr = std::unique_ptr<ring_buffer, RingBufferDeleter>;

std::string errno_name(int err) {
  if (err == kEnotsupp) return "ENOTSUPP";
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

// The last non-empty line of a (verifier) log, shortened for a one-line detail.
std::string last_line(std::string_view log) {
  std::string line;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    std::string candidate = trim(log.substr(start, end - start));
    if (!candidate.empty()) line = std::move(candidate);
    start = end + 1;
  }
  constexpr size_t kMax = 160;
  if (line.size() > kMax) line = line.substr(0, kMax) + "...";
  return line;
}

// ---- libbpf's log: captured, not printed. ----

std::string& last_libbpf_message() {
  static std::string message;
  return message;
}

__attribute__((format(printf, 2, 0))) int capture_libbpf_print(libbpf_print_level level,
                                                               const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  if (n <= 0) return 0;
  std::string message = last_line(std::string_view(buf, std::min(sizeof buf - 1, size_t(n))));
  if (!message.empty()) last_libbpf_message() = std::move(message);
  return 0;
}

// Routes libbpf's log into last_libbpf_message() for its lifetime.
class CapturedLibbpfLog {
 public:
  CapturedLibbpfLog() : previous_(libbpf_set_print(&capture_libbpf_print)) {
    last_libbpf_message().clear();
  }
  ~CapturedLibbpfLog() { libbpf_set_print(previous_); }
  CapturedLibbpfLog(const CapturedLibbpfLog&) = delete;
  CapturedLibbpfLog& operator=(const CapturedLibbpfLog&) = delete;

  // The last message libbpf logged since the previous take(), then forgets it.
  static std::string take() { return std::exchange(last_libbpf_message(), {}); }

 private:
  libbpf_print_fn_t previous_;
};

// ---- The few BPF instructions the probes need (linux/bpf.h has the struct, not the macros).

bpf_insn make_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
  return make_insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov64_reg(uint8_t dst, uint8_t src) {
  return make_insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn add64_imm(uint8_t dst, int32_t imm) {
  return make_insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
bpf_insn store_dw_imm(uint8_t dst, int16_t off, int32_t imm) {
  return make_insn(BPF_ST | BPF_MEM | BPF_DW, dst, 0, off, imm);
}
bpf_insn call_helper(int32_t helper) {
  return make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}
bpf_insn exit_insn() {
  return make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}
// A map fd load takes two instruction slots; the second carries the upper 32 bits (zero).
bpf_insn ld_map_fd_lo(uint8_t dst, int fd) {
  return make_insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
}
bpf_insn ld_imm64_hi() {
  return make_insn(0, 0, 0, 0, 0);
}

// `return 0;` — enough for every program type probed here (0 also means "allow" for LSM).
std::vector<bpf_insn> return_zero_program() {
  return {mov64_imm(BPF_REG_0, 0), exit_insn()};
}

// `u64 zero = 0; bpf_ringbuf_output(map, &zero, 8, 0); return 0;`
std::vector<bpf_insn> ringbuf_output_program(int map_fd) {
  return {
      store_dw_imm(BPF_REG_10, -8, 0),
      ld_map_fd_lo(BPF_REG_1, map_fd),
      ld_imm64_hi(),
      mov64_reg(BPF_REG_2, BPF_REG_10),
      add64_imm(BPF_REG_2, -8),
      mov64_imm(BPF_REG_3, 8),
      mov64_imm(BPF_REG_4, 0),
      call_helper(BPF_FUNC_ringbuf_output),
      mov64_imm(BPF_REG_0, 0),
      exit_insn(),
  };
}

// ---- Loading and attaching. ----

struct ProbeContext {
  bool privileged = false;
  const btf* vmlinux = nullptr;  // null when vmlinux BTF could not be loaded
};

// A refusal without privileges says nothing about the kernel; with them, it is the kernel's
// answer. Anything else is the probe going wrong.
Status classify(const ProbeContext& ctx, int err) {
  if ((err == EPERM || err == EACCES) && !ctx.privileged) return Status::kNotPermitted;
  switch (err) {
    case EPERM:
    case EACCES:
    case EINVAL:
    case ENOENT:
    case EOPNOTSUPP:
    case kEnotsupp:
    case ENOSYS:
    case E2BIG:
    case ENODEV:
    case ESRCH:
      return Status::kUnavailable;
    default:
      return Status::kError;
  }
}

// A failed step: the errno and the most useful log line (verifier, else libbpf).
struct Failure {
  int err = 0;
  std::string why;

  std::string describe(std::string_view step) const {
    std::string s = std::string(step) + " failed: " + errno_name(err);
    if (!why.empty()) s += " (" + why + ")";
    return s;
  }
};

struct LoadSpec {
  bpf_prog_type type = BPF_PROG_TYPE_UNSPEC;
  bpf_attach_type expected_attach_type = static_cast<bpf_attach_type>(0);
  uint32_t attach_btf_id = 0;
};

struct Loaded {
  UniqueFd fd;
  Failure failure;  // meaningful when !fd.valid()
};

Loaded load_program(const LoadSpec& spec, const std::vector<bpf_insn>& insns) {
  // libbpf loads without a log first and retries with log_level 1 only on failure.
  std::vector<char> log(size_t{64} * 1024, '\0');
  bpf_prog_load_opts opts;
  std::memset(&opts, 0, sizeof opts);
  opts.sz = sizeof opts;
  opts.expected_attach_type = spec.expected_attach_type;
  opts.attach_btf_id = spec.attach_btf_id;
  opts.log_buf = log.data();
  opts.log_size = static_cast<uint32_t>(log.size());
  opts.log_level = 0;
  CapturedLibbpfLog::take();
  errno = 0;
  int fd = bpf_prog_load(spec.type, kProgName, kLicense, insns.data(), insns.size(), &opts);
  Loaded out;
  if (fd >= 0) {
    out.fd = UniqueFd(fd);
    return out;
  }
  out.failure.err = fd < -1 ? -fd : (errno != 0 ? errno : EPERM);
  out.failure.why = last_line(std::string_view(log.data(), strnlen(log.data(), log.size())));
  if (out.failure.why.empty()) out.failure.why = CapturedLibbpfLog::take();
  if (out.failure.why.empty()) out.failure.why = "no verifier log";
  return out;
}

Failure last_failure(int ret) {
  Failure f;
  f.err = ret < -1 ? -ret : (errno != 0 ? errno : EPERM);
  f.why = CapturedLibbpfLog::take();
  return f;
}

int perf_event_open(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
  return static_cast<int>(syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags));
}

// Per-tracepoint attach outcomes, summarised as "raw_tp/{a,b}: <why>" groups.
class AttachTally {
 public:
  explicit AttachTally(std::string prefix) : prefix_(std::move(prefix)) {}
  void attached(std::string tp) { attached_.push_back(std::move(tp)); }
  void failed(std::string tp, int err, std::string why) {
    if (first_err_ == 0) first_err_ = err;
    for (auto& group : failed_) {
      if (group.first == why) {
        group.second.push_back(std::move(tp));
        return;
      }
    }
    std::vector<std::string> tps;
    tps.push_back(std::move(tp));
    failed_.emplace_back(std::move(why), std::move(tps));
  }
  bool all_attached() const { return failed_.empty(); }
  int first_err() const { return first_err_; }
  std::string describe() const {
    std::vector<std::string> parts;
    for (const auto& [why, tps] : failed_) {
      parts.push_back(prefix_ + "/{" + join(tps, ",") + "}: " + why);
    }
    if (!attached_.empty()) {
      parts.push_back("attached to " + prefix_ + "/{" + join(attached_, ",") + "}");
    }
    return join(parts, "; ");
  }

 private:
  std::string prefix_;
  std::vector<std::string> attached_;
  std::vector<std::pair<std::string, std::vector<std::string>>> failed_;
  int first_err_ = 0;
};

void raise_memlock_limit() {
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  // Best effort: since 5.11 BPF memory is charged to the memory cgroup instead.
  (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
}

// ---- The probes. ----

FeatureReport probe_btf(BtfPtr& out) {
  CapturedLibbpfLog::take();
  errno = 0;
  btf* raw = btf__load_vmlinux_btf();
  if (raw == nullptr) {
    int err = errno != 0 ? errno : ENOENT;
    std::string detail = "cannot load vmlinux BTF: " + errno_name(err);
    if (!path_exists("/sys/kernel/btf/vmlinux")) detail += " (/sys/kernel/btf/vmlinux missing)";
    Status status = (err == EACCES || err == EPERM) ? Status::kNotPermitted : Status::kUnavailable;
    return make_report("btf", status, std::move(detail), kCostBtf);
  }
  out.reset(raw);
  const char* source =
      path_exists("/sys/kernel/btf/vmlinux") ? "/sys/kernel/btf/vmlinux" : "a vmlinux image";
  bool has_task = btf__find_by_name_kind(raw, "task_struct", BTF_KIND_STRUCT) > 0;
  std::string detail = std::string("loaded vmlinux BTF from ") + source + ": " +
                       std::to_string(btf__type_cnt(raw)) + " types";
  if (!has_task) {
    return make_report("btf", Status::kUnavailable, detail + ", but no struct task_struct",
                       kCostBtf);
  }
  return make_report("btf", Status::kAvailable, detail + ", struct task_struct present", kCostBtf);
}

FeatureReport probe_bpf_syscall(const ProbeContext& ctx) {
  std::string sysctl = read_first_line("/proc/sys/kernel/unprivileged_bpf_disabled");
  std::string setting = sysctl.empty() ? "" : " (kernel.unprivileged_bpf_disabled=" + sysctl + ")";
  CapturedLibbpfLog::take();
  errno = 0;
  int map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ritma_probe", 4, 8, 1, nullptr);
  if (map_fd < 0) {
    Failure f = last_failure(map_fd);
    return make_report("bpf_syscall", classify(ctx, f.err),
                       f.describe("BPF_MAP_CREATE (array)") + setting, kCostBpfSyscall);
  }
  UniqueFd map(map_fd);
  Loaded prog = load_program({BPF_PROG_TYPE_SOCKET_FILTER}, return_zero_program());
  if (!prog.fd.valid()) {
    return make_report(
        "bpf_syscall", classify(ctx, prog.failure.err),
        "array map created; " + prog.failure.describe("socket filter load") + setting,
        kCostBpfSyscall);
  }
  return make_report("bpf_syscall", Status::kAvailable,
                     "created an array map and loaded a socket filter" + setting, kCostBpfSyscall);
}

int count_record(void* ctx, void* /*data*/, size_t /*size*/) {
  ++*static_cast<size_t*>(ctx);
  return 0;
}

FeatureReport probe_ringbuf(const ProbeContext& ctx) {
  const long page = sysconf(_SC_PAGESIZE);
  const uint32_t size = static_cast<uint32_t>((page > 0 ? page : 4096) * 16);
  const std::string size_text = std::to_string(size / 1024) + " KiB";
  CapturedLibbpfLog::take();
  errno = 0;
  int map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ritma_probe_rb", 0, 0, size, nullptr);
  if (map_fd < 0) {
    Failure f = last_failure(map_fd);
    return make_report("ringbuf", classify(ctx, f.err),
                       f.describe("BPF_MAP_CREATE (ringbuf, " + size_text + ")"), kCostRingbuf);
  }
  UniqueFd map(map_fd);
  std::string detail = "created a " + size_text + " ring buffer";
  Loaded prog = load_program({BPF_PROG_TYPE_RAW_TRACEPOINT}, ringbuf_output_program(map.get()));
  if (!prog.fd.valid()) {
    return make_report(
        "ringbuf", classify(ctx, prog.failure.err),
        detail + "; " + prog.failure.describe("loading a bpf_ringbuf_output program"),
        kCostRingbuf);
  }
  detail += ", loaded a program calling bpf_ringbuf_output";

  // Delivery: let the program run on our own syscalls, then read what arrived.
  CapturedLibbpfLog::take();
  errno = 0;
  int link_fd = bpf_raw_tracepoint_open("sys_enter", prog.fd.get());
  if (link_fd < 0) {
    return make_report("ringbuf", Status::kAvailable,
                       detail + "; delivery not tested (" +
                           last_failure(link_fd).describe("raw_tp/sys_enter attach") + ")",
                       kCostRingbuf);
  }
  UniqueFd link(link_fd);
  for (int i = 0; i < 4; ++i) (void)syscall(SYS_getppid);
  link.reset();

  size_t records = 0;
  RingBufferPtr rb(ring_buffer__new(map.get(), &count_record, &records, nullptr));
  if (!rb) {
    Failure f = last_failure(-errno);
    return make_report("ringbuf", Status::kError, detail + "; " + f.describe("ring_buffer__new"),
                       kCostRingbuf);
  }
  int consumed = ring_buffer__consume(rb.get());
  if (consumed < 0) {
    return make_report("ringbuf", Status::kError,
                       detail + "; " + last_failure(consumed).describe("ring_buffer__consume"),
                       kCostRingbuf);
  }
  if (records == 0) {
    return make_report("ringbuf", Status::kError,
                       detail + "; attached to raw_tp/sys_enter but no record reached user space",
                       kCostRingbuf);
  }
  return make_report("ringbuf", Status::kAvailable,
                     detail + "; " + std::to_string(records) +
                         " records from raw_tp/sys_enter read back in user space",
                     kCostRingbuf);
}

FeatureReport probe_raw_tracepoint(const ProbeContext& ctx) {
  Loaded prog = load_program({BPF_PROG_TYPE_RAW_TRACEPOINT}, return_zero_program());
  if (!prog.fd.valid()) {
    return make_report("raw_tracepoint", classify(ctx, prog.failure.err),
                       prog.failure.describe("BPF_PROG_TYPE_RAW_TRACEPOINT load"),
                       kCostRawTracepoint);
  }
  AttachTally tally("raw_tp");
  for (const char* tp : kBaseTracepoints) {
    CapturedLibbpfLog::take();
    errno = 0;
    int link_fd = bpf_raw_tracepoint_open(tp, prog.fd.get());
    if (link_fd < 0) {
      Failure f = last_failure(link_fd);
      tally.failed(tp, f.err, f.describe("attach"));
      continue;
    }
    UniqueFd link(link_fd);  // detached again at the end of this iteration
    tally.attached(tp);
  }
  return make_report("raw_tracepoint",
                     tally.all_attached() ? Status::kAvailable : classify(ctx, tally.first_err()),
                     tally.describe(), kCostRawTracepoint);
}

FeatureReport probe_btf_tracepoint(const ProbeContext& ctx) {
  if (ctx.vmlinux == nullptr) {
    return make_report("btf_tracepoint", Status::kUnavailable,
                       "not tried: needs vmlinux BTF (see btf)", kCostBtfTracepoint);
  }
  AttachTally tally("tp_btf");
  for (const char* tp : kBaseTracepoints) {
    std::string type_name = std::string("btf_trace_") + tp;
    int id = btf__find_by_name_kind(ctx.vmlinux, type_name.c_str(), BTF_KIND_TYPEDEF);
    if (id <= 0) {
      tally.failed(tp, ENOENT, "no BTF typedef btf_trace_<name>");
      continue;
    }
    Loaded prog = load_program({BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, static_cast<uint32_t>(id)},
                               return_zero_program());
    if (!prog.fd.valid()) {
      tally.failed(tp, prog.failure.err, prog.failure.describe("load"));
      continue;
    }
    CapturedLibbpfLog::take();
    errno = 0;
    int link_fd = bpf_raw_tracepoint_open(nullptr, prog.fd.get());
    if (link_fd < 0) {
      Failure f = last_failure(link_fd);
      tally.failed(tp, f.err, "loaded, " + f.describe("attach"));
      continue;
    }
    UniqueFd link(link_fd);
    tally.attached(tp);
  }
  return make_report("btf_tracepoint",
                     tally.all_attached() ? Status::kAvailable : classify(ctx, tally.first_err()),
                     tally.describe(), kCostBtfTracepoint);
}

// Where tracefs is mounted with an events/ directory, or "" when it is not.
std::string find_tracefs() {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    struct statfs fs;
    if (::statfs(dir, &fs) != 0) continue;
    if (static_cast<unsigned long>(fs.f_type) != kTracefsMagic) continue;
    if (path_exists(std::string(dir) + "/events")) return dir;
  }
  return "";
}

FeatureReport probe_tracepoint(const ProbeContext& ctx) {
  const std::string tracefs = find_tracefs();
  if (tracefs.empty()) {
    return make_report(
        "tracepoint", Status::kUnavailable,
        "tracefs is not mounted (looked at /sys/kernel/tracing and /sys/kernel/debug/tracing); "
        "`mount -t tracefs nodev /sys/kernel/tracing` would enable classic tracepoints",
        kCostTracepoint);
  }
  std::string event;
  std::string id_text;
  int open_err = 0;
  for (const char* candidate : {"syscalls/sys_enter_openat", "sched/sched_process_exec"}) {
    std::ifstream in(tracefs + "/events/" + candidate + "/id");
    if (!in) {
      if (open_err == 0) open_err = errno != 0 ? errno : ENOENT;
      continue;
    }
    std::getline(in, id_text);
    event = candidate;
    break;
  }
  if (event.empty()) {
    return make_report(
        "tracepoint", classify(ctx, open_err),
        "tracefs at " + tracefs + ", but reading events/*/id failed: " + errno_name(open_err),
        kCostTracepoint);
  }
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof attr;
  attr.config = std::strtoull(id_text.c_str(), nullptr, 10);
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  int perf_fd = perf_event_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (perf_fd < 0) {
    int err = errno;
    return make_report("tracepoint", classify(ctx, err),
                       "perf_event_open(tracepoint " + event + ") failed: " + errno_name(err),
                       kCostTracepoint);
  }
  UniqueFd perf(perf_fd);
  Loaded prog = load_program({BPF_PROG_TYPE_TRACEPOINT}, return_zero_program());
  if (!prog.fd.valid()) {
    return make_report("tracepoint", classify(ctx, prog.failure.err),
                       prog.failure.describe("BPF_PROG_TYPE_TRACEPOINT load"), kCostTracepoint);
  }
  if (::ioctl(perf.get(), PERF_EVENT_IOC_SET_BPF, prog.fd.get()) != 0) {
    int err = errno;
    return make_report(
        "tracepoint", classify(ctx, err),
        "PERF_EVENT_IOC_SET_BPF on tracepoint/" + event + " failed: " + errno_name(err),
        kCostTracepoint);
  }
  return make_report(
      "tracepoint", Status::kAvailable,
      "attached to tracepoint/" + event + " via perf_event_open (tracefs at " + tracefs + ")",
      kCostTracepoint);
}

FeatureReport probe_kprobe(const ProbeContext& ctx) {
  const std::string pmu_type_path = "/sys/bus/event_source/devices/kprobe/type";
  const std::string pmu_type = read_first_line(pmu_type_path);
  Loaded prog = load_program({BPF_PROG_TYPE_KPROBE}, return_zero_program());
  const std::string load_text = prog.fd.valid()
                                    ? "a BPF_PROG_TYPE_KPROBE program loads"
                                    : prog.failure.describe("BPF_PROG_TYPE_KPROBE load");
  if (pmu_type.empty()) {
    return make_report(
        "kprobe", Status::kUnavailable,
        "no kprobe PMU (" + pmu_type_path + " missing), so nothing to attach to; " + load_text,
        kCostKprobe);
  }
  if (!prog.fd.valid()) {
    return make_report("kprobe", classify(ctx, prog.failure.err), load_text, kCostKprobe);
  }
  std::vector<std::string> failed;
  int first_err = 0;
  for (const char* symbol : {"do_sys_openat2", "__x64_sys_getpid"}) {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.type = static_cast<uint32_t>(std::strtoul(pmu_type.c_str(), nullptr, 10));
    attr.size = sizeof attr;
    attr.kprobe_func = reinterpret_cast<uint64_t>(symbol);
    attr.probe_offset = 0;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    int perf_fd = perf_event_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (perf_fd < 0) {
      int err = errno;
      if (first_err == 0) first_err = err;
      failed.push_back(std::string(symbol) + ": perf_event_open " + errno_name(err));
      continue;
    }
    UniqueFd perf(perf_fd);
    if (::ioctl(perf.get(), PERF_EVENT_IOC_SET_BPF, prog.fd.get()) != 0) {
      int err = errno;
      if (first_err == 0) first_err = err;
      failed.push_back(std::string(symbol) + ": PERF_EVENT_IOC_SET_BPF " + errno_name(err));
      continue;
    }
    return make_report(
        "kprobe", Status::kAvailable,
        std::string("attached to kprobe/") + symbol + " via the kprobe PMU (type " + pmu_type + ")",
        kCostKprobe);
  }
  return make_report("kprobe", classify(ctx, first_err),
                     "kprobe PMU type " + pmu_type + "; " + join(failed, "; "), kCostKprobe);
}

// Loads a BTF-attached program (fentry, LSM) against the first kernel function of `functions`
// that has BTF, then attaches it. Returns the status and what happened.
std::pair<Status, std::string> try_btf_function_program(
    const ProbeContext& ctx, bpf_prog_type type, bpf_attach_type attach_type,
    std::string_view section, std::initializer_list<const char*> functions) {
  if (ctx.vmlinux == nullptr) {
    return {Status::kUnavailable, "not tried: needs vmlinux BTF (see btf)"};
  }
  int id = 0;
  std::string function;
  for (const char* candidate : functions) {
    id = btf__find_by_name_kind(ctx.vmlinux, candidate, BTF_KIND_FUNC);
    if (id > 0) {
      function = candidate;
      break;
    }
  }
  const std::string target = std::string(section) + "/" + function;
  if (id <= 0) {
    return {Status::kUnavailable, "no BTF for any of the candidate kernel functions"};
  }
  Loaded prog = load_program({type, attach_type, static_cast<uint32_t>(id)}, return_zero_program());
  if (!prog.fd.valid()) {
    return {classify(ctx, prog.failure.err), target + ": " + prog.failure.describe("load")};
  }
  CapturedLibbpfLog::take();
  errno = 0;
  int link_fd = bpf_raw_tracepoint_open(nullptr, prog.fd.get());
  if (link_fd < 0) {
    Failure f = last_failure(link_fd);
    return {classify(ctx, f.err), target + ": loaded, " + f.describe("attach")};
  }
  UniqueFd link(link_fd);
  return {Status::kAvailable, "attached to " + target};
}

FeatureReport probe_fentry(const ProbeContext& ctx) {
  auto [status, detail] = try_btf_function_program(ctx, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
                                                   "fentry", {"do_unlinkat", "do_sys_openat2"});
  return make_report("fentry", status, std::move(detail), kCostFentry);
}

// The active LSMs, as the kernel lists them (securityfs, else the lsm_list_modules syscall),
// prefixed by where the list came from; "" when neither answers.
std::string active_lsms() {
  std::string list = read_first_line("/sys/kernel/security/lsm");
  if (!list.empty()) return "/sys/kernel/security/lsm: " + list;
#if defined(__x86_64__) || defined(__aarch64__)
  constexpr long kSysLsmListModules = 461;
  uint64_t ids[32] = {};
  uint32_t size = sizeof ids;
  long n = syscall(kSysLsmListModules, ids, &size, 0);
  if (n <= 0) return "";
  std::vector<std::string> names;
  for (long i = 0; i < n && i < 32; ++i) {
    switch (ids[i]) {
      case 100:
        names.push_back("capability");
        break;
      case 101:
        names.push_back("selinux");
        break;
      case 102:
        names.push_back("smack");
        break;
      case 103:
        names.push_back("tomoyo");
        break;
      case 104:
        names.push_back("apparmor");
        break;
      case 105:
        names.push_back("yama");
        break;
      case 106:
        names.push_back("loadpin");
        break;
      case 107:
        names.push_back("safesetid");
        break;
      case 108:
        names.push_back("lockdown");
        break;
      case 109:
        names.push_back("bpf");
        break;
      case 110:
        names.push_back("landlock");
        break;
      case 111:
        names.push_back("ima");
        break;
      case 112:
        names.push_back("evm");
        break;
      case 113:
        names.push_back("ipe");
        break;
      default:
        names.push_back("lsm#" + std::to_string(ids[i]));
        break;
    }
  }
  return "lsm_list_modules: " + join(names, ",");
#else
  return "";
#endif
}

FeatureReport probe_bpf_lsm(const ProbeContext& ctx) {
  auto [status, detail] =
      try_btf_function_program(ctx, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "lsm", {"bpf_lsm_file_open"});
  const std::string lsms = active_lsms();
  if (lsms.empty()) {
    detail += "; active LSM list unreadable (securityfs not mounted, no lsm_list_modules)";
  } else {
    const std::string names = "," + lsms.substr(lsms.find(": ") + 2) + ",";
    const bool listed = names.find(",bpf,") != std::string::npos;
    detail +=
        std::string("; \"bpf\" ") + (listed ? "is" : "is NOT") + " an active LSM (" + lsms + ")";
  }
  return make_report("bpf_lsm", status, std::move(detail), kCostBpfLsm);
}

const FeatureReport* find(std::span<const FeatureReport> reports, std::string_view name) {
  for (const auto& r : reports) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace

bool has_bpf_privileges() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const uint64_t caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    auto has = [caps](int cap) { return (caps >> cap) & 1U; };
    return has(kCapSysAdmin) || (has(kCapBpf) && has(kCapPerfmon));
  }
  return geteuid() == 0;
}

std::vector<FeatureReport> probe_capture_features() {
  CapturedLibbpfLog log_capture;
  raise_memlock_limit();

  std::vector<FeatureReport> reports;
  BtfPtr vmlinux;
  reports.push_back(probe_btf(vmlinux));
  ProbeContext ctx;
  ctx.privileged = has_bpf_privileges();
  ctx.vmlinux = vmlinux.get();

  reports.push_back(probe_bpf_syscall(ctx));
  reports.push_back(probe_ringbuf(ctx));
  reports.push_back(probe_raw_tracepoint(ctx));
  reports.push_back(probe_btf_tracepoint(ctx));
  reports.push_back(probe_tracepoint(ctx));
  reports.push_back(probe_kprobe(ctx));
  reports.push_back(probe_fentry(ctx));
  reports.push_back(probe_bpf_lsm(ctx));
  return reports;
}

Readiness assess_capture(std::span<const FeatureReport> reports) {
  auto ok = [&](std::string_view name) {
    const FeatureReport* r = find(reports, name);
    return r != nullptr && r->available();
  };
  std::vector<std::string> missing;
  for (const char* required : {"bpf_syscall", "btf", "ringbuf"}) {
    if (!ok(required)) missing.push_back(required);
  }
  const bool raw = ok("raw_tracepoint");
  const bool btf_tp = ok("btf_tracepoint");
  if (!raw && !btf_tp) missing.push_back("raw_tracepoint or btf_tracepoint");

  Readiness out;
  if (!missing.empty()) {
    out.ready = false;
    out.summary = "capture: NOT possible: missing " + join(missing, ", ");
    bool not_permitted = false;
    for (const auto& r : reports) not_permitted |= r.status == Status::kNotPermitted;
    if (not_permitted) out.summary += " (some probes were not permitted: run as root)";
    return out;
  }
  out.ready = true;
  std::string base = raw && btf_tp ? "raw + BTF tracepoints"
                     : raw         ? "raw tracepoints"
                                   : "BTF tracepoints";
  out.summary = "capture: ready (" + base + " + ring buffer, CO-RE via vmlinux BTF)";
  std::vector<std::string> extras_on;
  std::vector<std::string> extras_off;
  for (const char* extra : {"tracepoint", "kprobe", "fentry", "bpf_lsm"}) {
    (ok(extra) ? extras_on : extras_off).push_back(extra);
  }
  if (!extras_on.empty()) out.summary += "; optional extras on: " + join(extras_on, ", ");
  if (!extras_off.empty()) out.summary += "; off: " + join(extras_off, ", ");
  return out;
}

}  // namespace ritma::capture
