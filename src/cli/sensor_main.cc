// `ritma-sensor`: the recording daemon. Loads the eBPF programs, attributes every event to
// the exact process, writes the hot index, and turns every kernel-side loss into a recorded
// event. One writer per node (flock in RITMA_SIDECAR_LOCK_DIR). Runs in the foreground; stops
// cleanly on SIGINT/SIGTERM (or after --duration) after draining and flushing.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "capture/bpf_sensor.h"
#include "capture/cgroup_resolver.h"
#include "capture/process_table.h"
#include "core/durable_file.h"
#include "core/single_writer_lock.h"
#include "seal/sealer.h"
#include "sensor/sensor_config.h"
#include "sensor/sensor_pipeline.h"
#include "sensor/sensor_status.h"
#include "store/hot_index.h"
#include "store/node_keys.h"
#include "store/store_layout.h"

namespace {

using namespace ritma;
volatile sig_atomic_t g_stop_signal = 0;

void on_signal(int sig) {
  g_stop_signal = sig;
}

[[noreturn]] void die(const std::string& msg, int code = 1) {
  std::cerr << "ritma-sensor: " << msg << "\n";
  std::exit(code);
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.error().message);
  return std::move(r).value();
}
void must(Status s, const std::string& what) {
  if (!s.ok()) die(what + ": " + s.error().message);
}

Result<uint64_t> parse_duration_ms(const std::string& s) {
  if (s.empty()) return make_error("empty duration");
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    return make_error("duration \"" + s + "\" is not a number with a unit (e.g. 30s, 5m, 1h)");
  }
  const std::string unit = s.substr(pos);
  double mult = 1000;
  if (unit == "ms")
    mult = 1;
  else if (unit == "s" || unit.empty())
    mult = 1000;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else
    return make_error("duration unit \"" + unit + "\" is not one of ms, s, m, h");
  if (v < 0 || v * mult > 1e15) return make_error("duration out of range");
  return static_cast<uint64_t>(v * mult);
}

uint32_t readonly_policy(const std::string& name) {
  if (name == "none") return RITMA_RO_NONE;
  if (name == "all") return RITMA_RO_ALL;
  return RITMA_RO_SKIP_PREFIXES;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ritma-sensor: record what runs on this host, from the kernel (eBPF), into the hot index.\n"
      "Needs root, or CAP_BPF + CAP_PERFMON (+ CAP_SYS_RESOURCE on old kernels); see `ritma "
      "doctor`.",
      "ritma-sensor"};
  app.set_version_flag("-V,--version", std::string("ritma-sensor ") + RITMA_VERSION);
  std::string config_file, base_dir, node_id, duration, readonly_opens;
  uint32_t ringbuf_mb = 0;
  uint64_t ringbuf_bytes = 0;
  int status_interval = -1;
  uint32_t window_s = 0;
  std::string privacy;
  app.add_option("-c,--config", config_file, "JSON config file (keys: see docs/SENSOR.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--base-dir", base_dir,
                 "Store base directory (default $RITMA_BASE_DIR or /var/lib/ritma)");
  app.add_option("--node-id", node_id,
                 "Node id (default $RITMA_NODE_ID; development: from /etc/machine-id)");
  app.add_option("--duration", duration,
                 "Stop after this long (e.g. 30s, 5m); default: until SIGINT/SIGTERM");
  app.add_option("--ringbuf-mb", ringbuf_mb,
                 "BPF ring buffer size in MiB (power of two; default 16)");
  app.add_option("--ringbuf-bytes", ringbuf_bytes,
                 "Exact ring buffer size in bytes (power of two >= 4096; for loss tests)");
  app.add_option("--readonly-opens", readonly_opens,
                 "Read-only opens: none | all | skip-noisy (default; skipped ones are counted)")
      ->check(CLI::IsMember({"none", "all", "skip-noisy"}));
  app.add_option("--status-interval", status_interval,
                 "Seconds between progress lines on stderr (0 = quiet; default 10)");
  app.add_option("--window", window_s,
                 "Sealing micro-window in seconds; must divide 3600 (default 10; applies to a "
                 "new store, an existing one keeps its own)");
  app.add_option("--privacy", privacy,
                 "raw (default) | hash-only: strings replaced by a keyed BLAKE3 with a per-store "
                 "secret")
      ->check(CLI::IsMember({"raw", "hash-only"}));
  CLI11_PARSE(app, argc, argv);

  sensor::SensorConfig cfg;
  if (!config_file.empty()) must(sensor::apply_config_file(config_file, cfg), "config");
  if (!base_dir.empty()) cfg.base_dir = base_dir;
  if (!node_id.empty()) cfg.node_id = node_id;
  if (ringbuf_mb != 0) cfg.ringbuf_mb = ringbuf_mb;
  if (ringbuf_bytes != 0) cfg.ringbuf_bytes_override = ringbuf_bytes;
  if (!readonly_opens.empty()) cfg.readonly_opens = readonly_opens;
  if (status_interval >= 0) cfg.status_interval_s = static_cast<uint32_t>(status_interval);
  if (window_s != 0) cfg.window_s = window_s;
  if (!privacy.empty()) cfg.privacy = privacy;
  must(sensor::validate(cfg), "config");
  uint64_t duration_ms = 0;
  if (!duration.empty()) duration_ms = must(parse_duration_ms(duration), "--duration");

  const store::StorePaths paths = store::resolve_store_paths(
      cfg.base_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(cfg.base_dir));
  const store::NodeId node =
      must(store::resolve_node_id(cfg.node_id.empty() ? std::nullopt
                                                      : std::optional<std::string>(cfg.node_id)),
           "node id");
  if (node.derived) {
    std::cerr << "ritma-sensor: warning: RITMA_NODE_ID is not set; using development node id "
              << node.id << " (derived from /etc/machine-id). Set RITMA_NODE_ID in production.\n";
  }
  cfg.node_id = node.id;
  cfg.base_dir = paths.base_dir;

  must(make_directories(paths.lock_dir, 0755), "lock directory");
  auto lock = must(SingleWriterLock::acquire(paths.lock_dir / ("ritma-sensor." + node.id + ".lock"),
                                             "ritma-sensor"),
                   "single writer");
  must(make_directories(paths.base_dir, 0755), "base directory");
  must(make_directories(paths.index_db.parent_path(), 0755), "index directory");

  store::HotIndex index = must(store::HotIndex::open_writer(paths.index_db), "hot index");
  const capture::BootId boot = must(capture::read_boot_id(), "boot id");
  const std::string boot_hex = to_hex(boot);
  const auto previous = must(index.last_run(), "reading the previous run");
  const auto stats = must(index.stats(), "hot index stats");
  // The sequence is per boot: continue it when the previous run was in this boot.
  uint64_t first_seq = 0;
  if (previous && previous->boot_id == boot_hex && stats.last_seq) first_seq = *stats.last_seq + 1;

  const int64_t offset = sensor::calibrate_wall_offset();
  const std::string digest = sensor::config_digest(cfg);
  store::RunStart run_start;
  run_start.boot_id = boot_hex;
  run_start.node_id = node.id;
  run_start.started_wall_ns = static_cast<int64_t>(sensor::boottime_ns()) + offset;
  run_start.sensor_version = RITMA_VERSION;
  run_start.config_digest = digest;
  const int64_t run_id = must(index.begin_run(run_start), "run record");

  // The sealed store: the node key signs every window (created on the first run).
  auto signing_key = store::load_node_signing_key(paths);
  if (!signing_key.ok()) {
    if (std::filesystem::exists(paths.node_private_key()))
      die("node key: " + signing_key.error().message);
    const auto created = must(store::init_node_key(paths, node.id), "creating the node key");
    std::cerr << "ritma-sensor: created node key " << created.name << " (fingerprint "
              << created.fingerprint << ") in " << created.private_key_path.string() << "\n";
    signing_key = store::load_node_signing_key(paths);
  }
  seal::SealerOptions seal_opts;
  seal_opts.out_dir = paths.out_dir;
  seal_opts.node_id = node.id;
  seal_opts.window_ns = uint64_t{cfg.window_s} * 1'000'000'000ull;
  seal_opts.privacy = cfg.privacy;
  seal_opts.zstd_level = static_cast<int>(cfg.zstd_level);
  seal_opts.run.run_id = static_cast<uint64_t>(run_id);
  seal_opts.run.boot_id = boot;
  seal_opts.run.sensor_version = RITMA_VERSION;
  seal_opts.run.config_digest = digest;
  auto sealer = must(seal::Sealer::open(seal_opts, must(std::move(signing_key), "node key")),
                     "sealed store " + paths.out_dir.string());
  for (const auto& line : sealer->recovery().notes())
    std::cerr << "ritma-sensor: sealed store: " << line << "\n";
  const seal::RecoveryReport& recovered = sealer->recovery();
  // The boot's sequence continues after both the hot index's and the sealed store's newest
  // event (the hot index may have been rotated, moved aside or made anew).
  if (recovered.last_run && recovered.last_run->boot_id == boot && recovered.last_sealed_seq &&
      *recovered.last_sealed_seq + 1 > first_seq)
    first_seq = *recovered.last_sealed_seq + 1;
  must(sealer->start_run_at(first_seq), "sealing");

  auto cgroups = capture::CgroupResolver::open_system();
  if (!cgroups.ok()) {
    std::cerr << "ritma-sensor: warning: " << cgroups.error().message
              << "; container and unit attribution is off\n";
  }
  capture::ProcessTable processes(boot, cgroups.ok() ? &cgroups.value() : nullptr);
  const size_t seeded = must(processes.seed_from_proc(), "seeding the process table");

  sensor::SensorPipeline pipeline(&index, &processes, boot, first_seq, offset);
  if (cfg.privacy == "hash-only")
    pipeline.set_privacy_secret(
        must(seal::load_or_create_privacy_secret(paths.out_dir), "privacy secret"));
  pipeline.set_sink([&](std::span<const capture::Event> events) { return sealer->add(events); });
  {
    // What happened before this run: a gap record, never a silent reset.
    capture::Event gap;
    gap.type = capture::EventType::kGap;
    if (!previous) {
      gap.arg0 = 0;  // first run of this store
      gap.path = "first run";
    } else {
      gap.arg0 = previous->ended_wall_ns ? 1 : 2;  // 1 clean stop, 2 unclean end
      gap.arg1 = static_cast<uint64_t>(previous->run_id);
      gap.arg2 = previous->ended_wall_ns ? static_cast<uint64_t>(*previous->ended_wall_ns) : 0;
      gap.count = stats.last_seq ? *stats.last_seq : 0;
      gap.path = previous->ended_wall_ns
                     ? "previous run " + std::to_string(previous->run_id) +
                           " stopped cleanly: " + previous->end_reason
                     : "previous run " + std::to_string(previous->run_id) +
                           " ended uncleanly (crash or kill); events after its last flush may be "
                           "lost";
      gap.path2 = previous->boot_id == boot_hex ? "same boot" : "new boot " + boot_hex;
      // What of it is sealed: arg3 = one past the last sealed seq (0: none sealed).
      gap.arg3 = recovered.last_sealed_seq ? *recovered.last_sealed_seq + 1 : 0;
      if (stats.last_seq &&
          (!recovered.last_sealed_seq || *recovered.last_sealed_seq < *stats.last_seq)) {
        gap.path += "; sealed through seq " +
                    (recovered.last_sealed_seq ? std::to_string(*recovered.last_sealed_seq)
                                               : std::string("(none)")) +
                    ", the hot index holds events through seq " + std::to_string(*stats.last_seq) +
                    ": the window in flight was not sealed";
      }
    }
    pipeline.add_sensor_event(gap);
    capture::Event run;
    run.type = capture::EventType::kRun;
    run.arg0 = static_cast<uint64_t>(run_id);
    run.pid = static_cast<uint32_t>(getpid());
    run.path = node.id;
    run.path2 = std::string("ritma-sensor ") + RITMA_VERSION;
    run.argv = {"config-digest=" + digest, "boot-id=" + boot_hex,
                "readonly-opens=" + cfg.readonly_opens,
                "self-excluded=pid " + std::to_string(getpid())};
    pipeline.add_sensor_event(run);
  }
  must(pipeline.flush(), "hot index");

  capture::BpfSensorConfig bpf_cfg;
  bpf_cfg.ringbuf_bytes = cfg.ringbuf_bytes_override
                              ? static_cast<uint32_t>(cfg.ringbuf_bytes_override)
                              : cfg.ringbuf_mb << 20;
  bpf_cfg.readonly_open_policy = readonly_policy(cfg.readonly_opens);
  bpf_cfg.readonly_skip_prefixes = cfg.readonly_skip_prefixes;
  // Consumption pauses at a full batch so the loop flushes and keeps accounting even while a
  // storm keeps the ring buffer non-empty.
  constexpr size_t kMaxBatch = 8192;
  auto bpf = must(capture::BpfSensor::start(bpf_cfg,
                                            [&](ByteSpan r) {
                                              pipeline.on_record(r);
                                              return pipeline.pending() < kMaxBatch;
                                            }),
                  "eBPF");

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::cerr << "ritma-sensor: recording on node " << node.id << " (run " << run_id << ", " << seeded
            << " processes seeded) into " << paths.index_db.string() << "\n"
            << "ritma-sensor: try `ritma events --since 1m` or `ritma status`; stop with Ctrl-C\n";

  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto last_flush = started;
  auto last_status = started;
  auto last_status_file = started;
  auto last_reap = started;
  auto last_filtered = started;
  uint64_t events_at_last_status = 0;
  uint64_t derived_errors_reported = 0;
  uint64_t events_at_status_file = 0;
  const std::filesystem::path status_file = sensor::status_file_path(paths);
  std::string end_reason = "stopped";
  for (;;) {
    if (g_stop_signal != 0) {
      end_reason = std::string("stopped by ") + (g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    const auto now = Clock::now();
    if (duration_ms && now - started >= std::chrono::milliseconds(duration_ms)) {
      end_reason = "duration reached";
      break;
    }
    auto polled = bpf->poll(50);
    if (!polled.ok()) die(polled.error().message);
    if (pipeline.pending() >= kMaxBatch ||
        now - last_flush >= std::chrono::milliseconds(cfg.flush_interval_ms)) {
      const bool with_filtered = now - last_filtered >= std::chrono::seconds(10);
      pipeline.account(must(bpf->counters(), "kernel counters"), with_filtered);
      if (with_filtered) last_filtered = now;
      must(pipeline.flush(), "hot index");
      last_flush = now;
    }
    must(sealer->tick(), "sealing");
    if (sealer->stats().derived_errors != derived_errors_reported) {
      derived_errors_reported = sealer->stats().derived_errors;
      std::cerr << "ritma-sensor: warning: derived files (time index, catalog, accounting) not "
                   "updated: "
                << sealer->stats().last_derived_error << "\n";
    }
    if (now - last_reap >= std::chrono::seconds(60)) {
      // Forget processes that exited more than a minute ago (late records still resolve).
      const uint64_t boot_now = sensor::boottime_ns();
      processes.reap(boot_now > 60'000'000'000ull ? boot_now - 60'000'000'000ull : 0);
      last_reap = now;
    }
    if (now - last_status_file >= std::chrono::seconds(2)) {
      const auto& c = pipeline.counters();
      const double secs = std::chrono::duration<double>(now - last_status_file).count();
      const double rate = static_cast<double>(c.events - events_at_status_file) / secs;
      (void)sensor::write_status(status_file, {getpid(), run_id, node.id, c.events, rate, c.lost,
                                               c.filtered, c.undecodable, pipeline.next_seq()});
      events_at_status_file = c.events;
      last_status_file = now;
    }
    if (cfg.status_interval_s != 0 &&
        now - last_status >= std::chrono::seconds(cfg.status_interval_s)) {
      const auto& c = pipeline.counters();
      const double secs = std::chrono::duration<double>(now - last_status).count();
      std::fprintf(stderr, "ritma-sensor: %.0f events/s, %llu events, %llu lost, %llu filtered\n",
                   static_cast<double>(c.events - events_at_last_status) / secs,
                   static_cast<unsigned long long>(c.events),
                   static_cast<unsigned long long>(c.lost),
                   static_cast<unsigned long long>(c.filtered));
      events_at_last_status = c.events;
      last_status = now;
    }
  }
  // Stop capturing, drain what the kernel already delivered, account the final counters
  // (nothing can be dropped after the detach), flush, and close the run.
  bpf->detach();
  for (;;) {  // drain in batches
    auto drained = bpf->drain();
    if (!drained.ok()) die(drained.error().message);
    must(pipeline.flush(), "hot index");
    if (*drained == 0) break;
  }
  const capture::KernelCounters kernel = must(bpf->counters(), "kernel counters");
  pipeline.account(kernel);
  must(pipeline.flush(), "hot index");
  const auto& c = pipeline.counters();
  must(sealer->flush_window(), "sealing the last window");
  must(index.end_run(run_id, static_cast<int64_t>(sensor::boottime_ns()) + offset, end_reason),
       "closing the run");
  (void)sensor::write_status(status_file, {0, run_id, node.id, c.events, 0, c.lost, c.filtered,
                                           c.undecodable, pipeline.next_seq()});
  std::fprintf(stderr,
               "ritma-sensor: %s; %llu events recorded, %llu lost (sealed as loss events), %llu "
               "filtered by policy\n"
               "ritma-sensor: kernel counters at stop: ringbuf_drops=%llu pending_overflow=%llu "
               "filtered_opens=%llu emitted=%llu\n",
               end_reason.c_str(), static_cast<unsigned long long>(c.events),
               static_cast<unsigned long long>(c.lost), static_cast<unsigned long long>(c.filtered),
               static_cast<unsigned long long>(kernel.ringbuf_drops),
               static_cast<unsigned long long>(kernel.pending_overflow),
               static_cast<unsigned long long>(kernel.filtered_opens),
               static_cast<unsigned long long>(kernel.emitted));
  const auto& ss = sealer->stats();
  std::fprintf(stderr,
               "ritma-sensor: sealed %llu windows (%llu events) into %s; window log size %llu; "
               "max seal lag %.0f ms\n",
               static_cast<unsigned long long>(ss.windows),
               static_cast<unsigned long long>(ss.events), paths.out_dir.string().c_str(),
               static_cast<unsigned long long>(sealer->log_size()), ss.max_lag_ns / 1e6);
  return 0;
}
