// Loading and attaching the sensor's BPF programs through the generated libbpf skeleton.
#include "capture/bpf_sensor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capture/bpf/sensor_event.h"
#include "sensor_bpf.skel.h"

namespace ritma::capture {

void fill_syscall_table(uint8_t* t, size_t size) {
  auto set = [&](long nr, int sc) {
    if (nr >= 0 && static_cast<size_t>(nr) < size) t[nr] = static_cast<uint8_t>(sc);
  };
#ifdef SYS_open
  set(SYS_open, RITMA_SC_OPEN);
#endif
#ifdef SYS_creat
  set(SYS_creat, RITMA_SC_CREAT);
#endif
  set(SYS_openat, RITMA_SC_OPENAT);
#ifdef SYS_openat2
  set(SYS_openat2, RITMA_SC_OPENAT2);
#endif
#ifdef SYS_unlink
  set(SYS_unlink, RITMA_SC_UNLINK);
#endif
  set(SYS_unlinkat, RITMA_SC_UNLINKAT);
#ifdef SYS_rename
  set(SYS_rename, RITMA_SC_RENAME);
#endif
#ifdef SYS_renameat
  set(SYS_renameat, RITMA_SC_RENAMEAT);
#endif
  set(SYS_renameat2, RITMA_SC_RENAMEAT2);
#ifdef SYS_chmod
  set(SYS_chmod, RITMA_SC_CHMOD);
#endif
  set(SYS_fchmod, RITMA_SC_FCHMOD);
  set(SYS_fchmodat, RITMA_SC_FCHMODAT);
#ifdef SYS_chown
  set(SYS_chown, RITMA_SC_CHOWN);
#endif
#ifdef SYS_lchown
  set(SYS_lchown, RITMA_SC_LCHOWN);
#endif
  set(SYS_fchown, RITMA_SC_FCHOWN);
  set(SYS_fchownat, RITMA_SC_FCHOWNAT);
#ifdef SYS_link
  set(SYS_link, RITMA_SC_LINK);
#endif
  set(SYS_linkat, RITMA_SC_LINKAT);
#ifdef SYS_symlink
  set(SYS_symlink, RITMA_SC_SYMLINK);
#endif
  set(SYS_symlinkat, RITMA_SC_SYMLINKAT);
#ifdef SYS_mkdir
  set(SYS_mkdir, RITMA_SC_MKDIR);
#endif
  set(SYS_mkdirat, RITMA_SC_MKDIRAT);
#ifdef SYS_rmdir
  set(SYS_rmdir, RITMA_SC_RMDIR);
#endif
  set(SYS_execve, RITMA_SC_EXECVE);
  set(SYS_execveat, RITMA_SC_EXECVEAT);
  set(SYS_connect, RITMA_SC_CONNECT);
  set(SYS_accept, RITMA_SC_ACCEPT);
  set(SYS_accept4, RITMA_SC_ACCEPT4);
  set(SYS_bind, RITMA_SC_BIND);
  set(SYS_listen, RITMA_SC_LISTEN);
  set(SYS_sendto, RITMA_SC_SENDTO);
  set(SYS_setuid, RITMA_SC_SETUID);
  set(SYS_setgid, RITMA_SC_SETGID);
  set(SYS_setreuid, RITMA_SC_SETREUID);
  set(SYS_setregid, RITMA_SC_SETREGID);
  set(SYS_setresuid, RITMA_SC_SETRESUID);
  set(SYS_setresgid, RITMA_SC_SETRESGID);
  set(SYS_capset, RITMA_SC_CAPSET);
  set(SYS_ptrace, RITMA_SC_PTRACE);
  set(SYS_init_module, RITMA_SC_INIT_MODULE);
  set(SYS_finit_module, RITMA_SC_FINIT_MODULE);
  set(SYS_delete_module, RITMA_SC_DELETE_MODULE);
  set(SYS_bpf, RITMA_SC_BPF);
  set(SYS_mount, RITMA_SC_MOUNT);
  set(SYS_umount2, RITMA_SC_UMOUNT2);
  set(SYS_unshare, RITMA_SC_UNSHARE);
  set(SYS_setns, RITMA_SC_SETNS);
  set(SYS_memfd_create, RITMA_SC_MEMFD_CREATE);
}

namespace {

// What on_record returns to libbpf to stop consuming early (any negative value does).
constexpr int kStopEarly = -EAGAIN;

Error bpf_error(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err < 0 ? -err : err);
  if (err == -EPERM || err == EPERM) {
    msg += " (the sensor needs root, or CAP_BPF + CAP_PERFMON; see `ritma doctor`)";
  }
  return make_error(msg);
}

}  // namespace

Result<std::unique_ptr<BpfSensor>> BpfSensor::start(const BpfSensorConfig& config,
                                                    RecordHandler handler) {
  // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; raising it is harmless after.
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &unlimited);

  std::unique_ptr<BpfSensor> s(new BpfSensor());
  s->handler_ = std::move(handler);
  s->skel_ = sensor_bpf::open();
  if (s->skel_ == nullptr) return bpf_error("cannot open the sensor BPF object", errno);

  auto* ro = s->skel_->rodata;
  ro->self_tgid = config.self_tgid != 0 ? config.self_tgid : static_cast<uint32_t>(getpid());
  ro->readonly_open_policy = config.readonly_open_policy;
  ro->target_cgroup_id = config.target_cgroup_id;
  ro->wakeup_bytes = config.batch_wakeup ? config.ringbuf_bytes / 16 : 0;
  if (config.readonly_skip_prefixes.size() > RITMA_RO_PREFIXES) {
    return make_error("at most " + std::to_string(RITMA_RO_PREFIXES) +
                      " read-only skip prefixes are supported");
  }
  for (size_t i = 0; i < config.readonly_skip_prefixes.size(); ++i) {
    const std::string& p = config.readonly_skip_prefixes[i];
    if (p.empty() || p.size() > RITMA_RO_PREFIX_LEN) {
      return make_error("read-only skip prefix \"" + p + "\" must be 1 to " +
                        std::to_string(RITMA_RO_PREFIX_LEN) + " bytes");
    }
    std::memcpy(const_cast<char*>(ro->ro_skip_prefix[i]), p.data(), p.size());
    ro->ro_skip_len[i] = static_cast<uint32_t>(p.size());
  }
  fill_syscall_table(const_cast<uint8_t*>(ro->syscall_ids), RITMA_MAX_SYSCALL_NR);

  if (int err = bpf_map__set_max_entries(s->skel_->maps.events, config.ringbuf_bytes); err) {
    return bpf_error("invalid ring buffer size " + std::to_string(config.ringbuf_bytes), err);
  }
  if (int err = sensor_bpf::load(s->skel_); err) {
    return bpf_error("cannot load the sensor BPF programs", err);
  }
  if (int err = sensor_bpf::attach(s->skel_); err) {
    return bpf_error("cannot attach the sensor BPF programs", err);
  }
  s->ring_ =
      ring_buffer__new(bpf_map__fd(s->skel_->maps.events), &BpfSensor::on_record, s.get(), nullptr);
  if (s->ring_ == nullptr) return bpf_error("cannot open the BPF ring buffer", errno);
  return s;
}

BpfSensor::~BpfSensor() {
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (skel_ != nullptr) sensor_bpf::destroy(skel_);
}

int BpfSensor::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSensor*>(ctx);
  // A negative return makes libbpf stop after this record (already consumed).
  return self->handler_(ByteSpan(static_cast<const uint8_t*>(data), size)) ? 0 : kStopEarly;
}

Result<int> BpfSensor::poll(int timeout_ms) {
  const int n = ring_buffer__poll(ring_, timeout_ms);
  if (n == kStopEarly) return 1;  // stopped at the handler's request
  if (n < 0 && n != -EINTR) return bpf_error("ring buffer poll failed", n);
  if (n > 0) return n;
  // Timed out (or interrupted): deliver what waits below the wakeup threshold.
  return drain();
}

void BpfSensor::detach() {
  sensor_bpf::detach(skel_);
}

Result<int> BpfSensor::drain() {
  const int n = ring_buffer__consume(ring_);
  if (n == kStopEarly) return 1;  // stopped at the handler's request: more may be waiting
  if (n < 0) return bpf_error("ring buffer consume failed", n);
  return n;
}

Result<KernelCounters> BpfSensor::counters() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return bpf_error("cannot count CPUs", ncpu);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  auto sum = [&](uint32_t key) -> Result<uint64_t> {
    if (bpf_map__lookup_elem(skel_->maps.counters, &key, sizeof key, per_cpu.data(),
                             per_cpu.size() * sizeof(uint64_t), 0) != 0) {
      return bpf_error("cannot read sensor counters", errno);
    }
    uint64_t total = 0;
    for (uint64_t v : per_cpu) total += v;
    return total;
  };
  KernelCounters c;
  RITMA_ASSIGN_OR_RETURN(c.ringbuf_drops, sum(RITMA_CNT_RINGBUF_DROPS));
  RITMA_ASSIGN_OR_RETURN(c.filtered_opens, sum(RITMA_CNT_FILTERED_OPENS));
  RITMA_ASSIGN_OR_RETURN(c.pending_overflow, sum(RITMA_CNT_PENDING_OVERFLOW));
  RITMA_ASSIGN_OR_RETURN(c.emitted, sum(RITMA_CNT_EMITTED));
  RITMA_ASSIGN_OR_RETURN(c.self_excluded, sum(RITMA_CNT_SELF_EXCLUDED));
  return c;
}

}  // namespace ritma::capture
