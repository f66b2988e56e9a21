// Hot index rotation (seal/index_rotation.h): a hot index written like the sensor writes it,
// a sealed store that seals a prefix of its events, and retention by size, by UTC day and
// --keep, beside a writer, in a dry run, and over a hostile rotated directory.
#include "seal/index_rotation.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "capture/event.h"
#include "core/key_file.h"
#include "seal/sealer.h"
#include "store/hot_index.h"
#include "store/store_layout.h"
#include "test_util.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSec;
constexpr int64_t kNov28 = 1'795'824'000 * kSec;  // 2026-11-28T00:00:00Z
constexpr int64_t kNov30 = kNov28 + 2 * kDay;
constexpr int64_t kNoon30 = kNov30 + 12 * 3600 * kSec;  // "now" in these tests

// The boot of every run here, as the sealer and the hot index (in hex) record it.
constexpr std::array<uint8_t, 16> kBoot = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                           0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

capture::Event make_event(uint64_t seq, int64_t wall) {
  capture::Event e;
  e.seq = seq;
  e.wall_ns = wall;
  e.mono_ns = 5 * kSec + seq;
  e.pid = 1000 + static_cast<uint32_t>(seq % 7);
  e.tid = e.pid;
  e.ppid = 1;
  e.start_ns = 42 + seq % 7;
  e.comm = "worker";
  e.actor.fill(static_cast<uint8_t>(seq % 7));
  if (seq % 3 == 0) {
    e.type = capture::EventType::kExec;
    e.path = "/usr/bin/tool-" + std::to_string(seq % 5);
    e.argv = {"tool", std::to_string(seq)};
  } else {
    e.type = capture::EventType::kFile;
    e.op = 1;
    e.path = "/var/lib/app/file-" + std::to_string(seq % 11);
  }
  return e;
}

// A sensor's view: the live hot index (written through HotIndex, like the sensor) and the
// sealed store (through the Sealer), with the events recorded so far.
class Node {
 public:
  Node() {
    paths_.base_dir = dir_.path();
    paths_.out_dir = dir_.path() / "RITMA_OUT";
    paths_.index_db = dir_.path() / "index" / "index_db.sqlite";
    paths_.lock_dir = dir_.path() / "locks";
    fs::create_directories(paths_.index_db.parent_path());
    start_run();
  }

  const store::StorePaths& paths() const { return paths_; }
  store::HotIndex& index() { return *index_; }
  int64_t run_id() const { return run_id_; }
  uint64_t next_seq() const { return next_seq_; }

  // A new sensor run (as ritma-sensor starts one): continues the boot's seq from the index.
  void start_run() {
    index_.reset();
    sealer_.reset();
    auto idx = store::HotIndex::open_writer(paths_.index_db);
    ASSERT_TRUE(idx.ok()) << idx.error().message;
    index_.emplace(std::move(*idx));
    auto stats = index_->stats();
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    next_seq_ = stats->last_seq ? *stats->last_seq + 1 : 0;
    store::RunStart r;
    r.boot_id = "00112233445566778899aabbccddeeff";
    r.node_id = "test";
    r.started_wall_ns = kNov28;
    r.sensor_version = "test";
    auto id = index_->begin_run(r);
    ASSERT_TRUE(id.ok()) << id.error().message;
    run_id_ = *id;
    open_sealer();
  }

  // A sealer for the current run. A new Sealer object learns the run's sequence from the first
  // event it is given, which lets skip() leave a hole in a run (a damaged store; the sensor's
  // own sealer refuses that).
  void open_sealer() {
    sealer_.reset();
    SealerOptions o;
    o.out_dir = paths_.out_dir;
    o.node_id = "test";
    o.run.run_id = static_cast<uint64_t>(run_id_);
    o.run.boot_id = kBoot;
    o.run.sensor_version = "test";
    o.run.config_digest = "00";
    o.clock = [this] { return now_; };
    auto s = Sealer::open(
        o, NamedSigningKey{"ritma-node-test", SigningKey::from_seed(key_seed_).value()});
    ASSERT_TRUE(s.ok()) << s.error().message;
    sealer_ = std::move(*s);
  }

  // Records `n` events, `step` apart from `wall`, into the hot index (not sealed yet).
  std::vector<uint64_t> record(size_t n, int64_t wall, int64_t step = kSec) {
    std::vector<capture::Event> batch;
    std::vector<uint64_t> seqs;
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(make_event(next_seq_, wall + static_cast<int64_t>(i) * step));
      seqs.push_back(next_seq_++);
    }
    EXPECT_TRUE(index_->append(batch).ok());
    unsealed_.insert(unsealed_.end(), batch.begin(), batch.end());
    return seqs;
  }

  // Seals the first `n` recorded events not sealed yet (all of them by default), as one window.
  void seal(size_t n = SIZE_MAX) {
    n = std::min(n, unsealed_.size());
    now_ += 10 * kSec;  // a window later
    ASSERT_TRUE(sealer_->add(std::span(unsealed_.data(), n)).ok());
    ASSERT_TRUE(sealer_->flush_window().ok());
    unsealed_.erase(unsealed_.begin(), unsealed_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  // Leaves the next `n` recorded events out of the sealed store (a window that was lost).
  void skip(size_t n) {
    unsealed_.erase(unsealed_.begin(), unsealed_.begin() + static_cast<std::ptrdiff_t>(n));
    open_sealer();
  }

  fs::path rotated_dir() const { return rotated_index_dir(paths_.index_db); }

  // What a damaged hot index gets: moved aside, and a new one created by the next run, whose
  // run ids and (in a new boot) seqs start again. `events` are recorded, not sealed.
  void replace_index(const std::string& boot_hex, size_t events) {
    index_.reset();
    for (const char* ext : {"", "-wal", "-shm"}) {
      fs::rename(paths_.index_db.string() + ext, paths_.index_db.string() + ".damaged" + ext);
    }
    auto idx = store::HotIndex::open_writer(paths_.index_db);
    ASSERT_TRUE(idx.ok()) << idx.error().message;
    index_.emplace(std::move(*idx));
    store::RunStart r;
    r.boot_id = boot_hex;
    r.node_id = "test";
    auto id = index_->begin_run(r);
    ASSERT_TRUE(id.ok()) << id.error().message;
    run_id_ = *id;
    next_seq_ = 0;
    std::vector<capture::Event> batch;
    for (size_t i = 0; i < events; ++i) batch.push_back(make_event(next_seq_++, kNov30));
    ASSERT_TRUE(index_->append(batch).ok());
  }

 private:
  test::TempDir dir_;
  store::StorePaths paths_;
  std::optional<store::HotIndex> index_;
  std::unique_ptr<Sealer> sealer_;
  Bytes key_seed_ = Bytes(32, 0x42);
  int64_t run_id_ = 0;
  uint64_t next_seq_ = 0;
  int64_t now_ = kNov28;  // the sealer's clock
  std::vector<capture::Event> unsealed_;
};

// Every event of the hot index file at `path`, read as `ritma events` reads it.
std::vector<capture::Event> read_all(const fs::path& path) {
  auto idx = store::HotIndex::open_reader(path);
  EXPECT_TRUE(idx.ok()) << idx.error().message;
  if (!idx.ok()) return {};
  store::EventQuery q;
  q.limit = 0;
  auto events = idx->query(q);
  EXPECT_TRUE(events.ok()) << events.error().message;
  return events.ok() ? *events : std::vector<capture::Event>{};
}

std::multiset<uint64_t> seqs_of(const fs::path& path) {
  std::multiset<uint64_t> out;
  for (const auto& e : read_all(path)) out.insert(e.seq);
  return out;
}

std::vector<fs::path> rotated_files(const Node& node) {
  auto r = list_rotated_indexes(node.paths().index_db);
  EXPECT_TRUE(r.ok()) << r.error().message;
  std::vector<fs::path> out;
  if (r.ok()) {
    for (const auto& f : *r) out.push_back(f.path);
  }
  return out;
}

std::vector<IndexRetentionAction> run(const Node& node, IndexRetentionOptions o) {
  if (o.now_ns == 0) o.now_ns = kNoon30;
  auto r = run_index_retention(node.paths(), o);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<IndexRetentionAction>{};
}

std::string describe(const std::vector<IndexRetentionAction>& actions) {
  std::string s;
  for (const auto& a : actions) {
    s += a.kind + " " + a.path.filename().string() + " events=" + std::to_string(a.events) +
         " bytes=" + std::to_string(a.bytes) + " done=" + (a.done ? "yes" : "no") + " (" +
         a.reason + ")\n";
  }
  return s;
}

IndexRetentionOptions by_size(std::optional<uint32_t> keep, bool apply = true) {
  IndexRetentionOptions o;
  o.max_size_bytes = 1;  // always over: every sealed event moves
  o.rotate_daily = false;
  o.keep = keep;
  o.apply = apply;
  return o;
}

TEST(IndexRotation, SizeRotationKeepsTheNewestNFilesEachAReadableHotIndex) {
  Node node;
  std::set<uint64_t> recorded;
  for (int round = 0; round < 5; ++round) {
    for (uint64_t s : node.record(40, kNov30 + round * 100 * kSec)) recorded.insert(s);
    node.seal();
    if (round == 4) {  // what a rotation that crashed leaves; the next one removes it
      test::write_file_bytes(
          node.rotated_dir() / ".index-20261130T000000Z--20261130T000001Z.sqlite.tmp",
          Bytes{1, 2, 3});
    }
    const auto actions = run(node, by_size(3));
    ASSERT_FALSE(actions.empty());
    EXPECT_EQ(actions[0].kind, "rotate") << describe(actions);
    for (const auto& a : actions) EXPECT_TRUE(a.done) << describe(actions);
    EXPECT_LE(rotated_files(node).size(), 3u);
  }
  const auto files = rotated_files(node);
  ASSERT_EQ(files.size(), 3u);
  // The files and the live index hold a suffix of the recording, each event once: the newest
  // row stays live (the sensor continues its seq from it), the oldest files were deleted.
  std::multiset<uint64_t> held = seqs_of(node.paths().index_db);
  EXPECT_EQ(held, std::multiset<uint64_t>{*recorded.rbegin()});
  for (const auto& f : files) {
    const auto events = read_all(f);
    ASSERT_FALSE(events.empty()) << f;
    for (const auto& e : events) {
      held.insert(e.seq);
      // Moved with their fields, and findable by process and path as in the live index.
      EXPECT_EQ(e.path, make_event(e.seq, 0).path);
      EXPECT_EQ(e.pid, make_event(e.seq, 0).pid);
      EXPECT_EQ(e.argv, make_event(e.seq, 0).argv);
    }
    auto idx = store::HotIndex::open_reader(f);
    ASSERT_TRUE(idx.ok());
    store::EventQuery q;
    q.pid = events.front().pid;
    q.path_prefix = events.front().path;
    q.limit = 0;
    auto found = idx->query(q);
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_FALSE(found->empty()) << f;
    auto last = idx->last_run();
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->run_id, node.run_id());
  }
  ASSERT_EQ(held.size(), std::set<uint64_t>(held.begin(), held.end()).size()) << "duplicates";
  // Only complete rotated files are left (no temporary or journal files), readable by whoever
  // can read the live index.
  std::set<fs::path> in_dir;
  for (const auto& e : fs::directory_iterator(node.rotated_dir())) in_dir.insert(e.path());
  EXPECT_EQ(in_dir, std::set<fs::path>(files.begin(), files.end()));
  for (const auto& f : files) {
    EXPECT_EQ(fs::status(f).permissions(), fs::status(node.paths().index_db).permissions()) << f;
  }
  auto size = measure_live_index(node.paths().index_db);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_LE(size->used_bytes, size->file_bytes);
  EXPECT_GT(size->used_bytes, 0u);
  EXPECT_EQ(*held.rbegin(), *recorded.rbegin());
  EXPECT_EQ(*held.rbegin() - *held.begin() + 1, held.size()) << "a gap";
}

TEST(IndexRotation, UnsealedEventsStayInTheLiveIndex) {
  Node node;
  node.record(100, kNov28);
  node.seal(60);  // seq 0..59 sealed, 60..99 only in the hot index
  const auto actions = run(node, by_size(0));
  ASSERT_EQ(actions.size(), 2u) << describe(actions);
  EXPECT_EQ(actions[0].kind, "rotate");
  EXPECT_EQ(actions[0].events, 60u);
  EXPECT_EQ(actions[1].kind, "delete");  // keep 0: the file just written goes too
  EXPECT_EQ(actions[1].path, actions[0].path);
  EXPECT_EQ(actions[1].events, 60u);
  std::multiset<uint64_t> live = seqs_of(node.paths().index_db);
  std::multiset<uint64_t> want;
  for (uint64_t s = 60; s < 100; ++s) want.insert(s);
  EXPECT_EQ(live, want);
  EXPECT_TRUE(rotated_files(node).empty());

  // Nothing more is sealed: nothing more moves.
  EXPECT_TRUE(run(node, by_size(0)).empty());
  EXPECT_EQ(seqs_of(node.paths().index_db), want);
}

TEST(IndexRotation, EventsOfAWindowMissingFromTheSealedStoreStay) {
  Node node;
  node.record(60, kNov28);
  node.seal(30);  // 0..29
  node.skip(10);  // 30..39: no window record
  node.seal(20);  // 40..59
  const auto actions = run(node, by_size(std::nullopt));
  ASSERT_EQ(actions.size(), 1u) << describe(actions);
  EXPECT_EQ(actions[0].events, 49u);  // 0..29 and 40..58; 59 is the newest row
  std::multiset<uint64_t> live{59};
  for (uint64_t s = 30; s < 40; ++s) live.insert(s);
  EXPECT_EQ(seqs_of(node.paths().index_db), live);
}

TEST(IndexRotation, ANewIndexRunIsNotTakenForTheSealedRunOfTheSameId) {
  Node node;
  node.record(50, kNov28);
  node.seal();
  const int64_t sealed_run = node.run_id();
  // The index is replaced in another boot: its run 1 (seq 0..29) is not the sealed run 1.
  node.replace_index("ffeeddccbbaa99887766554433221100", 30);
  ASSERT_EQ(node.run_id(), sealed_run);
  IndexRetentionOptions o = by_size(0);
  o.rotate_daily = true;
  o.now_ns = kNov30 + 3 * kDay;
  EXPECT_EQ(describe(run(node, o)), "");
  EXPECT_EQ(seqs_of(node.paths().index_db).size(), 30u);
}

TEST(IndexRotation, RefusesToDeleteARotatedFileWithUnsealedEvents) {
  Node node;
  node.record(100, kNov28);
  node.seal(60);
  // A rotated file that (however it came to be) holds events RITMA_OUT has not sealed.
  fs::create_directories(node.rotated_dir());
  const fs::path bad = node.rotated_dir() / "index-20261128T000000Z--20261128T000139Z.sqlite";
  {
    auto idx = store::HotIndex::open_writer(bad);
    ASSERT_TRUE(idx.ok()) << idx.error().message;
    store::RunStart r;
    r.boot_id = "00112233445566778899aabbccddeeff";
    r.node_id = "test";
    ASSERT_EQ(idx->begin_run(r).value(), node.run_id());
    std::vector<capture::Event> events;
    for (uint64_t s = 0; s < 100; ++s) events.push_back(make_event(s, kNov28));
    ASSERT_TRUE(idx->append(events).ok());
  }
  auto r = run_index_retention(node.paths(), by_size(0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("refusing to delete rotated hot index " + bad.string()),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(
      r.error().message.find("it holds event seq 60 of run 1, which RITMA_OUT has not sealed"),
      std::string::npos)
      << r.error().message;
  // Nothing was changed: the file is there, the live index still has every event.
  EXPECT_TRUE(fs::exists(bad));
  EXPECT_EQ(seqs_of(node.paths().index_db).size(), 100u);
  EXPECT_EQ(rotated_files(node).size(), 1u);
}

// The bytes of every file under `dir` except SQLite's shared-memory index (which readers
// write to take their read locks).
std::map<std::string, Bytes> contents(const fs::path& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().string().ends_with("-shm")) continue;
    out[fs::relative(e.path(), dir).string()] = test::read_file_bytes(e.path());
  }
  return out;
}

TEST(IndexRotation, DryRunListsExactlyTheActionsOfTheRunAndChangesNothing) {
  Node node;
  node.record(30, kNov28 + 3600 * kSec);
  node.record(30, kNov28 + kDay + 7200 * kSec);
  node.seal();
  IndexRetentionOptions daily;
  daily.apply = true;
  // Two day files; the newest row (the 29th's last) stays live.
  ASSERT_EQ(run(node, daily).size(), 2u);
  node.record(30, kNov30 + 60 * kSec);
  node.record(5, kNov30 + 3600 * kSec);
  node.seal(30);

  IndexRetentionOptions o;
  o.max_size_bytes = 1;
  o.keep = 1;
  o.now_ns = kNoon30;
  const auto before = contents(node.paths().base_dir);
  auto dry = run_index_retention(node.paths(), o);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  EXPECT_EQ(contents(node.paths().base_dir), before) << "the dry run changed a file";
  // Rotate the 29th's last event (it is no longer the newest) and today's sealed events;
  // delete the three oldest of the four rotated files (keep 1), one of them written now.
  ASSERT_EQ(dry->size(), 5u) << describe(*dry);
  EXPECT_EQ((*dry)[0].kind, "rotate");
  EXPECT_EQ((*dry)[0].events, 1u);
  EXPECT_EQ((*dry)[1].kind, "rotate");
  EXPECT_EQ((*dry)[1].events, 30u);
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ((*dry)[i].kind, "delete");
  EXPECT_EQ((*dry)[4].path, (*dry)[0].path);
  for (const auto& a : *dry) EXPECT_FALSE(a.done);

  o.apply = true;
  auto done = run_index_retention(node.paths(), o);
  ASSERT_TRUE(done.ok()) << done.error().message;
  ASSERT_EQ(done->size(), dry->size()) << describe(*done);
  for (size_t i = 0; i < dry->size(); ++i) {
    const auto& d = (*dry)[i];
    const auto& a = (*done)[i];
    EXPECT_EQ(a.kind, d.kind);
    EXPECT_EQ(a.path, d.path);
    EXPECT_EQ(a.bytes, d.bytes);
    EXPECT_EQ(a.events, d.events);
    EXPECT_EQ(a.reason, d.reason);
    EXPECT_TRUE(a.done);
  }
  EXPECT_EQ(rotated_files(node), std::vector<fs::path>{(*dry)[1].path});
  EXPECT_EQ(seqs_of((*dry)[1].path).size(), 30u);
}

TEST(IndexRotation, RotatesWhileAWriterAppends) {
  Node node;
  node.record(12'000, kNov30, kSec / 1000);  // deleted in several transactions
  node.seal();
  // The sensor: its connection keeps appending (with its own 5 s busy timeout) throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::string writer_error;
  std::thread writer([&] {
    uint64_t seq = node.next_seq();
    while (!stop.load()) {
      std::vector<capture::Event> batch;
      for (int i = 0; i < 50; ++i, ++seq)
        batch.push_back(make_event(seq, kNoon30 + static_cast<int64_t>(seq)));
      if (auto s = node.index().append(batch); !s) {
        writer_error = s.error().message;
        return;
      }
      ++batches;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  while (batches.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = batches.load();
  const auto actions = run(node, by_size(std::nullopt));
  EXPECT_GT(batches.load(), before) << "the writer did not append during the rotation";
  while (batches.load() < 10 && writer_error.empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  writer.join();
  EXPECT_EQ(writer_error, "");
  ASSERT_EQ(actions.size(), 1u) << describe(actions);
  EXPECT_TRUE(actions[0].done);
  EXPECT_EQ(actions[0].events, 12'000u);
  // Every event is in exactly one of the two files; the rotated one holds the sealed ones.
  const auto moved = seqs_of(actions[0].path);
  std::multiset<uint64_t> all = seqs_of(node.paths().index_db);
  EXPECT_EQ(all.count(0), 0u);
  for (uint64_t s : moved) {
    EXPECT_LT(s, 12'000u);
    all.insert(s);
  }
  ASSERT_EQ(all.size(), 12'000u + 50u * static_cast<size_t>(batches.load()));
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(*all.rbegin() + 1, all.size());
  // The live file keeps its size; the pages the moved rows used are free for the next rows.
  auto size = measure_live_index(node.paths().index_db);
  ASSERT_TRUE(size.ok()) << size.error().message;
  EXPECT_LT(size->used_bytes * 2, size->file_bytes);
}

TEST(IndexRotation, TheNextRunContinuesTheSequenceAfterARotation) {
  Node node;
  node.record(20, kNov28);
  node.seal();
  const int64_t first_run = node.run_id();
  ASSERT_EQ(run(node, by_size(0)).size(), 2u);
  ASSERT_TRUE(node.index().end_run(first_run, kNov28 + kDay, "stopped").ok());
  node.start_run();  // reads the last run and seq from the live index, as ritma-sensor does
  EXPECT_EQ(node.next_seq(), 20u);
  EXPECT_EQ(node.run_id(), first_run + 1);
  auto last = node.index().last_run();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->run_id, first_run + 1);
  node.record(5, kNov28 + kDay);
  EXPECT_EQ(seqs_of(node.paths().index_db), (std::multiset<uint64_t>{19, 20, 21, 22, 23, 24}));
}

TEST(IndexRotation, DailyRotationSplitsByUtcDay) {
  Node node;
  node.record(10, kNov28 + 23 * 3600 * kSec);  // 23:00:00 .. 23:00:09 on the 28th
  node.record(10, kNov28 + kDay - 5 * kSec);   // 23:59:55 on the 28th .. 00:00:04 on the 29th
  node.record(10, kNov30 + 10 * kSec);         // today: stays
  node.seal();
  IndexRetentionOptions o;
  o.apply = true;
  const auto actions = run(node, o);
  ASSERT_EQ(actions.size(), 2u) << describe(actions);
  EXPECT_EQ(actions[0].path.filename(), "index-20261128T230000Z--20261128T235959Z.sqlite");
  EXPECT_EQ(actions[0].events, 15u);
  EXPECT_EQ(actions[0].reason, "UTC day 2026-11-28 is complete: its sealed events");
  EXPECT_EQ(actions[1].path.filename(), "index-20261129T000000Z--20261129T000004Z.sqlite");
  EXPECT_EQ(actions[1].events, 5u);
  for (const auto& a : actions) {
    const auto events = read_all(a.path);
    EXPECT_EQ(events.size(), a.events);
    const int64_t day = events.front().wall_ns / kDay;
    for (const auto& e : events) EXPECT_EQ(e.wall_ns / kDay, day) << a.path;
  }
  for (const auto& e : read_all(node.paths().index_db)) EXPECT_GE(e.wall_ns, kNov30);
  // Run again: nothing more to do today.
  EXPECT_TRUE(run(node, o).empty());
}

TEST(IndexRotation, AFileNamedLikeARotatedIndexThatIsNotOneIsAClearError) {
  Node node;
  node.record(10, kNov28);
  node.seal();
  fs::create_directories(node.rotated_dir());
  const fs::path junk = node.rotated_dir() / "index-20261127T000000Z--20261127T000100Z.sqlite";
  test::write_file_bytes(junk, as_bytes(std::string_view("this is not a database, not at all")));
  test::write_file_bytes(node.rotated_dir() / "index-notes.sqlite", Bytes{1, 2, 3});  // not named
  test::write_file_bytes(node.rotated_dir() / "README", Bytes{1, 2, 3});
  for (bool apply : {false, true}) {
    auto r = run_index_retention(node.paths(), by_size(0, apply));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(junk.string() + " is not a SQLite database"),
              std::string::npos)
        << r.error().message;
  }
  EXPECT_EQ(seqs_of(node.paths().index_db).size(), 10u);
  const auto listed = rotated_files(node);
  EXPECT_EQ(listed, std::vector<fs::path>{junk});
}

}  // namespace
}  // namespace ritma::seal
