#include "requiem/run_trace.h"

#include <unistd.h>

#include <chrono>

#include "capture/event_atom.h"
#include "capture/process_table.h"
#include "core/merkle.h"
#include "seal/atom_scan.h"
#include "sensor/sensor_pipeline.h"

namespace ritma::requiem {

Result<std::unique_ptr<RunTracer>> RunTracer::start(uint64_t cgroup_id) {
  if (cgroup_id == 0) return make_error("the run has no v2 cgroup id to trace");
  std::unique_ptr<RunTracer> t(new RunTracer());
  capture::BpfSensorConfig cfg;
  cfg.target_cgroup_id = cgroup_id;
  cfg.ringbuf_bytes = 8u << 20;
  // A run's own reads matter (what it looked at): record read-only opens too, except the
  // dynamic loader's noise, as the sensor's default policy does.
  RunTracer* self = t.get();
  auto sensor = capture::BpfSensor::start(cfg, [self](ByteSpan record) {
    self->records_.emplace_back(record.begin(), record.end());
    return true;
  });
  if (!sensor.ok()) return make_error("kernel trace: " + sensor.error().message);
  t->sensor_ = std::move(*sensor);
  t->wall_offset_ns_ = sensor::calibrate_wall_offset();
  t->thread_ = std::thread([self] { self->pump(); });
  return t;
}

RunTracer::~RunTracer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void RunTracer::pump() {
  while (!stop_) {
    auto n = sensor_->poll(50);
    if (!n.ok()) {
      pump_status_ = n.error();
      return;
    }
  }
}

Result<RunTrace> RunTracer::finish() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  RITMA_TRY(pump_status_);
  sensor_->detach();
  for (;;) {
    RITMA_ASSIGN_OR_RETURN(const int n, sensor_->drain());
    if (n == 0) break;
  }
  RITMA_ASSIGN_OR_RETURN(const capture::KernelCounters counters, sensor_->counters());

  RunTrace trace;
  RITMA_ASSIGN_OR_RETURN(trace.boot_id, capture::read_boot_id());
  // The sensor's own pipeline, without a hot index: the events go to the sink.
  capture::ProcessTable processes(trace.boot_id, nullptr);
  sensor::SensorPipeline pipeline(nullptr, &processes, trace.boot_id, 0, wall_offset_ns_);
  pipeline.set_sink([&trace](std::span<const capture::Event> events) -> Status {
    trace.events.insert(trace.events.end(), events.begin(), events.end());
    return {};
  });
  for (const Bytes& r : records_) pipeline.on_record(r);
  // Losses become events, as in the sensor; filtered read-only opens are counted too.
  pipeline.account(counters, /*with_filtered=*/true);
  RITMA_TRY(pipeline.flush());
  trace.lost = pipeline.counters().lost;

  merkle::TreeBuilder tree;
  for (const capture::Event& e : trace.events) {
    const size_t before = trace.atoms.size();
    capture::encode_event_atom(e, trace.boot_id, trace.atoms);
    tree.add_leaf(ByteSpan(trace.atoms.data() + before, trace.atoms.size() - before));
  }
  trace.root = tree.root();
  return trace;
}

Result<TraceCheck> check_trace_atoms(ByteSpan atoms) {
  std::vector<seal::ScannedAtom> scanned;
  if (auto err = seal::scan_atoms(atoms, scanned)) return make_error("trace: " + err->message());
  TraceCheck out;
  merkle::TreeBuilder tree;
  for (const seal::ScannedAtom& a : scanned) {
    const ByteSpan b = a.bytes(atoms);
    auto e = capture::decode_event_atom(b);
    if (!e.ok())
      return make_error("trace: atom at byte " + std::to_string(a.offset) + ": " +
                        e.error().message);
    tree.add_leaf(b);
    out.events.push_back(std::move(*e));
  }
  out.root = tree.root();
  return out;
}

}  // namespace ritma::requiem
