// The sensor's user-space pipeline.
#include "sensor/sensor_pipeline.h"

#include <time.h>

#include <limits>

#include "capture/record_decoder.h"
#include "seal/sealer.h"

namespace ritma::sensor {

uint64_t boottime_ns() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int64_t calibrate_wall_offset() {
  int64_t best_offset = 0;
  int64_t best_width = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < 8; ++i) {
    const uint64_t before = boottime_ns();
    timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    const uint64_t after = boottime_ns();
    const int64_t wall = static_cast<int64_t>(rt.tv_sec) * 1'000'000'000ll + rt.tv_nsec;
    const int64_t width = static_cast<int64_t>(after - before);
    if (width < best_width) {
      best_width = width;
      best_offset = wall - static_cast<int64_t>(before + (after - before) / 2);
    }
  }
  return best_offset;
}

SensorPipeline::SensorPipeline(store::HotIndex* index, capture::ProcessTable* processes,
                               const capture::BootId& boot_id, uint64_t first_seq,
                               int64_t wall_offset_ns)
    : index_(index),
      processes_(processes),
      boot_id_(boot_id),
      next_seq_(first_seq),
      wall_offset_ns_(wall_offset_ns) {
  batch_.reserve(4096);
}

void SensorPipeline::push(capture::Event& e) {
  e.seq = next_seq_++;
  if (e.mono_ns == 0) e.mono_ns = boottime_ns();
  e.wall_ns = static_cast<int64_t>(e.mono_ns) + wall_offset_ns_;
  if (privacy_secret_) seal::apply_hash_only(*privacy_secret_, e);
  batch_.push_back(std::move(e));
}

void SensorPipeline::update_processes(const capture::Event& e) {
  capture::TaskSnapshot t;
  t.tgid = e.pid;
  t.ppid = e.ppid;
  t.start_ns = e.start_ns;
  t.parent_start_ns = e.parent_start_ns;
  t.creds = capture::Credentials{e.uid, e.gid, e.euid};
  t.cgroup_id = e.cgroup_id;
  t.comm = e.comm;
  switch (e.type) {
    case capture::EventType::kFork:
      processes_->on_fork(t, static_cast<uint32_t>(e.arg0), e.arg1);
      break;
    case capture::EventType::kExec:
      if (e.result == 0) {
        processes_->on_exec(t, e.path, e.argv, (e.flags & RITMA_F_ARGV_TRUNCATED) != 0);
      }
      break;
    case capture::EventType::kExit:
      processes_->on_exit(e.pid, e.start_ns, static_cast<int32_t>(e.result), e.mono_ns);
      break;
    default:
      break;
  }
}

void SensorPipeline::on_record(ByteSpan record) {
  ++counters_.records;
  capture::Event e;
  if (!capture::decode_record(record, e).ok()) {
    ++counters_.undecodable;
    return;
  }
  // Exec updates the table first so the event itself carries the new exe; exit after, so the
  // exiting process is still known when the event is enriched.
  if (e.type != capture::EventType::kExit) update_processes(e);
  processes_->enrich(e);
  // enrich() sets the actor from the table's cache; compute it only when it could not.
  if (e.actor == capture::ActorId{})
    e.actor = capture::compute_actor_id(boot_id_, e.pid, e.start_ns);
  if (e.type == capture::EventType::kExit) update_processes(e);
  push(e);
}

void SensorPipeline::account(const capture::KernelCounters& now, bool with_filtered) {
  auto emit = [&](capture::EventType type, LossSource source, uint64_t count) {
    if (count == 0) return;
    capture::Event e;
    e.type = type;
    e.arg0 = static_cast<uint64_t>(source);
    e.count = count;
    (type == capture::EventType::kLoss ? counters_.lost : counters_.filtered) += count;
    push(e);
  };
  emit(capture::EventType::kLoss, LossSource::kRingBufferFull,
       now.ringbuf_drops - last_.ringbuf_drops);
  emit(capture::EventType::kLoss, LossSource::kPendingOverflow,
       now.pending_overflow - last_.pending_overflow);
  emit(capture::EventType::kLoss, LossSource::kUndecodable,
       counters_.undecodable - undecodable_reported_);
  undecodable_reported_ = counters_.undecodable;
  last_ = now;
  if (!with_filtered) return;
  emit(capture::EventType::kFiltered, LossSource::kReadonlyOpenPolicy,
       now.filtered_opens - last_filtered_.filtered_opens);
  emit(capture::EventType::kFiltered, LossSource::kSelfExcluded,
       now.self_excluded - last_filtered_.self_excluded);
  last_filtered_ = now;
}

void SensorPipeline::add_sensor_event(capture::Event e) {
  push(e);
}

Status SensorPipeline::flush() {
  if (batch_.empty()) return {};
  if (index_ != nullptr) RITMA_TRY(index_->append(batch_));
  counters_.events += batch_.size();
  if (sink_) RITMA_TRY(sink_(batch_));
  batch_.clear();
  return {};
}

}  // namespace ritma::sensor
