// Derived files of the sealed store (docs/FORMAT.md §10.10-10.11): the time index, catalog and
// accounting the writer produces for synthetic windows, the checker's round trip over two days
// and several hours, tampering it must name, and a writer restarted in the middle of a day.
#include "seal/derived.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>

#include "core/cbor.h"
#include "core/frame_log.h"
#include "core/zstd_codec.h"
#include "test_util.h"

namespace ritma::seal {
namespace {

using capture::Event;
using capture::EventType;

constexpr int64_t kSec = 1'000'000'000;
// 2024-03-01T22:00:00Z
constexpr int64_t kBase = 1709330400 * kSec;
const std::string kNode = "node-1";

StoreId test_store_id() {
  StoreId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(0xa0 + i);
  return id;
}

struct Win {
  MicroRecord r;
  std::vector<EventFacts> facts;
  std::vector<Event> events;
};

// Fills in the record's counts, blocks (at most `per_block` events each, compressed size
// raw/2 + 5) and facts from the events, as a sealer would.
Win finish_window(uint64_t log_index, int64_t slot_start, uint64_t first_seq,
                  std::vector<Event> events, const std::vector<uint32_t>& atom_bytes,
                  size_t per_block = 4) {
  Win w;
  MicroRecord& r = w.r;
  r.store_id = test_store_id();
  r.node_id = kNode;
  r.log_index = log_index;
  r.slot_start_ns = slot_start;
  r.window_ns = kDefaultWindowNs;
  r.first_seq = first_seq;
  r.event_count = events.size();
  r.micro_root.fill(static_cast<uint8_t>(log_index * 7 + 1));
  r.run.run_id = 1;
  r.sealed_ns = slot_start + 10 * kSec;
  std::map<uint64_t, uint64_t> types;
  for (size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    e.seq = first_seq + i;
    const uint32_t block = static_cast<uint32_t>(i / per_block);
    if (block == r.blocks.size()) {
      BlockRef b;
      b.file = block_file_name("w", block);
      r.blocks.push_back(b);
    }
    BlockRef& b = r.blocks.back();
    b.raw_bytes += atom_bytes[i];
    ++b.event_count;
    w.facts.push_back(EventFacts{static_cast<uint64_t>(e.type), e.wall_ns, atom_bytes[i], block,
                                 static_cast<uint32_t>(i % per_block)});
    ++types[static_cast<uint64_t>(e.type)];
    if (e.type == EventType::kLoss) r.loss_count += e.count;
    if (i == 0 || e.wall_ns < r.min_wall_ns) r.min_wall_ns = e.wall_ns;
    if (i == 0 || e.wall_ns > r.max_wall_ns) r.max_wall_ns = e.wall_ns;
  }
  for (BlockRef& b : r.blocks) b.zstd_bytes = b.raw_bytes / 2 + 5;
  r.type_counts.assign(types.begin(), types.end());
  w.events = std::move(events);
  return w;
}

// A window of n varied events spread over its slot; `late` puts the first event 300 ms
// before the slot (an event sealed by the window open when it arrived).
Win make_window(uint64_t log_index, int64_t slot_start, uint64_t first_seq, size_t n,
                bool late = false) {
  std::vector<Event> events;
  std::vector<uint32_t> sizes;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.wall_ns = slot_start + static_cast<int64_t>(i) * (10 * kSec / static_cast<int64_t>(n)) +
                static_cast<int64_t>(i % 3) * 1000;
    if (late && i == 0) e.wall_ns = slot_start - 300'000'000;
    e.uid = (i % 3 == 0) ? 0 : 1000;
    switch (i % 6) {
      case 0:
        e.type = EventType::kExec;
        e.exe = (i % 12 == 0) ? "/usr/bin/bash" : "/usr/bin/curl";
        e.path = e.exe;
        break;
      case 1:
      case 4:
        e.type = EventType::kFile;
        e.op = RITMA_OP_OPEN;
        e.path = "/etc/file" + std::to_string(i % 5);
        break;
      case 2:
        e.type = EventType::kNet;
        e.op = RITMA_OP_CONNECT;
        e.addr.family = AF_INET;
        e.addr.ip = {10, 0, 0, static_cast<uint8_t>(i % 3)};
        e.addr.port = 443;
        break;
      case 3:
        e.type = EventType::kFork;
        break;
      default:
        e.type = EventType::kLoss;
        e.count = 3;
        break;
    }
    events.push_back(std::move(e));
    sizes.push_back(static_cast<uint32_t>(40 + (i * 7) % 23));
  }
  return finish_window(log_index, slot_start, first_seq, std::move(events), sizes);
}

// Windows over two UTC days and several hours, with restarts (parts), late events crossing
// an hour and a day, and an empty window.
std::vector<Win> two_days() {
  const std::vector<std::pair<int64_t, bool>> slots = {
      {kBase, false},                                // 2024-03-01 22:00:00
      {kBase + 10 * kSec, false},                    //
      {kBase + 20 * kSec, true},                     //
      {kBase + 3590 * kSec, false},                  // 22:59:50
      {kBase + 3600 * kSec, true},                   // 23:00:00, first event in hour 22
      {kBase + 3610 * kSec, false},                  //
      {kBase + 2 * 3600 * kSec - 10 * kSec, false},  // 23:59:50
      {kBase + 2 * 3600 * kSec, true},               // 2024-03-02 00:00:00, event of 03-01
      {kBase + 2 * 3600 * kSec + 10 * kSec, false},  //
      {kBase + 3 * 3600 * kSec + 50 * kSec, false},  // 01:00:50
      {kBase + 3 * 3600 * kSec + 60 * kSec, false},  //
  };
  std::vector<Win> out;
  uint64_t seq = 100;
  for (size_t i = 0; i < slots.size(); ++i) {
    const size_t n = (i == 5) ? 0 : 5 + (i * 3) % 11;
    out.push_back(make_window(i, slots[i].first, seq, n, slots[i].second));
    seq += n;
  }
  return out;
}

void write_all(const std::filesystem::path& dir, const std::vector<Win>& wins, size_t from = 0,
               size_t to = SIZE_MAX) {
  DerivedWriter w(dir, test_store_id(), kNode);
  for (size_t i = from; i < std::min(to, wins.size()); ++i) {
    Status st = w.on_window(wins[i].r, wins[i].facts, wins[i].events);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
}

std::vector<std::string> check_all(const std::filesystem::path& dir, const std::vector<Win>& wins,
                                   bool complete_days = true, size_t from = 0,
                                   size_t to = SIZE_MAX) {
  DerivedChecker c(dir, test_store_id(), kNode);
  for (size_t i = from; i < std::min(to, wins.size()); ++i) c.add_window(wins[i].r, wins[i].facts);
  return c.finish(complete_days);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

bool any_has(const std::vector<std::string>& problems, const std::vector<std::string>& parts) {
  return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
    return std::all_of(parts.begin(), parts.end(),
                       [&](const std::string& part) { return p.find(part) != std::string::npos; });
  });
}

std::string window_label(const MicroRecord& r) {
  return stem_path(r) + " (log index " + std::to_string(r.log_index) + ")";
}

std::vector<TimeIndexEntry> read_index(const std::filesystem::path& p) {
  const Bytes data = test::read_file_bytes(p);
  const FrameScan scan = scan_frames(data);
  EXPECT_FALSE(scan.torn) << *scan.torn;
  std::vector<TimeIndexEntry> out;
  for (ByteSpan f : scan.frames) {
    auto e = decode_time_index_entry(f);
    EXPECT_TRUE(e.ok()) << e.error().message;
    if (e.ok()) out.push_back(*e);
  }
  return out;
}

Catalog read_catalog(const std::filesystem::path& p) {
  auto c = read_catalog_file(p);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : Catalog{};
}

Account read_account(const std::filesystem::path& p) {
  auto a = read_account_file(p);
  EXPECT_TRUE(a.ok()) << a.error().message;
  return a.ok() ? *a : Account{};
}

// ---------------------------------------------------------------- what the writer writes

TEST(DerivedWriter, TimeIndexHasOneEntryPerWindowAndBucketInSealOrder) {
  test::TempDir dir;
  const int64_t slot = kBase + 3600 * kSec;  // 23:00:00
  std::vector<Event> ev(5);
  ev[0].wall_ns = slot + 200'000'000;    // 23:00:00.2  bucket 23:00:00
  ev[1].wall_ns = slot - 500'000'000;    // 22:59:59.5  bucket 22:59:59 (hour 22)
  ev[2].wall_ns = slot + 700'000'000;    // 23:00:00.7  bucket 23:00:00 again
  ev[3].wall_ns = slot + 11 * kSec;      // 23:00:11    bucket 23:00:11
  ev[4].wall_ns = slot + 1'100'000'000;  // 23:00:01.1  bucket 23:00:01
  for (auto& e : ev) e.type = EventType::kFork;
  const Win w = finish_window(7, slot, 1000, ev, {50, 50, 50, 50, 50}, /*per_block=*/2);
  write_all(dir.path(), {w});

  const auto t1 = read_index(dir / time_index_path(1, slot));
  const std::vector<TimeIndexEntry> want1 = {
      {slot, 7, 0, 0}, {slot + 11 * kSec, 7, 1, 1}, {slot + kSec, 7, 2, 0}};
  EXPECT_EQ(t1, want1);
  EXPECT_EQ(time_index_path(1, slot), "index/t_1s/2024/03/01/23.idx");
  const auto t1_prev = read_index(dir / time_index_path(1, slot - kSec));
  EXPECT_EQ(t1_prev, (std::vector<TimeIndexEntry>{{slot - kSec, 7, 0, 1}}));
  const auto t10 = read_index(dir / time_index_path(10, slot));
  EXPECT_EQ(t10, (std::vector<TimeIndexEntry>{{slot, 7, 0, 0}, {slot + 10 * kSec, 7, 1, 1}}));
  const auto t60 = read_index(dir / time_index_path(60, slot));
  EXPECT_EQ(t60, (std::vector<TimeIndexEntry>{{slot, 7, 0, 0}}));
  EXPECT_EQ(read_index(dir / time_index_path(60, slot - kSec)),
            (std::vector<TimeIndexEntry>{{slot - 60 * kSec, 7, 0, 1}}));
}

TEST(DerivedWriter, TimeIndexBucketsFloorNegativeTimes) {
  test::TempDir dir;
  const int64_t slot = -10 * kSec;  // 1969-12-31 23:59:50
  std::vector<Event> ev(2);
  ev[0].wall_ns = -1;         // bucket -1 s (t_1s), -10 s (t_10s), -60 s (t_60s)
  ev[1].wall_ns = -kSec - 1;  // bucket -2 s
  const Win w = finish_window(0, slot, 0, ev, {40, 40});
  write_all(dir.path(), {w});
  EXPECT_EQ(time_index_path(1, -kSec), "index/t_1s/1969/12/31/23.idx");
  EXPECT_EQ(read_index(dir / time_index_path(1, -kSec)),
            (std::vector<TimeIndexEntry>{{-kSec, 0, 0, 0}, {-2 * kSec, 0, 0, 1}}));
  EXPECT_EQ(read_index(dir / time_index_path(10, -kSec)),
            (std::vector<TimeIndexEntry>{{-10 * kSec, 0, 0, 0}}));
  EXPECT_EQ(read_index(dir / time_index_path(60, -kSec)),
            (std::vector<TimeIndexEntry>{{-60 * kSec, 0, 0, 0}}));
}

TEST(DerivedWriter, AccountingApportionsEachBlockByRawShare) {
  test::TempDir dir;
  std::vector<Event> ev(5);
  const EventType types[] = {EventType::kFile, EventType::kExec, EventType::kFile, EventType::kFork,
                             EventType::kExec};
  for (size_t i = 0; i < ev.size(); ++i) {
    ev[i].type = types[i];
    ev[i].wall_ns = kBase + static_cast<int64_t>(i) * kSec;
  }
  // Block 0: file 100, exec 50, file 30 (raw 180); block 1: fork 40, exec 60 (raw 100).
  Win w = finish_window(0, kBase, 1, ev, {100, 50, 30, 40, 60}, /*per_block=*/3);
  w.r.blocks[0].zstd_bytes = 61;
  w.r.blocks[1].zstd_bytes = 33;
  write_all(dir.path(), {w});

  const Account a = read_account(dir / accounting_path(kBase));
  EXPECT_EQ(a.store_id, test_store_id());
  EXPECT_EQ(a.node_id, kNode);
  EXPECT_EQ(a.day, "2024-03-01");
  // Block 0: file 61*130/180 = 44, exec 61*50/180 = 16, remainder 1 to file (first type).
  // Block 1: fork 33*40/100 = 13, exec 33*60/100 = 19, remainder 1 to fork.
  const std::vector<AccountRow> want = {{1, 2, 110, 16 + 19}, {2, 1, 40, 14}, {4, 2, 130, 45}};
  EXPECT_EQ(a.per_type, want);
  SignatureRecord sig;
  sig.key_name = "ritma-node-" + kNode;
  const uint64_t micro = encode(w.r).size();
  EXPECT_EQ(a.totals, (AccountTotals{1, 5, 280, 94, 94 + micro + encode(sig).size() + 4 + micro}));
}

TEST(DerivedWriter, CatalogListsWindowsAndTopCountSketches) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);

  const Catalog c = read_catalog(dir / catalog_path(kBase));
  EXPECT_EQ(c.store_id, test_store_id());
  EXPECT_EQ(c.node_id, kNode);
  EXPECT_EQ(c.day, "2024-03-01");
  ASSERT_EQ(c.windows.size(), 7u);  // windows 0..6 have slots on 03-01
  for (size_t i = 0; i < c.windows.size(); ++i) {
    const CatalogWindow& x = c.windows[i];
    const MicroRecord& r = wins[i].r;
    EXPECT_EQ(x.log_index, r.log_index);
    EXPECT_EQ(x.stem_path, stem_path(r));
    EXPECT_EQ(x.first_seq, r.first_seq);
    EXPECT_EQ(x.event_count, r.event_count);
    EXPECT_EQ(x.loss_count, r.loss_count);
    EXPECT_EQ(x.micro_root, r.micro_root);
    EXPECT_EQ(x.min_wall_ns, r.min_wall_ns);
    EXPECT_EQ(x.max_wall_ns, r.max_wall_ns);
    EXPECT_FALSE(x.retention_lock);
    EXPECT_TRUE(x.case_ids.empty());
  }
  EXPECT_EQ(c.windows[0].stem_path, "windows/2024/03/01/22/micro/w000");
  EXPECT_EQ(c.windows[3].stem_path, "windows/2024/03/01/22/micro/w359");

  // Sketches recounted from the events of the day's windows.
  std::map<std::string, uint64_t> exe, ip, file;
  std::map<uint64_t, uint64_t> uid, type;
  for (size_t i = 0; i < 7; ++i) {
    for (const Event& e : wins[i].events) {
      ++uid[e.uid];
      ++type[static_cast<uint64_t>(e.type)];
      if (e.type == EventType::kExec) ++exe[e.exe];
      if (e.type == EventType::kFile) ++file[e.path];
      if (e.type == EventType::kNet) ++ip["10.0.0." + std::to_string(e.addr.ip[3])];
    }
  }
  auto sorted = [](const auto& m) {
    std::vector<std::pair<typename std::decay_t<decltype(m)>::key_type, uint64_t>> v(m.begin(),
                                                                                     m.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return v;
  };
  EXPECT_EQ(c.sketches.top_processes, sorted(exe));
  EXPECT_EQ(c.sketches.top_outbound_ips, sorted(ip));
  EXPECT_EQ(c.sketches.top_files, sorted(file));
  EXPECT_EQ(c.sketches.top_users, sorted(uid));
  EXPECT_EQ(c.sketches.type_counts, sorted(type));

  const Catalog c2 = read_catalog(dir / catalog_path(kBase + 2 * 3600 * kSec));
  EXPECT_EQ(c2.day, "2024-03-02");
  ASSERT_EQ(c2.windows.size(), 4u);
  EXPECT_EQ(c2.windows.front().log_index, 7u);
}

TEST(DerivedWriter, SketchesKeepTwentyLargestWithTiesToSmallerKey) {
  test::TempDir dir;
  std::vector<Event> ev;
  for (int k = 0; k < 30; ++k) {
    for (int j = 0; j <= k % 4; ++j) {  // counts 1..4, many ties
      Event e;
      e.type = EventType::kFile;
      e.wall_ns = kBase;
      e.path = "/f" + std::to_string(100 + k);
      ev.push_back(e);
    }
  }
  Event odd;  // a path that is not UTF-8 is a byte string
  odd.type = EventType::kExec;
  odd.wall_ns = kBase;
  odd.exe = std::string("/tmp/\xff\xfe", 7);
  ev.push_back(odd);
  const Win w = finish_window(0, kBase, 0, ev, std::vector<uint32_t>(ev.size(), 40), 1000);
  write_all(dir.path(), {w});
  const Catalog c = read_catalog(dir / catalog_path(kBase));
  ASSERT_EQ(c.sketches.top_files.size(), 20u);
  // Count 4: k = 3, 7, ..., 27 (7 keys); count 3: k = 2, 6, ..., 26 (7); count 2: 6 smallest.
  EXPECT_EQ(c.sketches.top_files[0], (std::pair<std::string, uint64_t>{"/f103", 4}));
  EXPECT_EQ(c.sketches.top_files[6], (std::pair<std::string, uint64_t>{"/f127", 4}));
  EXPECT_EQ(c.sketches.top_files[7], (std::pair<std::string, uint64_t>{"/f102", 3}));
  EXPECT_EQ(c.sketches.top_files[14], (std::pair<std::string, uint64_t>{"/f101", 2}));
  EXPECT_EQ(c.sketches.top_files[19], (std::pair<std::string, uint64_t>{"/f121", 2}));
  ASSERT_EQ(c.sketches.top_processes.size(), 1u);
  EXPECT_EQ(c.sketches.top_processes[0].first, odd.exe);

  // The byte string is what the file holds: re-encoding gives the same CBOR.
  const Bytes raw = *zstd_decompress(test::read_file_bytes(dir / catalog_path(kBase)), 1 << 26);
  EXPECT_EQ(encode(c), raw);
}

// ---------------------------------------------------------------- codecs

TEST(DerivedFormat, CatalogAndAccountRoundTripAndRejectNonCanonicalStrings) {
  Catalog c;
  c.store_id = test_store_id();
  c.node_id = kNode;
  c.day = "2024-03-01";
  CatalogWindow w;
  w.log_index = 3;
  w.stem_path = "windows/2024/03/01/22/micro/w001-1";
  w.min_wall_ns = -5;
  w.retention_lock = true;
  w.case_ids = {"case-1"};
  c.windows = {w};
  c.sketches.top_files = {{"/a", 2}, {std::string("\xc3\x28", 2), 1}};
  c.sketches.type_counts = {{4, 3}};
  const Bytes b = encode(c);
  auto back = decode_catalog(b);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, c);

  // A path that is valid UTF-8 written as a byte string is not the canonical encoding.
  Bytes bad;
  cbor::Writer wr(bad);
  wr.array(6);
  wr.text("ritma-catalog@1");
  wr.bytes(c.store_id);
  wr.text(kNode);
  wr.text("2024-03-01");
  wr.array(0);
  wr.array(5);
  wr.array(0);
  wr.array(0);
  wr.array(1);
  wr.array(2);
  wr.bytes(as_bytes("/etc/passwd"));
  wr.uint(1);
  wr.array(0);
  wr.array(0);
  auto rejected = decode_catalog(bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find("top_files[0].key"), std::string::npos)
      << rejected.error().message;

  Account a;
  a.store_id = test_store_id();
  a.node_id = kNode;
  a.day = "2024-03-01";
  a.per_type = {{1, 2, 3, 4}, {5, 6, 7, 8}};
  a.totals = {1, 8, 10, 12, 99};
  auto aback = decode_account(encode(a));
  ASSERT_TRUE(aback.ok()) << aback.error().message;
  EXPECT_EQ(*aback, a);
  std::swap(a.per_type[0], a.per_type[1]);
  EXPECT_FALSE(decode_account(encode(a)).ok());  // per_type must ascend
}

// ---------------------------------------------------------------- checker

TEST(DerivedChecker, RoundTripOverTwoDaysIsClean) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  EXPECT_EQ(joined(check_all(dir.path(), wins)), "");
  // A range inside the store (not whole days): nothing outside it is an error.
  EXPECT_EQ(joined(check_all(dir.path(), wins, /*complete_days=*/false, 2, 9)), "");
  // A range that is exactly the second day: its accounting is compared too.
  EXPECT_EQ(joined(check_all(dir.path(), wins, /*complete_days=*/false, 7)), "");
  std::filesystem::remove(dir / accounting_path(wins[7].r.slot_start_ns));
  EXPECT_TRUE(any_has(check_all(dir.path(), wins, false, 7),
                      {accounting_path(wins[7].r.slot_start_ns), "missing"}));
  EXPECT_EQ(joined(check_all(dir.path(), wins, false, 2, 9)), "");
}

TEST(DerivedChecker, RangeCheckedAsCompleteReportsUnverifiedWindows) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const auto problems = check_all(dir.path(), wins, /*complete_days=*/true, 2, 9);
  EXPECT_TRUE(any_has(problems, {catalog_path(kBase), "before the first verified one"}))
      << joined(problems);
  EXPECT_TRUE(any_has(
      problems, {catalog_path(wins[9].r.slot_start_ns), "log index 10", "not a verified window"}))
      << joined(problems);
}

TEST(DerivedChecker, EditedCatalogWindowIsNamed) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const std::filesystem::path p = dir / catalog_path(kBase);
  // Decompress, change window 2's event_count with a generic CBOR edit, recompress.
  auto raw = zstd_decompress(test::read_file_bytes(p), 1 << 26);
  ASSERT_TRUE(raw.ok());
  auto v = cbor::decode(*raw);
  ASSERT_TRUE(v.ok()) << v.error().message;
  cbor::Value::Array top = v->as_array();
  cbor::Value::Array windows = top[4].as_array();
  cbor::Value::Array entry = windows[2].as_array();
  ASSERT_EQ(entry[0].as_uint(), 2u);
  entry[3] = cbor::Value::unsigned_int(entry[3].as_uint() + 1);
  windows[2] = cbor::Value::array(entry);
  top[4] = cbor::Value::array(windows);
  auto z = zstd_compress(cbor::encode(cbor::Value::array(top)));
  ASSERT_TRUE(z.ok());
  test::write_file_bytes(p, *z);

  const auto problems = check_all(dir.path(), wins);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_TRUE(any_has(problems, {catalog_path(kBase), window_label(wins[2].r),
                                 "event_count is " + std::to_string(wins[2].r.event_count + 1)}))
      << joined(problems);
}

TEST(DerivedChecker, CatalogMissingOrUnknownWindowsAreReported) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const std::filesystem::path p = dir / catalog_path(kBase);
  Catalog c = read_catalog(p);
  c.windows.erase(c.windows.begin() + 4);  // window 4 dropped
  CatalogWindow fake = c.windows.back();
  fake.log_index = 40;  // a window the log does not have
  c.windows.push_back(fake);
  test::write_file_bytes(p, *zstd_compress(encode(c)));

  const auto problems = check_all(dir.path(), wins);
  EXPECT_TRUE(any_has(problems, {catalog_path(kBase), window_label(wins[4].r), "not listed"}))
      << joined(problems);
  EXPECT_TRUE(any_has(problems, {catalog_path(kBase), "log index 40", "not a verified window"}))
      << joined(problems);
}

TEST(DerivedChecker, DeletedTimeIndexFrameIsDetected) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const std::string rel = time_index_path(10, kBase + 3600 * kSec);  // hour 23 of 03-01
  const std::filesystem::path p = dir / rel;
  const Bytes data = test::read_file_bytes(p);
  const FrameScan scan = scan_frames(data);
  ASSERT_GE(scan.frames.size(), 3u);
  const auto removed = decode_time_index_entry(scan.frames[1]);
  ASSERT_TRUE(removed.ok());
  Bytes cut(data.begin(), data.begin() + static_cast<ptrdiff_t>(scan.offsets[1]));
  cut.insert(cut.end(), data.begin() + static_cast<ptrdiff_t>(scan.offsets[2]), data.end());
  test::write_file_bytes(p, cut);

  const auto problems = check_all(dir.path(), wins);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  const Win& w = wins[removed->log_index];
  EXPECT_TRUE(any_has(problems, {rel, window_label(w.r), "missing entry",
                                 "bucket_start_ns " + std::to_string(removed->bucket_start_ns)}))
      << joined(problems);
}

TEST(DerivedChecker, ExtraReorderedAndUndecodableTimeIndexFramesAreDetected) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const std::string rel = time_index_path(1, kBase);
  const std::filesystem::path p = dir / rel;
  const Bytes data = test::read_file_bytes(p);
  const FrameScan scan = scan_frames(data);
  ASSERT_GE(scan.frames.size(), 4u);
  // Swap frames 0 and 1 (both of window 0), duplicate the last frame (window 4's late event),
  // append a frame that is not an entry.
  auto frame = [](ByteSpan payload) {
    Bytes f = {static_cast<uint8_t>(payload.size()), 0, 0, 0};
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
  };
  Bytes edited;
  append(edited, frame(scan.frames[1]));
  append(edited, frame(scan.frames[0]));
  for (size_t i = 2; i < scan.frames.size(); ++i) append(edited, frame(scan.frames[i]));
  append(edited, frame(scan.frames.back()));
  append(edited, frame(as_bytes("\x83\x01\x02\x03")));
  test::write_file_bytes(p, edited);

  const auto problems = check_all(dir.path(), wins);
  EXPECT_TRUE(any_has(problems, {rel, window_label(wins[0].r), "entries out of order"}))
      << joined(problems);
  EXPECT_TRUE(any_has(problems, {rel, window_label(wins[4].r), "unexpected entry"}))
      << joined(problems);
  EXPECT_TRUE(any_has(problems, {rel, "frame at offset"})) << joined(problems);
  EXPECT_EQ(problems.size(), 3u) << joined(problems);
}

TEST(DerivedChecker, EditedAccountingIsDetected) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  const int64_t day2 = kBase + 2 * 3600 * kSec;
  const std::filesystem::path p = dir / accounting_path(day2);
  Account a = read_account(p);
  ASSERT_FALSE(a.per_type.empty());
  a.per_type[0].raw_bytes += 10;
  a.per_type.back().zstd_bytes -= 1;
  a.per_type[0].zstd_bytes += 1;  // same total, different apportioning
  test::write_file_bytes(p, *zstd_compress(encode(a)));

  const auto problems = check_all(dir.path(), wins);
  const std::string t0 = "type " + std::to_string(a.per_type[0].type);
  EXPECT_TRUE(any_has(problems, {accounting_path(day2), t0 + ": raw_bytes"})) << joined(problems);
  EXPECT_TRUE(any_has(problems, {accounting_path(day2), t0 + ": zstd_bytes"})) << joined(problems);
  EXPECT_EQ(problems.size(), 3u) << joined(problems);
}

TEST(DerivedChecker, MissingDerivedFilesAreProblems) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins);
  std::filesystem::remove(dir / catalog_path(kBase));
  std::filesystem::remove(dir / accounting_path(kBase));
  std::filesystem::remove(dir / time_index_path(60, kBase + 3 * 3600 * kSec));
  const auto problems = check_all(dir.path(), wins);
  EXPECT_TRUE(any_has(problems, {catalog_path(kBase), "missing"})) << joined(problems);
  EXPECT_TRUE(any_has(problems, {accounting_path(kBase), "missing"})) << joined(problems);
  EXPECT_TRUE(any_has(
      problems, {time_index_path(60, kBase + 3 * 3600 * kSec), "missing", window_label(wins[9].r)}))
      << joined(problems);
  EXPECT_EQ(problems.size(), 3u) << joined(problems);
}

TEST(DerivedChecker, WrongWindowFactsAreReportedAgainstTheFiles) {
  test::TempDir dir;
  auto wins = two_days();
  write_all(dir.path(), wins);
  // The verifier recomputes different facts (e.g. an atom of another size and time).
  wins[1].facts[2].atom_bytes += 1;
  wins[1].facts[2].wall_ns += 3 * kSec;
  const auto problems = check_all(dir.path(), wins);
  EXPECT_TRUE(any_has(problems, {time_index_path(1, kBase), window_label(wins[1].r)}))
      << joined(problems);
  EXPECT_TRUE(any_has(problems, {accounting_path(kBase), "raw_bytes"})) << joined(problems);
}

// ---------------------------------------------------------------- restarts

TEST(DerivedWriter, RestartMidDayKeepsEarlierWindowEntries) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins, 0, 3);
  const Catalog before = read_catalog(dir / catalog_path(kBase));
  ASSERT_EQ(before.windows.size(), 3u);
  // Someone marked window 1 (e.g. a case); the new writer keeps entries exactly.
  Catalog marked = before;
  marked.windows[1].retention_lock = true;
  marked.windows[1].case_ids = {"case-7"};
  test::write_file_bytes(dir / catalog_path(kBase), *zstd_compress(encode(marked)));
  // A crash left a torn frame at the end of a time index file.
  {
    Bytes idx = test::read_file_bytes(dir / time_index_path(1, kBase));
    idx.push_back(9);
    idx.push_back(0);
    test::write_file_bytes(dir / time_index_path(1, kBase), idx);
  }

  write_all(dir.path(), wins, 3);  // a new writer: windows 3.. (the rest of 03-01, then 03-02)
  const Catalog after = read_catalog(dir / catalog_path(kBase));
  ASSERT_EQ(after.windows.size(), 7u);
  // Kept exactly, except retention_lock/case_ids, which follow cases/ (FORMAT.md §13.6): the
  // hand-made mark names no case there, so the new writer clears it.
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after.windows[i], before.windows[i]);
  EXPECT_EQ(joined(check_all(dir.path(), wins)), "");

  test::TempDir once;
  write_all(once.path(), wins);
  EXPECT_EQ(read_account(dir / accounting_path(kBase)),
            read_account(once / accounting_path(kBase)));
}

TEST(DerivedWriter, ReplayedLastWindowIsNotCountedTwice) {
  test::TempDir dir;
  const auto wins = two_days();
  write_all(dir.path(), wins, 0, 5);
  write_all(dir.path(), wins, 4);  // the sealer gives window 4 again after a crash
  EXPECT_EQ(joined(check_all(dir.path(), wins)), "");
  test::TempDir once;
  write_all(once.path(), wins);
  EXPECT_EQ(read_account(dir / accounting_path(kBase)),
            read_account(once / accounting_path(kBase)));
  EXPECT_EQ(read_catalog(dir / catalog_path(kBase)).windows,
            read_catalog(once / catalog_path(kBase)).windows);

  // A crash after the catalog but before the accounting of window 4: the catalog lists it,
  // the accounting does not count it yet.
  test::TempDir half;
  write_all(half.path(), wins, 0, 4);
  const Bytes account_of_4 = test::read_file_bytes(half / accounting_path(kBase));
  write_all(half.path(), wins, 4, 5);
  test::write_file_bytes(half / accounting_path(kBase), account_of_4);
  write_all(half.path(), wins, 4);
  EXPECT_EQ(joined(check_all(half.path(), wins)), "");
}

}  // namespace
}  // namespace ritma::seal
