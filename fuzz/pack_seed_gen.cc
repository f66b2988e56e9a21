// `pack_seed_gen DIR`: writes the seeds of proofpack_fuzz (fuzz/corpus/pack/) from real packs.
// It seals a tiny synthetic store with the real Sealer (10-minute windows of a few events from
// 2026-11-30T11:30Z, so hour 11 closes with an hour root and a chain link), exports two ranges
// with export_pack (one inside the closed hour, one in the open hour 12) and writes each, in the
// harness's input modes (proofpack_fuzz.cc): 0 the .tar.zst, 1 the plain tar (small pack only),
// 2 the files as a length-prefixed set, 3 MANIFEST.cbor and proof.cbor alone.
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/durable_file.h"
#include "core/zstd_codec.h"
#include "seal/proofpack.h"
#include "seal/sealer.h"

namespace {

namespace fs = std::filesystem;
using ritma::Bytes;
using ritma::capture::Event;
using ritma::capture::EventType;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kStart = 1'796'038'200 * kSec;  // 2026-11-30T11:30:00Z
constexpr int64_t kWindow = 600 * kSec;

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "pack_seed_gen: %s\n", m.c_str());
  std::exit(1);
}

Event make_event(uint64_t seq, int64_t wall) {
  Event e;
  e.seq = seq;
  e.wall_ns = wall;
  e.mono_ns = static_cast<uint64_t>(wall - kStart) + 1000;
  e.pid = 100 + static_cast<uint32_t>(seq % 3);
  e.tid = e.pid;
  e.ppid = 1;
  e.comm = "sh";
  e.exe = "/bin/sh";
  switch (seq % 3) {
    case 0:
      e.type = EventType::kExec;
      e.path = "/bin/ls";
      e.argv = {"ls", "/tmp"};
      break;
    case 1:
      e.type = EventType::kNet;
      e.op = 32;
      e.addr.family = AF_INET;
      e.addr.ip = {10, 0, 0, 1};
      e.addr.port = 443;
      break;
    default:
      e.type = EventType::kFile;
      e.op = 1;
      e.path = "/etc/hosts";
  }
  return e;
}

void write(const fs::path& p, const Bytes& b) {
  if (auto st = ritma::atomic_write_file(p, b); !st.ok()) die(st.error().message);
  std::printf("%s: %zu bytes\n", p.c_str(), b.size());
}

Bytes with_mode(uint8_t mode, const Bytes& b) {
  Bytes out{mode};
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes file_set(const ritma::seal::PackFiles& pack) {
  Bytes out{2};
  for (const auto& [path, bytes] : pack.files) {
    out.push_back(static_cast<uint8_t>(path.size()));
    out.push_back(static_cast<uint8_t>(path.size() >> 8));
    out.insert(out.end(), path.begin(), path.end());
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(bytes.size() >> (8 * k)));
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: pack_seed_gen DIR");
  const fs::path seeds = argv[1];
  char tmpl[] = "/tmp/ritma-pack-seeds-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) die("mkdtemp failed");
  const fs::path dir = tmpl;
  const fs::path out = dir / "RITMA_OUT";
  fs::create_directories(seeds);

  const ritma::SigningKey key = ritma::SigningKey::generate();
  auto node_key = [&] {
    return ritma::NamedSigningKey{"ritma-node-seed",
                                  ritma::SigningKey::from_seed(key.seed()).value()};
  };
  int64_t now = kStart;
  {
    ritma::seal::SealerOptions o;
    o.out_dir = out;
    o.node_id = "seed";
    o.window_ns = static_cast<uint64_t>(kWindow);
    o.run.run_id = 1;
    o.run.boot_id.fill(1);
    o.run.sensor_version = "seed";
    o.run.config_digest = "00";
    o.clock = [&now] { return now; };
    auto sealer = ritma::seal::Sealer::open(o, node_key());
    if (!sealer.ok()) die(sealer.error().message);
    uint64_t seq = 0;
    // 11:30, 11:40, 11:50 (hour 11, closed by the next), 12:00, 12:10 (hour 12, open).
    for (int w = 0; w < 5; ++w) {
      std::vector<Event> batch;
      for (int i = 0; i < 3; ++i, ++seq) {
        batch.push_back(make_event(seq, now + (i + 1) * kSec));
        if (seq == 0) {
          batch.back() = Event{};
          batch.back().type = EventType::kGap;
          batch.back().wall_ns = now + kSec;
        }
      }
      if (auto st = (*sealer)->add(batch); !st.ok()) die(st.error().message);
      now += kWindow;
      if (auto st = (*sealer)->tick(); !st.ok()) die(st.error().message);
    }
    if (auto st = (*sealer)->flush_window(); !st.ok()) die(st.error().message);
  }

  struct Range {
    const char* name;
    int64_t from, to;
    bool tar;
  };
  const Range ranges[] = {
      {"hour11", kStart + 10 * 60 * kSec, kStart + 20 * 60 * kSec, false},  // 11:40..11:50
      {"open12", kStart + 40 * 60 * kSec, kStart + 50 * 60 * kSec, true},   // 12:10..12:20
  };
  for (const Range& r : ranges) {
    ritma::seal::ExportOptions eo;
    eo.from_ns = r.from;
    eo.to_ns = r.to;
    eo.out = dir / (std::string(r.name) + ".tar.zst");
    eo.signing_key = node_key();
    eo.event_json = [](const Event& e, uint64_t log_index, uint64_t leaf) {
      return "{\"seq\":" + std::to_string(e.seq) + ",\"log_index\":" + std::to_string(log_index) +
             ",\"leaf_index\":" + std::to_string(leaf) + "}";
    };
    auto outcome = ritma::seal::export_pack(out, eo);
    if (outcome.failure != ritma::seal::ExportOutcome::Failure::kNone) die(outcome.message);
    const Bytes archive = ritma::read_file(eo.out, 1u << 24).value();
    auto pack = ritma::seal::load_pack(eo.out);
    if (!pack.ok()) die(pack.error().message);
    auto rep = ritma::seal::verify_pack(*pack, ritma::key_fingerprint(node_key().key.public_key()));
    if (!rep.ok()) die(std::string(r.name) + ": " + rep.error().message);
    if (!rep->ok())
      die(std::string(r.name) +
          ": the exported pack does not verify: " + rep->store.problems.front().to_string());
    const std::string base = std::string(r.name) + "-";
    write(seeds / (base + "archive"), with_mode(0, archive));
    if (r.tar)
      write(seeds / (base + "tar"),
            with_mode(1, ritma::zstd_decompress(archive, 1u << 24).value()));
    write(seeds / (base + "files"), file_set(*pack));
    if (r.tar) {
      write(seeds / (base + "manifest"), with_mode(3, pack->files.at("MANIFEST.cbor")));
      write(seeds / (base + "proof"), with_mode(3, pack->files.at("proof.cbor")));
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
