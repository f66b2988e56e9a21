// The kernel trace of one Requiem run: Ritma's capture programs loaded with a filter on the
// run's v2 cgroup (so only what the run's processes do is recorded, in the kernel), drained by
// a thread while the run goes on, then turned into events exactly as the sensor does (the
// pipeline: sequence numbers from 0, wall time, process attribution, loss accounting) and
// encoded as ritma-ev@1 atoms. The trace root is the RFC 9162 Merkle root over those atoms,
// each atom one leaf: the same leaf encoding as a sealed window's micro root (FORMAT.md §9,
// §10.4), so a run's trace verifies with the same code.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "capture/bpf_sensor.h"
#include "capture/event.h"
#include "core/bytes.h"
#include "core/result.h"

namespace ritma::requiem {

struct RunTrace {
  std::vector<capture::Event> events;  // seq 0, 1, ... in the order the kernel reported them
  Bytes atoms;                         // the events' atoms, concatenated (a CBOR sequence)
  Hash32 root{};                       // Merkle root over the atoms (empty tree: SHA-256(""))
  uint64_t lost = 0;                   // records the kernel or user space could not deliver
  capture::BootId boot_id{};
};

class RunTracer {
 public:
  // Loads and attaches the capture programs filtered on `cgroup_id` (non-zero) and starts
  // draining them. Needs the privileges the sensor needs (CAP_BPF and CAP_PERFMON, or root).
  static Result<std::unique_ptr<RunTracer>> start(uint64_t cgroup_id);
  ~RunTracer();
  RunTracer(const RunTracer&) = delete;
  RunTracer& operator=(const RunTracer&) = delete;

  // Stops recording (detach, final drain, kernel counters) and builds the trace.
  Result<RunTrace> finish();

 private:
  RunTracer() = default;
  void pump();

  std::unique_ptr<capture::BpfSensor> sensor_;
  std::vector<Bytes> records_;  // raw ring-buffer records, decoded in finish()
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Status pump_status_;
  int64_t wall_offset_ns_ = 0;
};

// The atoms of a stored trace, split and checked (strict CBOR, the ritma-ev@1 atom), with the
// Merkle root recomputed over them. Fails naming the byte offset of what does not decode.
struct TraceCheck {
  Hash32 root{};
  std::vector<capture::Event> events;
};
Result<TraceCheck> check_trace_atoms(ByteSpan atoms);

}  // namespace ritma::requiem
