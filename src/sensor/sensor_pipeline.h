// SensorPipeline: the user-space path of every kernel record, in ring-buffer order:
// decode -> sequence number and wall time -> attribution (process table, cgroup -> container)
// -> batch -> hot index. Kernel-side counters are turned into events here too, so a loss is a
// recorded fact with its count, never a silent gap.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/bpf_sensor.h"
#include "capture/event.h"
#include "capture/process_table.h"
#include "core/bytes.h"
#include "core/result.h"
#include "store/hot_index.h"

namespace ritma::sensor {

// Loss/filtered event kinds, in Event::arg0 of kLoss and kFiltered events.
enum class LossSource : uint64_t {
  kRingBufferFull = 1,      // the kernel could not reserve ring-buffer space
  kPendingOverflow = 2,     // the syscall pairing map was full: enter/exit not paired
  kUndecodable = 3,         // user space could not decode a record (counted, record kept out)
  kReadonlyOpenPolicy = 4,  // kFiltered: read-only opens skipped by policy
  kSelfExcluded = 5,        // kFiltered: the sensor's own activity, not recorded
};

struct PipelineCounters {
  uint64_t records = 0;      // ring-buffer records received
  uint64_t events = 0;       // events appended to the hot index (including loss events)
  uint64_t undecodable = 0;  // records that failed to decode
  uint64_t lost = 0;         // sum of counts in loss events emitted
  uint64_t filtered = 0;     // sum of counts in filtered events emitted
};

class SensorPipeline {
 public:
  // `index` may be null (a Requiem run's trace: the events only go to the sink).
  // `first_seq`: the sequence number of the first event (continue the boot's sequence).
  // `wall_offset_ns`: CLOCK_REALTIME - CLOCK_BOOTTIME, see calibrate_wall_offset().
  SensorPipeline(store::HotIndex* index, capture::ProcessTable* processes,
                 const capture::BootId& boot_id, uint64_t first_seq, int64_t wall_offset_ns);

  // One ring-buffer record. Never fails: an undecodable record is counted and reported by the
  // next account() as a loss.
  void on_record(ByteSpan record);
  // Turns growth of the kernel counters since the last call into loss events, and, when
  // `with_filtered`, into filtered events too (those are coalesced: the caller passes true
  // every few seconds and at stop, so an idle host does not fill up with small counts).
  void account(const capture::KernelCounters& now, bool with_filtered = true);
  // Appends an event made by the sensor itself (run start, gap); assigns seq and actor.
  void add_sensor_event(capture::Event e);
  // Writes the batch to the hot index in one transaction.
  Status flush();

  size_t pending() const { return batch_.size(); }
  uint64_t next_seq() const { return next_seq_; }
  const PipelineCounters& counters() const { return counters_; }
  void set_wall_offset(int64_t offset_ns) { wall_offset_ns_ = offset_ns; }
  // After each batch reaches the hot index, it is handed to `sink` (the sealer).
  using Sink = std::function<Status(std::span<const capture::Event>)>;
  void set_sink(Sink sink) { sink_ = std::move(sink); }
  // hash-only privacy: every string is replaced by its keyed hash before it is stored.
  void set_privacy_secret(const Hash32& secret) { privacy_secret_ = secret; }

 private:
  void push(capture::Event& e);
  void update_processes(const capture::Event& e);

  store::HotIndex* index_;
  capture::ProcessTable* processes_;
  capture::BootId boot_id_;
  uint64_t next_seq_;
  int64_t wall_offset_ns_;
  capture::KernelCounters last_{};           // as of the last loss accounting
  capture::KernelCounters last_filtered_{};  // as of the last filtered accounting
  uint64_t undecodable_reported_ = 0;
  std::vector<capture::Event> batch_;
  PipelineCounters counters_;
  Sink sink_;
  std::optional<Hash32> privacy_secret_;
};

// CLOCK_REALTIME - CLOCK_BOOTTIME in ns, from the tightest of several bracketing samples.
int64_t calibrate_wall_offset();
uint64_t boottime_ns();

}  // namespace ritma::sensor
