// The hot index: schema, batched appends, every query filter, concurrent readers (including an
// unprivileged one), runs, stats, and the ways a file on disk can be wrong.
#include "store/hot_index.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include "core/bytes.h"
#include "test_util.h"

namespace ritma::store {
namespace {

namespace fs = std::filesystem;
using capture::Event;
using capture::EventType;

constexpr int64_t kT0 = 1795316000LL * 1000000000LL;  // 2026-11-22T03:33:20Z
constexpr int64_t kSec = 1000000000LL;

capture::ActorId actor_id(uint8_t first, uint8_t fill = 0x11) {
  capture::ActorId a;
  a.fill(fill);
  a[0] = first;
  return a;
}

Event make_event(uint64_t seq, int64_t wall_ns, EventType type = EventType::kExec,
                 uint16_t op = 0) {
  Event e;
  e.seq = seq;
  e.wall_ns = wall_ns;
  e.mono_ns = 5 * kSec + seq;
  e.type = type;
  e.op = op;
  e.pid = 100;
  e.tid = 100;
  e.ppid = 1;
  e.uid = 1000;
  e.euid = 1000;
  e.gid = 1000;
  e.start_ns = 4 * kSec;
  e.actor = actor_id(0xab);
  e.comm = "bash";
  return e;
}

RunStart test_run(std::string boot = "00112233445566778899aabbccddeeff") {
  RunStart r;
  r.boot_id = std::move(boot);
  r.node_id = "node-a";
  r.started_wall_ns = kT0;
  r.sensor_version = "0.1.0";
  r.config_digest = "abcdef";
  return r;
}

HotIndex open_writer_or_die(const fs::path& p) {
  auto w = HotIndex::open_writer(p);
  if (!w) ADD_FAILURE() << w.error().message;
  return std::move(w).value();
}

HotIndex new_index_with_run(const fs::path& p) {
  HotIndex w = open_writer_or_die(p);
  auto run = w.begin_run(test_run());
  EXPECT_TRUE(run.ok()) << run.error().message;
  return w;
}

std::vector<uint64_t> seqs(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

std::vector<Event> query_ok(HotIndex& index, const EventQuery& q) {
  auto r = index.query(q);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : std::vector<Event>{};
}

// Runs SQL on the file directly (for tests that damage or inspect it).
void raw_sql(const fs::path& p, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  EXPECT_EQ(rc, SQLITE_OK) << (msg ? msg : "");
  sqlite3_free(msg);
  sqlite3_close(db);
}

std::string raw_text(const fs::path& p, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(HotIndex, CreatesVersionedSchemaInWalMode) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  { HotIndex w = open_writer_or_die(p); }
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(raw_text(p, "PRAGMA user_version"), std::to_string(kHotIndexSchemaVersion));
  EXPECT_EQ(raw_text(p, "PRAGMA application_id"), std::to_string(kHotIndexApplicationId));
  EXPECT_EQ(raw_text(p, "PRAGMA journal_mode"), "wal");
  for (const char* table : {"events", "runs", "contexts", "paths"}) {
    EXPECT_EQ(raw_text(p, std::string("SELECT count(*) FROM sqlite_schema WHERE type='table' AND "
                                      "name='") +
                              table + "'"),
              "1")
        << table;
  }
  for (const char* index : {"events_time", "events_ctx", "events_name", "events_path",
                            "events_run_seq", "contexts_pid", "contexts_actor"}) {
    EXPECT_EQ(raw_text(p, std::string("SELECT count(*) FROM sqlite_schema WHERE type='index' AND "
                                      "name='") +
                              index + "'"),
              "1")
        << index;
  }
  // Reopening an existing index keeps it (and does not re-create the schema).
  { HotIndex w = open_writer_or_die(p); }
  EXPECT_EQ(raw_text(p, "PRAGMA user_version"), "1");
}

TEST(HotIndex, WriterHonoursFileModeAndKeepsWalFilesAfterClose) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  HotIndex::WriterOptions options;
  options.file_mode = 0644;
  const mode_t old_umask = umask(077);
  {
    auto w = HotIndex::open_writer(p, options);
    umask(old_umask);
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE(w->begin_run(test_run()).ok());
    const Event e = make_event(1, kT0);
    ASSERT_TRUE(w->append(std::span(&e, 1)).ok());
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    ASSERT_EQ(stat((p.string() + suffix).c_str(), &st), 0) << suffix << " missing after close";
    EXPECT_EQ(st.st_mode & 0777, 0644u) << suffix;
  }
}

TEST(HotIndex, AppendNeedsARunAndAWriter) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  HotIndex w = open_writer_or_die(p);
  const Event e = make_event(1, kT0);
  auto s = w.append(std::span(&e, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("begin_run"), std::string::npos) << s.error().message;
  ASSERT_TRUE(w.begin_run(test_run()).ok());
  EXPECT_TRUE(w.append(std::span(&e, 1)).ok());
  EXPECT_TRUE(w.append({}).ok());

  auto r = HotIndex::open_reader(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->writable());
  EXPECT_FALSE(r->append(std::span(&e, 1)).ok());
  EXPECT_FALSE(r->begin_run(test_run()).ok());
}

TEST(HotIndex, RoundTripsEveryStoredField) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  std::vector<Event> in;
  Event exec = make_event(7, kT0);
  exec.mono_ns = 123456789012345ULL;
  exec.flags = RITMA_F_ARGV_TRUNCATED;
  exec.result = 0;
  exec.pid = 4242;
  exec.tid = 4243;
  exec.ppid = 4000;
  exec.uid = 1001;
  exec.euid = 0;
  exec.gid = 1002;
  exec.egid = 1003;
  exec.start_ns = 99999999999ULL;
  exec.actor = actor_id(0x01, 0xfe);
  exec.comm = "curl";
  exec.exe = "/usr/bin/curl";
  exec.cgroup_id = 0xfedcba9876543210ULL;
  exec.container_id = std::string(64, 'c');
  exec.unit = "cron.service";
  exec.mntns = 4026531841u;
  exec.pidns = 4026531836u;
  exec.netns = 4026531840u;
  exec.path = "/usr/bin/curl";
  exec.argv = {"curl", "-H", "X: \"quoted\"\\ \n\t\x01", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", ""};
  exec.arg0 = 0xffffffffffffffffULL;
  exec.arg1 = 1;
  exec.arg2 = 5;
  exec.arg3 = 1ULL << 63;
  in.push_back(exec);

  Event conn = make_event(8, kT0 + 1, EventType::kNet, RITMA_OP_CONNECT);
  conn.addr.family = AF_INET6;
  conn.addr.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  conn.addr.port = 8443;
  conn.result = -111;
  in.push_back(conn);

  Event dns = make_event(9, kT0 + 2, EventType::kNet, RITMA_OP_SENDTO);
  dns.addr.family = AF_INET;
  dns.addr.ip = {10, 0, 0, 53};
  dns.addr.port = 53;
  dns.dns_name = "example.org";
  dns.dns_type = 28;
  in.push_back(dns);

  Event unix_conn = make_event(10, kT0 + 3, EventType::kNet, RITMA_OP_CONNECT);
  unix_conn.addr.family = AF_UNIX;
  unix_conn.addr.unix_path = "@abstract:socket";
  in.push_back(unix_conn);

  Event loss = make_event(11, kT0 + 4, EventType::kLoss);
  loss.count = 12345;
  in.push_back(loss);

  Event rename = make_event(12, kT0 + 5, EventType::kFile, RITMA_OP_RENAME);
  rename.path = "/tmp/a";
  rename.path2 = "/tmp/b";
  rename.wall_ns = -5;  // before 1970: stored as is
  in.push_back(rename);

  ASSERT_TRUE(w.append(in).ok());
  EventQuery q;
  q.limit = 0;
  auto out = query_ok(w, q);
  ASSERT_EQ(out.size(), in.size());
  std::sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.seq < b.seq; });
  for (size_t i = 0; i < in.size(); ++i) {
    const Event& a = in[i];
    const Event& b = out[i];
    SCOPED_TRACE("seq " + std::to_string(a.seq));
    EXPECT_EQ(b.seq, a.seq);
    EXPECT_EQ(b.wall_ns, a.wall_ns);
    EXPECT_EQ(b.mono_ns, a.mono_ns);
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.op, a.op);
    EXPECT_EQ(b.flags, a.flags);
    EXPECT_EQ(b.result, a.result);
    EXPECT_EQ(b.pid, a.pid);
    EXPECT_EQ(b.tid, a.tid);
    EXPECT_EQ(b.ppid, a.ppid);
    EXPECT_EQ(b.uid, a.uid);
    EXPECT_EQ(b.euid, a.euid);
    EXPECT_EQ(b.gid, a.gid);
    EXPECT_EQ(b.egid, a.egid);
    EXPECT_EQ(b.start_ns, a.start_ns);
    EXPECT_EQ(b.actor, a.actor);
    EXPECT_EQ(b.comm, a.comm);
    EXPECT_EQ(b.exe, a.exe);
    EXPECT_EQ(b.cgroup_id, a.cgroup_id);
    EXPECT_EQ(b.container_id, a.container_id);
    EXPECT_EQ(b.unit, a.unit);
    EXPECT_EQ(b.mntns, a.mntns);
    EXPECT_EQ(b.pidns, a.pidns);
    EXPECT_EQ(b.netns, a.netns);
    EXPECT_EQ(b.path, a.path);
    EXPECT_EQ(b.path2, a.path2);
    EXPECT_EQ(b.argv, a.argv);
    EXPECT_EQ(b.arg0, a.arg0);
    EXPECT_EQ(b.arg1, a.arg1);
    EXPECT_EQ(b.arg2, a.arg2);
    EXPECT_EQ(b.arg3, a.arg3);
    EXPECT_EQ(b.addr.to_string(), a.addr.to_string());
    EXPECT_EQ(b.addr.family, a.addr.family);
    EXPECT_EQ(b.addr.port, a.addr.port);
    EXPECT_EQ(b.dns_name, a.dns_name);
    EXPECT_EQ(b.dns_type, a.dns_type);
    EXPECT_EQ(b.count, a.count);
  }
  // The argv column is JSON text readable by anything.
  EXPECT_EQ(raw_text(w.path(), "SELECT json_valid(argv) FROM events WHERE seq = 7"), "1");
  EXPECT_EQ(raw_text(w.path(), "SELECT json_extract(argv, '$[0]') FROM events WHERE seq = 7"),
            "curl");
  EXPECT_EQ(raw_text(w.path(), "SELECT name FROM events WHERE seq = 9"), "dns");
}

TEST(HotIndex, InvalidUtf8InArgvBecomesReplacementCharacters) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  Event e = make_event(1, kT0);
  e.argv = {std::string("a\xff", 2), std::string("\xc3", 1), std::string("\xed\xa0\x80", 3),
            std::string("\xc0\xaf", 2)};
  e.path = std::string("/tmp/\xff\xfe", 7);  // paths are bytes: kept exactly
  ASSERT_TRUE(w.append(std::span(&e, 1)).ok());
  const auto out = query_ok(w, {});
  ASSERT_EQ(out.size(), 1u);
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(out[0].argv, (std::vector<std::string>{"a" + r, r, r + r + r, r + r}));
  EXPECT_EQ(out[0].path, e.path);
  EXPECT_EQ(raw_text(w.path(), "SELECT json_valid(argv) FROM events"), "1");
}

class HotIndexQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = HotIndex::open_writer(dir_ / "index.sqlite");
    ASSERT_TRUE(w.ok()) << w.error().message;
    writer_.emplace(std::move(w).value());
    ASSERT_TRUE(writer_->begin_run(test_run()).ok());
    // seq: wall second, type, pid, actor, container, path
    add(1, 0, EventType::kExec, 0, 100, 0xab, "", "/usr/bin/ls");
    add(2, 1, EventType::kFile, RITMA_OP_OPEN, 100, 0xab, "", "/tmp/50%_off/a");
    add(3, 2, EventType::kFile, RITMA_OP_OPEN, 100, 0xab, "", "/tmp/50XYoff/b");
    add(4, 3, EventType::kFile, RITMA_OP_UNLINK, 200, 0xac, "d0c4e1", "/tmp/a_b");
    add(5, 4, EventType::kFile, RITMA_OP_OPEN, 200, 0xac, "d0c4e1", "/tmp/aXb");
    add(6, 5, EventType::kNet, RITMA_OP_CONNECT, 300, 0xac, "d0c4e2", "");
    add(7, 6, EventType::kFile, RITMA_OP_OPEN, 300, 0x12, "d0c4e2", "/tmp/%");
    add(8, 7, EventType::kFile, RITMA_OP_OPEN, 300, 0x12, "", "/tmp/abc");
    add(9, 8, EventType::kExit, 0, 300, 0x12, "", "");
    add(10, 9, EventType::kFile, RITMA_OP_OPEN, 300, 0x12, "", std::string("/x/\xff\xff", 5));
    add(11, 9, EventType::kFile, RITMA_OP_OPEN, 300, 0x12, "", std::string("/x/\xff", 4));
    ASSERT_TRUE(writer_->append(batch_).ok());
  }

  void add(uint64_t seq, int64_t sec, EventType type, uint16_t op, uint32_t pid, uint8_t actor,
           const std::string& container, const std::string& path) {
    Event e = make_event(seq, kT0 + sec * kSec, type, op);
    e.pid = pid;
    e.actor = actor_id(actor);
    e.container_id = container;
    e.path = path;
    batch_.push_back(e);
  }

  std::vector<uint64_t> run(EventQuery q) {
    if (q.limit == 1000) q.limit = 0;
    return seqs(query_ok(*writer_, q));
  }

  test::TempDir dir_;
  std::optional<HotIndex> writer_;
  std::vector<Event> batch_;
};

using Seqs = std::vector<uint64_t>;

TEST_F(HotIndexQuery, ByTimeRangeIsHalfOpen) {
  EventQuery q;
  q.from_wall_ns = kT0 + 2 * kSec;
  q.to_wall_ns = kT0 + 5 * kSec;
  EXPECT_EQ(run(q), (Seqs{3, 4, 5}));
  q.to_wall_ns.reset();
  EXPECT_EQ(run(q), (Seqs{3, 4, 5, 6, 7, 8, 9, 10, 11}));
  q = {};
  q.to_wall_ns = kT0 + 1;
  EXPECT_EQ(run(q), (Seqs{1}));
}

TEST_F(HotIndexQuery, ByTypeNames) {
  EventQuery q;
  q.names = {"exec"};
  EXPECT_EQ(run(q), (Seqs{1}));
  q.names = {"unlink", "connect", "exit"};
  EXPECT_EQ(run(q), (Seqs{4, 6, 9}));
  q.names = {"no-such-type"};
  EXPECT_EQ(run(q), Seqs{});
}

TEST_F(HotIndexQuery, ByPid) {
  EventQuery q;
  q.pid = 200;
  EXPECT_EQ(run(q), (Seqs{4, 5}));
  q.pid = 999;
  EXPECT_EQ(run(q), Seqs{});
}

TEST_F(HotIndexQuery, ByActorHexPrefix) {
  EventQuery q;
  q.actor_hex_prefix = to_hex(actor_id(0xac));  // all 32 digits
  EXPECT_EQ(run(q), (Seqs{4, 5, 6}));
  q.actor_hex_prefix = "ac";
  EXPECT_EQ(run(q), (Seqs{4, 5, 6}));
  q.actor_hex_prefix = "a";  // odd length: ab.. and ac..
  EXPECT_EQ(run(q), (Seqs{1, 2, 3, 4, 5, 6}));
  q.actor_hex_prefix = "AB11";  // case-insensitive
  EXPECT_EQ(run(q), (Seqs{1, 2, 3}));
  q.actor_hex_prefix = "ab12";
  EXPECT_EQ(run(q), Seqs{});
  q.actor_hex_prefix = "1";
  EXPECT_EQ(run(q), (Seqs{7, 8, 9, 10, 11}));
  for (const std::string& bad : {std::string("xyz"), std::string("ab-"), std::string(33, 'a')}) {
    q.actor_hex_prefix = bad;
    auto r = writer_->query(q);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("hex"), std::string::npos);
  }
}

TEST_F(HotIndexQuery, ActorPrefixAtTheTopOfTheRange) {
  Event e = make_event(20, kT0 + 20 * kSec);
  e.actor.fill(0xff);
  ASSERT_TRUE(writer_->append(std::span(&e, 1)).ok());
  EventQuery q;
  q.actor_hex_prefix = "ff";
  EXPECT_EQ(run(q), (Seqs{20}));
  q.actor_hex_prefix = "f";
  EXPECT_EQ(run(q), (Seqs{20}));
  q.actor_hex_prefix = std::string(32, 'f');
  EXPECT_EQ(run(q), (Seqs{20}));
}

TEST_F(HotIndexQuery, ByContainerPrefix) {
  EventQuery q;
  q.container_prefix = "d0c4e1";
  EXPECT_EQ(run(q), (Seqs{4, 5}));
  q.container_prefix = "d0c4e";
  EXPECT_EQ(run(q), (Seqs{4, 5, 6, 7}));
  q.container_prefix = "e";
  EXPECT_EQ(run(q), Seqs{});
}

TEST_F(HotIndexQuery, PathPrefixIsLiteralNotAPattern) {
  EventQuery q;
  q.path_prefix = "/tmp/50%_";
  EXPECT_EQ(run(q), (Seqs{2}));
  q.path_prefix = "/tmp/a_";
  EXPECT_EQ(run(q), (Seqs{4}));
  q.path_prefix = "/tmp/%";
  EXPECT_EQ(run(q), (Seqs{7}));
  q.path_prefix = "/tmp/a";
  EXPECT_EQ(run(q), (Seqs{4, 5, 8}));
  q.path_prefix = "/tmp/";
  EXPECT_EQ(run(q), (Seqs{2, 3, 4, 5, 7, 8}));
  q.path_prefix = "/usr/bin/ls";
  EXPECT_EQ(run(q), (Seqs{1}));
  q.path_prefix = std::string("/x/\xff", 4);  // no upper bound exists
  EXPECT_EQ(run(q), (Seqs{10, 11}));
  q.path_prefix = std::string("/x/\xff\xff", 5);
  EXPECT_EQ(run(q), (Seqs{10}));
  q.path_prefix = "*";
  EXPECT_EQ(run(q), Seqs{});
}

TEST_F(HotIndexQuery, FiltersCombine) {
  EventQuery q;
  q.names = {"open"};
  q.pid = 300;
  q.path_prefix = "/tmp/";
  q.from_wall_ns = kT0 + 7 * kSec;
  EXPECT_EQ(run(q), (Seqs{8}));
  q.from_wall_ns.reset();
  q.container_prefix = "d0c4e2";
  q.actor_hex_prefix = "12";
  EXPECT_EQ(run(q), (Seqs{7}));
}

TEST_F(HotIndexQuery, FindsActorsByPrefix) {
  auto a = writer_->find_actors("a", 10);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->size(), 2u);
  std::set<capture::ActorId> got(a->begin(), a->end());
  EXPECT_TRUE(got.count(actor_id(0xab)) && got.count(actor_id(0xac)));
  a = writer_->find_actors("12", 10);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, std::vector<capture::ActorId>{actor_id(0x12)});
  a = writer_->find_actors("99", 10);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  EXPECT_FALSE(writer_->find_actors("zz", 10).ok());
}

TEST(HotIndex, OrdersByTimeThenSeqAndHonoursLimit) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  // Appended in seq order, but wall clocks step backwards and collide.
  std::vector<Event> batch = {make_event(1, kT0 + 30), make_event(2, kT0 + 10),
                              make_event(3, kT0 + 20), make_event(4, kT0 + 10),
                              make_event(5, kT0 + 10)};
  ASSERT_TRUE(w.append(batch).ok());
  EventQuery q;
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{2, 4, 5, 3, 1}));
  q.limit = 2;
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{2, 4}));
  q.newest_first = true;
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{1, 3}));
  q.limit = 0;
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{1, 3, 5, 4, 2}));
  EventQuery by_default;
  EXPECT_EQ(by_default.limit, 1000u);
}

TEST(HotIndex, DefaultLimitIsAThousand) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  std::vector<Event> batch;
  for (uint64_t i = 0; i < 1500; ++i) batch.push_back(make_event(i, kT0 + static_cast<int64_t>(i)));
  ASSERT_TRUE(w.append(batch).ok());
  EXPECT_EQ(query_ok(w, {}).size(), 1000u);
  EventQuery all;
  all.limit = 0;
  EXPECT_EQ(query_ok(w, all).size(), 1500u);
}

TEST(HotIndex, DuplicateSeqFailsTheWholeBatchAndTheIndexStaysUsable) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  std::vector<Event> first = {make_event(1, kT0), make_event(2, kT0 + 1)};
  ASSERT_TRUE(w.append(first).ok());

  // A batch that introduces a new process and a new path, then repeats seq 2.
  Event fresh = make_event(3, kT0 + 2, EventType::kFile, RITMA_OP_OPEN);
  fresh.actor = actor_id(0x77);
  fresh.pid = 777;
  fresh.path = "/new/path";
  std::vector<Event> bad = {fresh, make_event(2, kT0 + 3)};
  auto s = w.append(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("seq 2"), std::string::npos) << s.error().message;
  EXPECT_EQ(query_ok(w, {}).size(), 2u) << "a failed batch must leave nothing behind";

  // The rolled-back process and path are written again when next seen.
  ASSERT_TRUE(w.append(std::span(&fresh, 1)).ok());
  EventQuery q;
  q.pid = 777;
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{3}));
  q = {};
  q.actor_hex_prefix = "77";
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{3}));
  q = {};
  q.path_prefix = "/new/";
  EXPECT_EQ(seqs(query_ok(w, q)), (Seqs{3}));
}

TEST(HotIndex, ReopenKeepsEventsAndRuns) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  int64_t first_run = 0;
  {
    HotIndex w = open_writer_or_die(p);
    auto run = w.begin_run(test_run());
    ASSERT_TRUE(run.ok());
    first_run = *run;
    std::vector<Event> batch = {make_event(1, kT0), make_event(2, kT0 + 1)};
    ASSERT_TRUE(w.append(batch).ok());
    ASSERT_TRUE(w.end_run(first_run, kT0 + 10, "stopped").ok());
  }
  HotIndex w = open_writer_or_die(p);
  EXPECT_EQ(query_ok(w, {}).size(), 2u);
  auto last = w.last_run();
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->run_id, first_run);
  EXPECT_EQ((*last)->end_reason, "stopped");
  // A new run may start its sequence numbers again.
  auto run = w.begin_run(test_run());
  ASSERT_TRUE(run.ok());
  EXPECT_GT(*run, first_run);
  std::vector<Event> batch = {make_event(1, kT0 + 20)};
  EXPECT_TRUE(w.append(batch).ok());
  EXPECT_EQ(query_ok(w, {}).size(), 3u);
}

TEST(HotIndex, RunsTable) {
  test::TempDir dir;
  HotIndex w = open_writer_or_die(dir / "index.sqlite");
  auto none = w.last_run();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  EXPECT_FALSE(w.begin_run(test_run("")).ok());
  EXPECT_FALSE(w.begin_run(test_run("not-hex")).ok());
  RunStart bad_digest = test_run();
  bad_digest.config_digest = "xyz";
  EXPECT_FALSE(w.begin_run(bad_digest).ok());

  RunStart start = test_run("00112233445566778899AABBCCDDEEFF");
  start.config_digest = "";  // no config
  auto id = w.begin_run(start);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto last = w.last_run();
  ASSERT_TRUE(last.ok() && last->has_value());
  const RunRecord& r = **last;
  EXPECT_EQ(r.run_id, *id);
  EXPECT_EQ(r.boot_id, "00112233445566778899aabbccddeeff");  // stored lowercase
  EXPECT_EQ(r.node_id, "node-a");
  EXPECT_EQ(r.started_wall_ns, kT0);
  EXPECT_EQ(r.sensor_version, "0.1.0");
  EXPECT_EQ(r.config_digest, "");
  EXPECT_FALSE(r.ended_wall_ns.has_value());
  EXPECT_EQ(r.end_reason, "");

  ASSERT_TRUE(w.end_run(*id, kT0 + 99, "unclean").ok());
  last = w.last_run();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->ended_wall_ns, kT0 + 99);
  EXPECT_EQ((*last)->end_reason, "unclean");
  auto s = w.end_run(*id + 100, kT0, "stopped");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no run"), std::string::npos);
  // The ended run is no longer the one append() writes to.
  const Event e = make_event(1, kT0);
  EXPECT_FALSE(w.append(std::span(&e, 1)).ok());

  auto reader = HotIndex::open_reader(w.path());
  ASSERT_TRUE(reader.ok());
  auto seen = reader->last_run();
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->run_id, *id);
}

TEST(HotIndex, Stats) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  auto empty = w.stats();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->rows, 0);
  EXPECT_FALSE(empty->min_wall_ns.has_value());
  EXPECT_FALSE(empty->last_seq.has_value());
  EXPECT_GT(empty->db_bytes, 0);

  std::vector<Event> batch = {make_event(10, kT0 + 5), make_event(11, kT0 - 7),
                              make_event(12, kT0 + 3)};
  ASSERT_TRUE(w.append(batch).ok());
  auto st = w.stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rows, 3);
  EXPECT_EQ(st->min_wall_ns, kT0 - 7);
  EXPECT_EQ(st->max_wall_ns, kT0 + 5);
  EXPECT_EQ(st->last_seq, 12u);
  auto run = w.last_run();
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ(st->last_run_id, (*run)->run_id);
  EXPECT_GE(st->db_bytes, empty->db_bytes);
  EXPECT_GT(st->wal_bytes, 0);

  auto reader = HotIndex::open_reader(w.path());
  ASSERT_TRUE(reader.ok());
  auto rs = reader->stats();
  ASSERT_TRUE(rs.ok()) << rs.error().message;
  EXPECT_EQ(rs->rows, 3);
}

TEST(HotIndex, ReaderSeesEachCommittedBatch) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  HotIndex w = new_index_with_run(p);
  auto reader = HotIndex::open_reader(p);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EventQuery all;
  all.limit = 0;
  EXPECT_EQ(query_ok(*reader, all).size(), 0u);
  for (uint64_t b = 0; b < 5; ++b) {
    std::vector<Event> batch;
    for (uint64_t i = 0; i < 100; ++i) {
      batch.push_back(make_event(b * 100 + i, kT0 + static_cast<int64_t>(b * 100 + i)));
    }
    ASSERT_TRUE(w.append(batch).ok());
    EXPECT_EQ(query_ok(*reader, all).size(), (b + 1) * 100);
  }
}

TEST(HotIndex, ReaderRunsWhileAnotherProcessWrites) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  { HotIndex w = new_index_with_run(p); }
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 500;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto w = HotIndex::open_writer(p);
    if (!w || !w->begin_run(test_run()).ok()) _exit(2);
    for (int b = 0; b < kBatches; ++b) {
      std::vector<Event> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        Event e = make_event(static_cast<uint64_t>(b * kPerBatch + i), kT0 + b * kPerBatch + i,
                             EventType::kFile, RITMA_OP_OPEN);
        e.path = "/data/file" + std::to_string(i % 50);
        e.pid = static_cast<uint32_t>(1000 + i % 20);
        batch.push_back(std::move(e));
      }
      if (!w->append(batch).ok()) _exit(3);
    }
    _exit(0);
  }
  auto reader = HotIndex::open_reader(p);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  int64_t last = 0;
  int status = 0;
  bool done = false;
  int reads = 0;
  while (!done) {
    done = waitpid(child, &status, WNOHANG) == child;
    auto st = reader->stats();
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_GE(st->rows, last) << "a reader must never see rows disappear";
    EXPECT_EQ(st->rows % kPerBatch, 0) << "a reader must see whole batches only";
    last = st->rows;
    EventQuery q;
    q.path_prefix = "/data/file1";
    q.limit = 10;
    ASSERT_TRUE(reader->query(q).ok());
    ++reads;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto st = reader->stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rows, kBatches * kPerBatch);
  EXPECT_GT(reads, 1);
}

// The sensor writes as root; `ritma events` reads as an ordinary user who cannot create the
// -wal and -shm files. Needs root to set up (skips without, fails in CI).
TEST(HotIndex, UnprivilegedUserCanReadRootWrittenIndex) {
  if (geteuid() != 0) {
    if (test::in_ci()) FAIL() << "needs root in CI";
    GTEST_SKIP() << "needs root to write as root and read as nobody";
  }
  test::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  const auto p = dir / "index.sqlite";
  HotIndex::WriterOptions options;
  options.file_mode = 0644;
  auto w = HotIndex::open_writer(p, options);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(w->begin_run(test_run()).ok());
  std::vector<Event> batch = {make_event(1, kT0), make_event(2, kT0 + 1)};
  ASSERT_TRUE(w->append(batch).ok());

  // Reads as nobody; exit status 0 when it sees `expected` rows, else prints why.
  auto read_as_nobody = [&](int64_t expected) {
    const pid_t child = fork();
    if (child == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
      auto r = HotIndex::open_reader(p);
      if (!r) {
        std::fprintf(stderr, "open_reader: %s\n", r.error().message.c_str());
        _exit(11);
      }
      auto events = r->query({});
      if (!events) {
        std::fprintf(stderr, "query: %s\n", events.error().message.c_str());
        _exit(12);
      }
      _exit(static_cast<int64_t>(events->size()) == expected ? 0 : 13);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(read_as_nobody(2), 0) << "while the writer is open";
  ASSERT_TRUE(w->append(std::span(&batch[0], 1)).ok() == false);  // seq 1 again: refused
  Event third = make_event(3, kT0 + 2);
  ASSERT_TRUE(w->append(std::span(&third, 1)).ok());
  EXPECT_EQ(read_as_nobody(3), 0) << "after another commit";
  w = make_error("closed");  // closes the writer
  EXPECT_EQ(read_as_nobody(3), 0) << "after the writer closed";
}

TEST(HotIndex, RefusesANewerSchemaVersion) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  { HotIndex w = open_writer_or_die(p); }
  raw_sql(p, "PRAGMA user_version = " + std::to_string(kHotIndexSchemaVersion + 1));
  auto w = HotIndex::open_writer(p);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("newer"), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("schema version 2"), std::string::npos) << w.error().message;
  auto r = HotIndex::open_reader(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
}

TEST(HotIndex, RefusesOtherApplicationsDatabases) {
  test::TempDir dir;
  const auto other = dir / "other.sqlite";
  raw_sql(other, "CREATE TABLE t(x)");
  auto w = HotIndex::open_writer(other);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("not a Ritma hot index"), std::string::npos)
      << w.error().message;
  EXPECT_EQ(raw_text(other, "SELECT count(*) FROM sqlite_schema"), "1") << "left untouched";

  const auto tagged = dir / "tagged.sqlite";
  raw_sql(tagged, "PRAGMA application_id = 12345; CREATE TABLE t(x)");
  w = HotIndex::open_writer(tagged);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("another application"), std::string::npos);
  auto r = HotIndex::open_reader(tagged);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("another application"), std::string::npos);
}

TEST(HotIndex, MissingFileForReader) {
  test::TempDir dir;
  auto r = HotIndex::open_reader(dir / "none.sqlite");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no hot index at"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "none.sqlite")) << "a reader never creates the file";
  auto w = HotIndex::open_writer(dir / "no-such-dir" / "index.sqlite");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("cannot create"), std::string::npos) << w.error().message;
}

TEST(HotIndex, GarbageFileGivesAClearError) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  Bytes garbage(10000);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 7 + 3);
  test::write_file_bytes(p, garbage);
  for (bool writer : {false, true}) {
    auto r = writer ? HotIndex::open_writer(p) : HotIndex::open_reader(p);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not a Ritma hot index"), std::string::npos)
        << r.error().message;
  }
  EXPECT_EQ(test::read_file_bytes(p), garbage) << "the writer must not overwrite it";
}

TEST(HotIndex, DamagedPagesGiveAClearErrorNotACrash) {
  test::TempDir dir;
  const auto p = dir / "index.sqlite";
  {
    HotIndex w = new_index_with_run(p);
    std::vector<Event> batch;
    for (uint64_t i = 0; i < 2000; ++i) {
      Event e = make_event(i, kT0 + static_cast<int64_t>(i), EventType::kFile, RITMA_OP_OPEN);
      e.path = "/some/fairly/long/path/number/" + std::to_string(i);
      batch.push_back(std::move(e));
    }
    ASSERT_TRUE(w.append(batch).ok());
  }  // closing checkpoints everything into the main file
  Bytes bytes = test::read_file_bytes(p);
  ASSERT_GT(bytes.size(), 8192u * 4);
  // Keep page 1 (header and schema), scribble over every other page.
  for (size_t i = 8192; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0xa5 ^ (i * 13));
  test::write_file_bytes(p, bytes);

  auto r = HotIndex::open_reader(p);
  std::string message;
  if (!r.ok()) {
    message = r.error().message;
  } else {
    EventQuery all;
    all.limit = 0;
    auto events = r->query(all);
    if (!events.ok()) message = events.error().message;
    auto st = r->stats();
    if (!st.ok() && message.empty()) message = st.error().message;
  }
  ASSERT_FALSE(message.empty()) << "damage went unnoticed";
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
  EXPECT_NE(message.find(p.string()), std::string::npos) << message;

  // A file cut short.
  bytes.resize(8192 + 100);
  test::write_file_bytes(p, bytes);
  auto cut = HotIndex::open_reader(p);
  if (cut.ok()) {
    auto events = cut->query({});
    ASSERT_FALSE(events.ok());
    EXPECT_NE(events.error().message.find("corrupt"), std::string::npos) << events.error().message;
  }
}

TEST(HotIndex, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), std::nullopt);
  EXPECT_EQ(prefix_successor(""), std::nullopt);
  EXPECT_EQ(prefix_successor("/tmp/%"), "/tmp/&");
}

// 200k events in sensor-sized batches. No timing assertion (speed is for benchmarks); the
// rate is printed for the curious.
TEST(HotIndex, BulkInsertOf200kEvents) {
  test::TempDir dir;
  HotIndex w = new_index_with_run(dir / "index.sqlite");
  constexpr size_t kTotal = 200000;
  constexpr size_t kBatch = 10000;
  const char* paths[] = {"/etc/passwd", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/tmp/x",
                         "/proc/self/status", "/var/log/syslog"};
  std::vector<Event> batch(kBatch);
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t done = 0; done < kTotal; done += kBatch) {
    for (size_t i = 0; i < kBatch; ++i) {
      const uint64_t seq = done + i;
      Event e =
          make_event(seq, kT0 + static_cast<int64_t>(seq) * 1000, EventType::kFile, RITMA_OP_OPEN);
      e.pid = static_cast<uint32_t>(1000 + seq % 97);
      e.actor = actor_id(static_cast<uint8_t>(seq % 97));
      e.path = paths[seq % 5];
      if (seq % 10 == 0) {
        e.type = EventType::kExec;
        e.op = 0;
        e.argv = {"ls", "-la", "/tmp"};
      }
      batch[i] = std::move(e);
    }
    ASSERT_TRUE(w.append(batch).ok());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto st = w.stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rows, static_cast<int64_t>(kTotal));
  EXPECT_EQ(st->last_seq, kTotal - 1);
  std::printf("[ info ] %zu events in %.2f s (%.0f events/s), %.0f bytes/event\n", kTotal, secs,
              kTotal / secs, static_cast<double>(st->db_bytes) / kTotal);
  EventQuery q;
  q.pid = 1005;
  q.names = {"exec"};
  q.limit = 0;
  const auto execs = query_ok(w, q);
  EXPECT_FALSE(execs.empty());
  for (const auto& e : execs) EXPECT_EQ(e.pid, 1005u);
}

}  // namespace
}  // namespace ritma::store
