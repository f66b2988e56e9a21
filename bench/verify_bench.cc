// `verify_bench [EVENTS] [REPEATS] [--keep] [--pack]`: the sealed-store verifier's throughput
// (events/s on one core) over a store of realistic synthetic events built with the real sealer,
// next to peers measured in the same run over the same atoms:
//
//   leaf-hash floor  SHA-256(0x00 || atom) of every atom, already in memory (the one step no
//                    verifier can skip), through merkle::leaf_hash
//   read+unzstd      reading and decompressing every block (the other unavoidable step)
//   scan             atom_scan's strict split of the decompressed blocks
//   verify_store     everything of docs/FORMAT.md §10.14 (signatures, checkpoints, hour roots,
//                    derived files, the walk of windows/)
//
// and prints verify_store's rate, its ratio to the floors, and whether it meets the target of
// 2,000,000 events/s per core. Each figure is the best of REPEATS runs (default 3).
//
// --pack also exports the whole store as a ProofPack (export_pack, as `ritma export-proof` does:
// a directory and a .tar.zst) and times, interleaved round by round with verify_store over the
// same events, verify_pack on the pack already in memory and load_pack + verify_pack from the
// directory and from the archive; the target then applies to load_pack + verify_pack of the
// directory. --keep leaves the store and the packs in /tmp (bench/pack_verify.sh times the CLI
// on them).
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/merkle.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/proofpack.h"
#include "seal/sealer.h"
#include "seal/store_verifier.h"

namespace {

namespace fs = std::filesystem;
using ritma::Bytes;
using ritma::ByteSpan;
using ritma::capture::Event;
using ritma::capture::EventType;

constexpr int64_t kSec = 1'000'000'000;
constexpr double kTargetEventsPerSecond = 2'000'000;

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "verify_bench: %s\n", m.c_str());
  std::exit(1);
}

// A plausible host: ~200 processes; 10 % exec (3-5 arguments), 5 % fork, 5 % exit, 55 % file
// operations on realistic paths, 20 % network, 4 % privilege, and the odd loss/filtered count.
class Workload {
 public:
  Event next(uint64_t seq, int64_t wall) {
    Event e;
    e.seq = seq;
    e.wall_ns = wall;
    e.mono_ns = static_cast<uint64_t>(wall - 1'700'000'000 * kSec);
    const uint32_t p = static_cast<uint32_t>(rng_() % 200);
    e.pid = 2000 + p;
    e.tid = e.pid + static_cast<uint32_t>(rng_() % 3);
    e.ppid = 1000 + p / 10;
    e.uid = e.euid = (p % 4 == 0) ? 0 : 1000;
    e.gid = e.egid = e.uid;
    e.start_ns = 1'000'000'000ull * p;
    e.actor.fill(static_cast<uint8_t>(p));
    e.comm = kComms[p % kComms.size()];
    e.exe = "/usr/bin/" + e.comm;
    e.cgroup_id = 4000 + p % 17;
    if (p % 5 == 0) e.unit = "app-" + std::to_string(p % 7) + ".service";
    e.mntns = e.pidns = e.netns = 4026531840u;
    const uint64_t r = rng_() % 1000;
    if (r < 100) {
      e.type = EventType::kExec;
      e.path = "/usr/bin/" + std::string(kComms[rng_() % kComms.size()]);
      e.argv = {e.path, "--config", "/etc/app/" + std::to_string(rng_() % 30) + ".conf"};
      for (uint64_t k = rng_() % 3; k > 0; --k) e.argv.push_back("arg" + std::to_string(k));
      e.arg2 = e.argv.size();
    } else if (r < 150) {
      e.type = EventType::kFork;
      e.arg0 = e.pid + 1;
    } else if (r < 200) {
      e.type = EventType::kExit;
    } else if (r < 750) {
      e.type = EventType::kFile;
      e.op = static_cast<uint16_t>(1 + rng_() % 4);
      e.path = std::string(kDirs[rng_() % kDirs.size()]) + "/file-" +
               std::to_string(rng_() % 5000) + (rng_() % 2 ? ".log" : ".json");
      e.arg0 = 0x80000;
      e.arg1 = 0644;
      e.arg2 = static_cast<uint64_t>(-100);
      e.result = rng_() % 10 == 0 ? -2 : 3;
    } else if (r < 950) {
      e.type = EventType::kNet;
      e.op = static_cast<uint16_t>(32 + rng_() % 2);
      e.addr.family = AF_INET;
      e.addr.ip = {10, static_cast<uint8_t>(rng_() % 4), static_cast<uint8_t>(rng_()),
                   static_cast<uint8_t>(rng_())};
      e.addr.port = static_cast<uint16_t>(rng_() % 2 ? 443 : 5432);
      e.arg0 = 5 + rng_() % 20;
    } else if (r < 990) {
      e.type = EventType::kPriv;
      e.op = 64;
      e.arg0 = 1000;
    } else if (r < 995) {
      e.type = EventType::kLoss;
      e.arg0 = 1;
      e.count = 1 + rng_() % 50;
    } else {
      e.type = EventType::kFiltered;
      e.arg0 = 4;
      e.count = 1 + rng_() % 500;
    }
    return e;
  }

 private:
  static constexpr std::array<const char*, 8> kComms = {"nginx", "postgres", "python3", "bash",
                                                        "sshd",  "cron",     "node",    "java"};
  static constexpr std::array<const char*, 6> kDirs = {
      "/var/log/nginx",       "/var/lib/postgresql/15/main/base/16384",
      "/home/app/.cache/pip", "/etc/ssl/certs",
      "/tmp/build",           "/srv/www/static/assets"};
  std::mt19937_64 rng_{42};
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F>
double best_of(int repeats, F&& f) {
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The JSON view of an event in events/events.jsonl, about the size of `ritma events --json`'s.
std::string event_json(const Event& e, uint64_t log_index, uint64_t leaf) {
  std::string s = "{\"seq\": " + std::to_string(e.seq) +
                  ", \"wall_ns\": " + std::to_string(e.wall_ns) +
                  ", \"type\": " + std::to_string(static_cast<int>(e.type)) +
                  ", \"pid\": " + std::to_string(e.pid) + ", \"uid\": " + std::to_string(e.uid) +
                  ", \"comm\": \"" + e.comm + "\", \"exe\": \"" + e.exe + "\"";
  if (!e.path.empty()) s += ", \"path\": \"" + e.path + "\"";
  s += ", \"log_index\": " + std::to_string(log_index) +
       ", \"leaf_index\": " + std::to_string(leaf) + "}";
  return s;
}

// --pack: the whole store as a ProofPack, verify_pack timed against verify_store (see the top).
bool pack_bench(const fs::path& dir, const fs::path& out, const ritma::SigningKey& key,
                const std::string& fp, uint64_t n_events, int repeats, double t_verify_best,
                double t_leaf, double t_unzstd) {
  namespace seal = ritma::seal;
  const fs::path pack_dir = dir / "pack";
  const fs::path pack_tar = dir / "pack.tar.zst";
  for (const fs::path& p : {pack_dir, pack_tar}) {
    seal::ExportOptions eo;
    eo.from_ns = 0;
    eo.to_ns = INT64_MAX;
    eo.out = p;
    eo.signing_key = ritma::NamedSigningKey{"ritma-node-bench",
                                            ritma::SigningKey::from_seed(key.seed()).value()};
    eo.event_json = event_json;
    const auto t0 = std::chrono::steady_clock::now();
    const auto o = seal::export_pack(out, eo);
    if (o.failure != seal::ExportOutcome::Failure::kNone) die("export_pack: " + o.message);
    if (o.events != n_events) die("export_pack exported another number of events");
    std::error_code ec;
    const auto size = fs::is_directory(p) ? o.bytes : fs::file_size(p, ec);
    std::printf("exported %s: %llu windows, %llu files, %.1f MiB on disk, in %.2f s\n", p.c_str(),
                static_cast<unsigned long long>(o.windows),
                static_cast<unsigned long long>(o.files), static_cast<double>(size) / (1 << 20),
                seconds_since(t0));
  }
  auto in_memory = seal::load_pack(pack_dir);
  if (!in_memory.ok()) die(in_memory.error().message);
  auto check = [&](const ritma::Result<seal::PackReport>& r, const char* what) {
    if (!r.ok()) die(std::string(what) + ": " + r.error().message);
    if (!r->ok()) die(std::string(what) + ": " + r->store.problems.front().to_string());
    if (r->store.events != n_events) die(std::string(what) + ": counted another number of events");
  };
  // Interleaved: each round runs every contender once, so drift in the machine's load hits all.
  std::vector<double> t_store, t_pack_mem, t_pack_dir, t_pack_tar;
  seal::VerifyOptions vo;
  vo.pinned_key = fp;
  for (int round = 0; round < repeats; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    auto s = seal::verify_store(out, vo);
    if (!s.ok() || !s->ok()) die("verify_store failed");
    t_store.push_back(seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    check(seal::verify_pack(*in_memory, fp), "verify_pack (in memory)");
    t_pack_mem.push_back(seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    {
      auto p = seal::load_pack(pack_dir);
      if (!p.ok()) die(p.error().message);
      check(seal::verify_pack(*p, fp), "verify_pack (directory)");
    }
    t_pack_dir.push_back(seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    {
      auto p = seal::load_pack(pack_tar);
      if (!p.ok()) die(p.error().message);
      check(seal::verify_pack(*p, fp), "verify_pack (.tar.zst)");
    }
    t_pack_tar.push_back(seconds_since(t0));
  }
  const double n = static_cast<double>(n_events);
  auto row = [&](const char* what, const std::vector<double>& t) {
    const double best = *std::min_element(t.begin(), t.end());
    std::printf("  %-44s %8.1f ms best %8.1f ms median  %10.0f events/s (best)  %5.2fx store\n",
                what, best * 1e3, median(t) * 1e3, n / best,
                best / *std::min_element(t_store.begin(), t_store.end()));
  };
  std::printf("\nProofPack, %d interleaved rounds, %llu events, one thread:\n", repeats,
              static_cast<unsigned long long>(n_events));
  row("verify_store (same events, same round)", t_store);
  row("verify_pack, pack already in memory", t_pack_mem);
  row("load_pack + verify_pack, directory", t_pack_dir);
  row("load_pack + verify_pack, .tar.zst", t_pack_tar);
  const double best_dir = *std::min_element(t_pack_dir.begin(), t_pack_dir.end());
  const double best_mem = *std::min_element(t_pack_mem.begin(), t_pack_mem.end());
  std::printf(
      "\nverify_pack (in memory): %.2fx the leaf-hash floor's time, %.2fx (leaf hash + "
      "decompress)'s; verify_store earlier best %.1f ms\n",
      best_mem / t_leaf, best_mem / (t_leaf + t_unzstd), t_verify_best * 1e3);
  const bool met = n / best_dir >= kTargetEventsPerSecond;
  std::printf("pack target %.0f events/s per core (load_pack + verify_pack, directory): %s\n",
              kTargetEventsPerSecond, met ? "MET" : "NOT MET");
  std::printf("pin: %s\n", fp.c_str());
  return met;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n_events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500'000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  bool keep = false;  // e.g. to profile against
  bool pack = false;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keep") {
      keep = true;
    } else if (a == "--pack") {
      pack = true;
    } else {
      die("unknown option " + a);
    }
  }

  char tmpl[] = "/tmp/ritma-verify-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) die("mkdtemp failed");
  const fs::path dir = tmpl;
  const fs::path out = dir / "RITMA_OUT";

  // Build the store: 10 s windows of ~6,000 events (600 events/s), 2026-11-30 from 11:50.
  int64_t now = 1'796'039'400 * kSec;
  ritma::seal::SealerOptions o;
  o.out_dir = out;
  o.node_id = "bench";
  o.run.run_id = 1;
  o.run.boot_id.fill(3);
  o.run.sensor_version = "bench";
  o.run.config_digest = "00";
  o.clock = [&now] { return now; };
  ritma::SigningKey key = ritma::SigningKey::generate();
  const std::string fp = ritma::key_fingerprint(key.public_key());
  {
    auto sealer = ritma::seal::Sealer::open(
        o, ritma::NamedSigningKey{"ritma-node-bench",
                                  ritma::SigningKey::from_seed(key.seed()).value()});
    if (!sealer.ok()) die(sealer.error().message);
    Workload wl;
    const uint64_t per_window = 6000;
    std::vector<Event> batch;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t seq = 0; seq < n_events;) {
      batch.clear();
      for (uint64_t i = 0; i < per_window && seq < n_events; ++i, ++seq) {
        batch.push_back(wl.next(seq, now + static_cast<int64_t>(i) * 1'600'000));
        if (seq == 0) {  // a run starts with a gap event
          batch.back() = Event{};
          batch.back().type = EventType::kGap;
          batch.back().wall_ns = now;
        }
      }
      if (auto st = (*sealer)->add(batch); !st.ok()) die(st.error().message);
      now += 10 * kSec;
      if (auto st = (*sealer)->tick(); !st.ok()) die(st.error().message);
    }
    if (auto st = (*sealer)->flush_window(); !st.ok()) die(st.error().message);
    std::printf("built a store of %llu events in %.2f s (%s)\n",
                static_cast<unsigned long long>(n_events), seconds_since(t0), out.c_str());
  }

  // Every block, read once, for the floors.
  std::vector<Bytes> blocks;
  std::vector<Bytes> raw;
  std::vector<ByteSpan> atoms;
  {
    const Bytes log = ritma::read_file(out / ritma::seal::kWindowLogFile, 1u << 30).value();
    for (ByteSpan f : ritma::scan_frames(log).frames) {
      const auto m = ritma::seal::decode_micro(f).value();
      for (const auto& b : m.blocks)
        blocks.push_back(ritma::read_file(out / ritma::seal::block_dir(m) / b.file).value());
    }
    std::vector<ritma::seal::ScannedAtom> scanned;
    uint64_t raw_bytes = 0;
    for (const Bytes& z : blocks) {
      raw.push_back(ritma::zstd_decompress(z, 64u << 20).value());
      raw_bytes += raw.back().size();
    }
    for (const Bytes& r : raw) {
      if (auto err = ritma::seal::scan_atoms(r, scanned)) die(err->message());
      for (const auto& a : scanned) atoms.push_back(a.bytes(r));
    }
    if (atoms.size() != n_events) die("the blocks do not hold every event");
    std::printf("%zu blocks, %.1f MiB of atoms (%.0f bytes/event), %.1f MiB compressed\n",
                blocks.size(), static_cast<double>(raw_bytes) / (1 << 20),
                static_cast<double>(raw_bytes) / static_cast<double>(n_events), [&] {
                  uint64_t z = 0;
                  for (const Bytes& b : blocks) z += b.size();
                  return static_cast<double>(z) / (1 << 20);
                }());
  }

  const double n = static_cast<double>(n_events);
  volatile uint8_t sink = 0;
  const double t_leaf = best_of(repeats, [&] {
    for (ByteSpan a : atoms) sink = sink ^ ritma::merkle::leaf_hash(a)[0];
  });
  ritma::seal::MerkleHasher lh;
  const double t_leaf2 = best_of(repeats, [&] {
    for (ByteSpan a : atoms) sink = sink ^ lh.leaf_hash(a)[0];
  });
  const double t_unzstd = best_of(repeats, [&] {
    for (const Bytes& z : blocks) sink = sink ^ ritma::zstd_decompress(z, 64u << 20).value()[0];
  });
  std::vector<ritma::seal::ScannedAtom> scanned;
  const double t_scan = best_of(repeats, [&] {
    for (const Bytes& r : raw) {
      if (ritma::seal::scan_atoms(r, scanned)) die("scan failed");
    }
  });
  ritma::seal::VerifyReport report;
  const double t_verify = best_of(repeats, [&] {
    ritma::seal::VerifyOptions vo;
    vo.pinned_key = fp;
    auto r = ritma::seal::verify_store(out, vo);
    if (!r.ok()) die(r.error().message);
    if (!r->ok()) die("the store does not verify: " + r->problems.front().to_string());
    if (r->events != n_events) die("verify_store counted another number of events");
    report = std::move(r).value();
  });
  ritma::seal::VerifyOptions no_derived;
  no_derived.pinned_key = fp;
  no_derived.check_derived = false;
  const double t_verify_core = best_of(repeats, [&] {
    auto r = ritma::seal::verify_store(out, no_derived);
    if (!r.ok() || !r->ok()) die("verify_store (no derived) failed");
  });

  auto line = [&](const char* what, double t) {
    std::printf("  %-44s %8.1f ms  %12.0f events/s  %6.0f ns/event\n", what, t * 1e3, n / t,
                t * 1e9 / n);
  };
  std::printf("\nbest of %d, %llu events, one thread:\n", repeats,
              static_cast<unsigned long long>(n_events));
  line("leaf-hash floor (merkle::leaf_hash)", t_leaf);
  line(lh.accelerated() ? "leaf hash (MerkleHasher, SHA extensions)"
                        : "leaf hash (MerkleHasher, reused EVP context)",
       t_leaf2);
  line("zstd decompress of every block", t_unzstd);
  line("atom_scan of every block", t_scan);
  line("verify_store without derived files", t_verify_core);
  line("verify_store (all of section 10.14)", t_verify);
  std::printf(
      "\nverify_store: %.0f events/s = %.2fx the leaf-hash floor's time, %.2fx "
      "(leaf hash + decompress)'s\n",
      n / t_verify, t_verify / t_leaf, t_verify / (t_leaf + t_unzstd));
  std::printf("target %.0f events/s per core: %s\n", kTargetEventsPerSecond,
              n / t_verify >= kTargetEventsPerSecond ? "MET" : "NOT MET");
  std::printf("(%llu windows, %llu checkpoints, %llu hours closed)\n",
              static_cast<unsigned long long>(report.windows),
              static_cast<unsigned long long>(report.checkpoints),
              static_cast<unsigned long long>(report.hours_closed));
  bool met = n / t_verify >= kTargetEventsPerSecond;
  if (pack) met = pack_bench(dir, out, key, fp, n_events, repeats, t_verify, t_leaf, t_unzstd);
  std::error_code ec;
  if (!keep) fs::remove_all(dir, ec);
  if (keep) std::printf("kept %s\n", dir.c_str());
  return met ? 0 : 3;
}
