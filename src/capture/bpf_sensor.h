// BpfSensor: loads the embedded CO-RE sensor programs (capture/bpf/sensor.bpf.c), attaches
// them to the BTF tracepoints, and hands every ring-buffer record to a callback. Also reads
// the kernel-side counters (drops, filtered opens, pairing overflow) that user space must
// seal as loss events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

struct sensor_bpf;
struct ring_buffer;

namespace ritma::capture {

struct BpfSensorConfig {
  uint32_t ringbuf_bytes = 16u << 20;  // power of two, >= page size
  uint32_t readonly_open_policy = 2;   // RITMA_RO_*: default skip noisy prefixes (counted)
  std::vector<std::string> readonly_skip_prefixes = {
      "/proc/",           "/sys/",      "/dev/", "/usr/lib/", "/lib/", "/usr/share/",
      "/etc/ld.so.cache", "/usr/lib64/"};
  uint64_t target_cgroup_id = 0;  // non-zero: trace only this cgroup (Requiem runs)
  uint32_t self_tgid = 0;         // not traced (the sensor itself); 0 = this process
  // Wake the consumer only when 1/16 of the buffer is waiting; the consumer must then also
  // drain() on a timer (poll's timeout). Saves a wakeup per event.
  bool batch_wakeup = true;
};

struct KernelCounters {
  uint64_t ringbuf_drops = 0;     // records lost: ring buffer full
  uint64_t filtered_opens = 0;    // read-only opens skipped by policy
  uint64_t pending_overflow = 0;  // syscalls not recorded: pairing map full
  uint64_t emitted = 0;           // records submitted to the ring buffer
  uint64_t self_excluded = 0;     // the sensor's own events, not recorded
};

class BpfSensor {
 public:
  // Returns false to stop consuming for now (e.g. the caller's batch is full and must be
  // flushed); the record passed is consumed either way, the rest stay in the ring buffer.
  using RecordHandler = std::function<bool(ByteSpan record)>;

  // Opens, configures, loads and attaches. Fails with what the kernel said (e.g. EPERM when
  // not privileged) and what to do about it.
  static Result<std::unique_ptr<BpfSensor>> start(const BpfSensorConfig& config,
                                                  RecordHandler handler);
  ~BpfSensor();
  BpfSensor(const BpfSensor&) = delete;
  BpfSensor& operator=(const BpfSensor&) = delete;

  // Waits up to timeout_ms for records and delivers them until the buffer is empty or the
  // handler asks to stop. With batch_wakeup, records below the wakeup threshold are delivered
  // when the timeout expires.
  Result<int> poll(int timeout_ms);
  // Delivers whatever is in the buffer now without waiting; returns how many were delivered
  // (at least 1 when the handler stopped early, so callers loop until it returns 0).
  Result<int> drain();
  // Detaches the programs: nothing more is recorded or counted. Call before the final drain()
  // and counters() so the last reading covers everything the run will ever report.
  void detach();
  // Sum over CPUs of the kernel counters.
  Result<KernelCounters> counters() const;

 private:
  BpfSensor() = default;
  static int on_record(void* ctx, void* data, size_t size);

  sensor_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  RecordHandler handler_;
};

// Fills the syscall-number -> RITMA_SC_* table for this architecture.
void fill_syscall_table(uint8_t* table, size_t size);

}  // namespace ritma::capture
