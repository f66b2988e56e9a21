#include "fixture_store.h"

#include <vector>

#include "capture/event.h"
#include "seal/sealer.h"
#include "store/node_keys.h"
#include "store/store_layout.h"

namespace ritma::test {
namespace {

constexpr int64_t kSec = 1'000'000'000;
// 2026-11-30T12:59:00Z: eight 10-second windows reach into 13:00.
constexpr int64_t kStart = 1'796'043'540 * kSec;
constexpr size_t kWindows = 8;
constexpr size_t kEmptyWindow = 5;
const char* const kNodeId = "viewer-test";

capture::Event base_event(uint64_t seq, int64_t wall, uint32_t pid, uint32_t ppid,
                          const char* comm) {
  capture::Event e;
  e.seq = seq;
  e.mono_ns = 5'000'000 + seq;
  e.wall_ns = wall;
  e.pid = pid;
  e.tid = pid;
  e.ppid = ppid;
  e.uid = 1000;
  e.euid = 1000;
  e.comm = comm;
  e.actor.fill(static_cast<uint8_t>(pid));
  return e;
}

// The events of window w: the shell (pid 100) forks a child that execs a program, which opens
// files and exits; window 2's child is curl, which connects to 192.0.2.10:443.
std::vector<capture::Event> window_events(size_t w, uint64_t& seq, int64_t start,
                                          uint64_t& curl_seq) {
  std::vector<capture::Event> v;
  if (w == kEmptyWindow) return v;
  const uint32_t child = 200 + static_cast<uint32_t>(w);
  const char* prog = w == 2 ? "curl" : w % 2 ? "cat" : "ls";
  const std::string exe = std::string("/usr/bin/") + prog;
  int64_t t = start + kSec / 10;
  auto next = [&] { return t += kSec / 20; };
  if (w == 0) {
    // A run starts with its gap event: no previous run, nothing sealed before it.
    auto gap = base_event(seq++, next(), 0, 0, "");
    gap.type = capture::EventType::kGap;
    gap.path = "no previous run";
    v.push_back(gap);
    auto e = base_event(seq++, next(), 100, 1, "bash");
    e.type = capture::EventType::kExec;
    e.path = "/bin/bash";
    e.exe = "/bin/bash";
    e.argv = {"bash", "-l"};
    v.push_back(e);
  }
  auto fork = base_event(seq++, next(), 100, 1, "bash");
  fork.type = capture::EventType::kFork;
  fork.arg0 = child;
  v.push_back(fork);
  auto exec = base_event(seq++, next(), child, 100, prog);
  exec.type = capture::EventType::kExec;
  exec.path = exe;
  exec.exe = exe;
  exec.argv = {prog, w == 2 ? "https://example.org/" : "/etc/hostname"};
  if (w == 2) curl_seq = exec.seq;
  v.push_back(exec);
  for (int i = 0; i < 3; ++i) {
    auto f = base_event(seq++, next(), child, 100, prog);
    f.type = capture::EventType::kFile;
    f.op = 1;  // open
    f.exe = exe;
    f.path = "/etc/file" + std::to_string(w) + "-" + std::to_string(i);
    v.push_back(f);
  }
  if (w == 2) {
    auto c = base_event(seq++, next(), child, 100, prog);
    c.type = capture::EventType::kNet;
    c.op = 32;  // connect
    c.exe = exe;
    c.addr.family = 2;  // AF_INET
    c.addr.ip = {192, 0, 2, 10};
    c.addr.port = 443;
    v.push_back(c);
  }
  auto exit = base_event(seq++, next(), child, 100, prog);
  exit.type = capture::EventType::kExit;
  exit.exe = exe;
  v.push_back(exit);
  return v;
}

}  // namespace

Result<FixtureStore> make_fixture_store(const std::filesystem::path& base_dir) {
  const store::StorePaths paths = store::resolve_store_paths(base_dir);
  RITMA_TRY(store::init_node_key(paths, kNodeId));
  RITMA_ASSIGN_OR_RETURN(NamedSigningKey key, store::load_node_signing_key(paths));
  int64_t now = kStart;
  seal::SealerOptions o;
  o.out_dir = paths.out_dir;
  o.node_id = kNodeId;
  o.run.run_id = 1;
  o.run.boot_id.fill(0x42);
  o.run.sensor_version = "viewer-test";
  o.run.config_digest = "00";
  o.clock = [&now] { return now; };
  RITMA_ASSIGN_OR_RETURN(auto sealer, seal::Sealer::open(o, std::move(key)));
  FixtureStore f;
  f.from_ns = kStart;
  uint64_t seq = 0;
  for (size_t w = 0; w < kWindows; ++w) {
    const auto events = window_events(w, seq, now, f.curl_seq);
    RITMA_TRY(sealer->add(events));
    now += 10 * kSec;
    if (w + 1 < kWindows) RITMA_TRY(sealer->tick());
  }
  RITMA_TRY(sealer->flush_window());
  f.windows = sealer->log_size();
  f.events = seq;
  f.to_ns = kStart + static_cast<int64_t>(f.windows) * 10 * kSec;
  return f;
}

}  // namespace ritma::test
