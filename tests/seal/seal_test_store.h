// The synthetic sealed store the seal tests start from (verify_test.cc, proofpack_test.cc): a
// store sealed with the real Sealer over hours 12, 13 and 14 of 2026-11-30 (12 and 13 closed,
// one empty window, one window of two blocks), copies of it to tamper with, and helpers to
// read and rewrite its logs and blocks and to look for a verifier's problems.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/key_file.h"
#include "core/zstd_codec.h"
#include "seal/atom_scan.h"
#include "seal/sealer.h"
#include "seal/store_verifier.h"
#include "test_util.h"

namespace ritma::seal::sealtest {

namespace fs = std::filesystem;

inline constexpr int64_t kSec = 1'000'000'000;
// 2026-11-30T12:58:30Z: windows in hours 12, 13 and 14 (12 and 13 are closed).
inline constexpr int64_t kStart = 1'796'043'510 * kSec;
inline const std::string kNodeId = "test";
inline const std::string kKeyName = "ritma-node-" + kNodeId;  // as store::node_key_name names it
// Atoms are ~150 bytes, so 4 MiB of atoms fill the first block before 65,536 events do.
inline constexpr size_t kBigWindowEvents = 40'000;  // two blocks

// ---- the store every test starts from

struct Template {
  test::TempDir dir;  // <dir>/RITMA_OUT
  SigningKey key = SigningKey::generate();
  uint64_t events = 0;
  uint64_t loss_events = 0;
  uint64_t lost = 0;
  uint64_t filtered = 0;
  uint64_t windows = 0;
  std::vector<int64_t> walls;  // every event's wall_ns, in seq order
  std::string error;           // what went wrong building it

  fs::path out() const { return dir.path() / "RITMA_OUT"; }
};

inline capture::Event make_event(uint64_t seq, int64_t wall) {
  capture::Event e;
  e.seq = seq;
  e.mono_ns = 5'000'000'000 + seq * 1000;
  e.wall_ns = wall;
  e.pid = 1000 + static_cast<uint32_t>(seq % 13);
  e.tid = e.pid;
  e.ppid = 1;
  e.uid = static_cast<uint32_t>(seq % 3) * 1000;
  e.start_ns = 42;
  e.comm = "worker";
  e.exe = "/usr/bin/worker";
  e.actor.fill(static_cast<uint8_t>(seq));
  switch (seq % 10) {
    case 0:
      e.type = capture::EventType::kExec;
      e.path = "/usr/bin/ls";
      e.argv = {"ls", "-l", "/srv/data/" + std::to_string(seq)};
      break;
    case 7:
      e.type = capture::EventType::kLoss;
      e.arg0 = 1;
      e.count = 5;
      break;
    case 8:
      e.type = capture::EventType::kFiltered;
      e.arg0 = 4;
      e.count = 3;
      break;
    case 5:
    case 6:
      e.type = capture::EventType::kNet;
      e.op = 32;
      e.addr.family = AF_INET;
      e.addr.ip = {10, 1, 2, static_cast<uint8_t>(seq)};
      e.addr.port = 443;
      break;
    default:
      e.type = capture::EventType::kFile;
      e.op = 1;
      e.path = "/var/lib/app/file-" + std::to_string(seq % 50);
  }
  return e;
}

inline Template* build_template() {
  auto* t = new Template;
  int64_t now = kStart;
  SealerOptions o;
  o.out_dir = t->out();
  o.node_id = kNodeId;
  o.run.run_id = 1;
  o.run.boot_id.fill(7);
  o.run.sensor_version = "test";
  o.run.config_digest = "00";
  o.clock = [&now] { return now; };
  auto sealer =
      Sealer::open(o, NamedSigningKey{kKeyName, SigningKey::from_seed(t->key.seed()).value()});
  if (!sealer.ok()) {
    t->error = sealer.error().message;
    return t;
  }
  Sealer& s = **sealer;
  uint64_t seq = 100;
  auto add = [&](size_t n) {
    std::vector<capture::Event> v;
    for (size_t i = 0; i < n; ++i) {
      v.push_back(make_event(seq++, now + static_cast<int64_t>(i) * 1000));
      if (v.back().seq == 100) {  // a run starts with a gap event (first run: arg0 0)
        v.back() = capture::Event{};
        v.back().seq = 100;
        v.back().wall_ns = now;
        v.back().type = capture::EventType::kGap;
        v.back().path = "first run";
      }
      const auto& e = v.back();
      t->walls.push_back(e.wall_ns);
      if (e.type == capture::EventType::kLoss) {
        ++t->loss_events;
        t->lost += e.count;
      }
      if (e.type == capture::EventType::kFiltered) t->filtered += e.count;
    }
    t->events += n;
    return s.add(v);
  };
  auto next_window = [&](int64_t to) {
    now = to;
    ++t->windows;
    return s.tick();
  };
  Status st;
  // Hour 12: 9 windows, 12:58:30 .. 12:59:50; one of them empty.
  for (int w = 0; w < 9 && st.ok(); ++w) {
    now = kStart + w * 10 * kSec + 2 * kSec;
    if (w != 4) st = add(30 + static_cast<size_t>(w));
    if (st.ok()) st = next_window(kStart + (w + 1) * 10 * kSec + kSec / 2);
  }
  // Hour 13: a window of two blocks, then two small ones.
  const int64_t h13 = kStart + 90 * kSec;  // 13:00:00
  if (st.ok()) st = add(kBigWindowEvents);
  if (st.ok()) st = next_window(h13 + 10 * kSec + kSec);
  if (st.ok()) st = add(25);
  if (st.ok()) st = next_window(h13 + 20 * kSec + kSec);
  if (st.ok()) st = add(12);
  // 14:00:05: seals the last window of hour 13 and closes the hour.
  const int64_t h14 = h13 + static_cast<int64_t>(kHourNs);
  if (st.ok()) st = next_window(h14 + 5 * kSec);
  if (st.ok()) st = add(20);
  if (st.ok()) {
    now += kSec;
    ++t->windows;
    st = s.flush_window();
  }
  if (!st.ok()) t->error = st.error().message;
  return t;
}

inline const Template& base() {
  static const std::unique_ptr<Template> t(build_template());
  return *t;
}

// ---- helpers over a copy of the template

struct Store {
  test::TempDir dir;
  fs::path out() const { return dir.path() / "RITMA_OUT"; }
  fs::path operator/(const std::string& rel) const { return out() / rel; }

  Store() { fs::copy(base().out(), out(), fs::copy_options::recursive); }

  std::vector<Bytes> log_frames(const char* rel = kWindowLogFile) const {
    const Bytes data = read_file(out() / rel, 1u << 30).value();
    std::vector<Bytes> frames;
    for (ByteSpan f : scan_frames(data).frames) frames.emplace_back(f.begin(), f.end());
    return frames;
  }
  void write_frames(const std::vector<Bytes>& frames, const char* rel = kWindowLogFile) const {
    Bytes data;
    for (const Bytes& f : frames) {
      const uint32_t n = static_cast<uint32_t>(f.size());
      for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(n >> (8 * i)));
      append(data, f);
    }
    test::write_file_bytes(out() / rel, data);
  }
  std::vector<MicroRecord> records() const {
    std::vector<MicroRecord> v;
    for (const Bytes& f : log_frames()) v.push_back(decode_micro(f).value());
    return v;
  }
  // The first record with at least `min_events` events (and `min_blocks` blocks).
  MicroRecord window_with(uint64_t min_events, size_t min_blocks = 1) const {
    for (const auto& r : records()) {
      if (r.event_count >= min_events && r.blocks.size() >= min_blocks) return r;
    }
    ADD_FAILURE() << "no window with " << min_events << " events";
    return {};
  }
  std::string block_path(const MicroRecord& r, size_t k) const {
    return block_dir(r) + "/" + r.blocks[k].file;
  }
  // A block's atoms, each as its own bytes.
  std::vector<Bytes> atoms(const MicroRecord& r, size_t k) const {
    const Bytes z = test::read_file_bytes(out() / block_path(r, k));
    const Bytes raw = zstd_decompress(z, 64u << 20).value();
    std::vector<ScannedAtom> scanned;
    EXPECT_FALSE(scan_atoms(raw, scanned).has_value());
    std::vector<Bytes> v;
    for (const auto& a : scanned) {
      const ByteSpan b = a.bytes(raw);
      v.emplace_back(b.begin(), b.end());
    }
    return v;
  }
  void write_block(const MicroRecord& r, size_t k, const std::vector<Bytes>& atoms) const {
    Bytes raw;
    for (const Bytes& a : atoms) append(raw, a);
    test::write_file_bytes(out() / block_path(r, k), zstd_compress(raw).value());
  }
};

inline std::string fingerprint() {
  return key_fingerprint(base().key.public_key());
}

inline NamedSigningKey node_key() {
  return {kKeyName, SigningKey::from_seed(base().key.seed()).value()};
}

// A copy of the store with the node's private key where the commands that sign (export-proof,
// case, retention) read it; dir is the base directory (--base-dir).
struct KeyedStore : Store {
  KeyedStore() {
    EXPECT_TRUE(write_private_key_file(out() / "_meta/keys/node.key", node_key()).ok());
  }
  std::string base_dir() const { return dir.path().string(); }
};

inline VerifyReport verify(const Store& s, const std::string& key = "") {
  VerifyOptions o;
  o.pinned_key = key.empty() ? key_fingerprint(base().key.public_key()) : key;
  auto r = verify_store(s.out(), o);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : VerifyReport{};
}

inline std::string dump(const VerifyReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += "  problem: " + p.to_string() + "\n";
  for (const auto& n : r.notes) s += "  note: " + n + "\n";
  for (const auto& u : r.unsealed)
    s += "  unsealed " + u.kind + ": " + u.file + " " + u.message + "\n";
  return s;
}

// A problem about `file` in `window` whose message contains `text` (and, if given, about seq).
inline const VerifyProblem* find_problem(const VerifyReport& r, const std::string& file,
                                         const std::string& window, const std::string& text,
                                         std::optional<uint64_t> seq = std::nullopt) {
  for (const auto& p : r.problems) {
    if (p.file == file && p.window == window && p.message.find(text) != std::string::npos &&
        (!seq || p.seq == seq))
      return &p;
  }
  return nullptr;
}

#define EXPECT_PROBLEM(report, file, window, text, ...)                                        \
  EXPECT_NE(find_problem(report, file, window, text __VA_OPT__(, ) __VA_ARGS__), nullptr)      \
      << "expected a problem in " << (file) << " / " << (window) << " containing \"" << (text) \
      << "\"; the report has:\n"                                                               \
      << dump(report)

}  // namespace ritma::seal::sealtest
