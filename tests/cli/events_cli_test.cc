// `ritma events` and `ritma tree`, run as a user would, over hot indexes written through
// HotIndex in a temporary directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/bytes.h"
#include "store/hot_index.h"
#include "test_util.h"

namespace ritma {
namespace {

using capture::Event;
using capture::EventType;
using test::run_program;

constexpr int64_t kSec = 1000000000LL;
// 2026-11-22T03:12:00Z
constexpr int64_t kT0 = 1795317120LL * kSec;
const std::vector<std::string> kUtc = {"TZ=UTC"};

capture::ActorId actor_id(uint8_t first) {
  capture::ActorId a;
  a.fill(0x5a);
  a[0] = first;
  return a;
}

// A process of the synthetic host: pid, ppid, start time and actor.
struct Proc {
  uint32_t pid;
  uint32_t ppid;
  uint64_t start_ns;
  uint8_t actor;
  std::string comm;
};

class IndexBuilder {
 public:
  explicit IndexBuilder(const std::filesystem::path& p) {
    auto w = store::HotIndex::open_writer(p);
    EXPECT_TRUE(w.ok()) << w.error().message;
    writer_.emplace(std::move(w).value());
    store::RunStart run;
    run.boot_id = "0011223344556677";
    run.node_id = "test";
    run.started_wall_ns = kT0;
    run.sensor_version = "test";
    EXPECT_TRUE(writer_->begin_run(run).ok());
  }

  Event& add(const Proc& p, int64_t wall_ns, EventType type, uint16_t op = 0) {
    Event e;
    e.seq = ++seq_;
    e.wall_ns = wall_ns;
    e.mono_ns = 1000 * kSec + static_cast<uint64_t>(wall_ns - kT0);
    e.type = type;
    e.op = op;
    e.pid = p.pid;
    e.tid = p.pid;
    e.ppid = p.ppid;
    e.uid = 1000;
    e.euid = 1000;
    e.gid = 1000;
    e.start_ns = p.start_ns;
    e.actor = actor_id(p.actor);
    e.comm = p.comm;
    events_.push_back(e);
    return events_.back();
  }

  void fork(const Proc& parent, const Proc& child, int64_t wall_ns) {
    Event& e = add(parent, wall_ns, EventType::kFork);
    e.arg0 = child.pid;
    e.arg1 = child.start_ns;
  }

  void exec(const Proc& p, int64_t wall_ns, std::vector<std::string> argv) {
    Event& e = add(p, wall_ns, EventType::kExec);
    e.path = "/usr/bin/" + argv[0];
    e.argv = std::move(argv);
  }

  void flush() {
    ASSERT_TRUE(writer_->append(events_).ok());
    events_.clear();
  }

 private:
  std::optional<store::HotIndex> writer_;
  std::vector<Event> events_;
  uint64_t seq_ = 0;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class EventsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "index_db.sqlite").string();
    IndexBuilder b(db_);
    const Proc bash{100, 1, 50 * kSec, 0xb0, "bash"};
    const Proc ls{101, 100, 60 * kSec, 0xb1, "ls"};
    const Proc curl{102, 100, 61 * kSec, 0xb2, "curl"};
    b.exec(ls, kT0, {"ls", "-la", "/tmp/my dir"});
    Event& open_ok = b.add(ls, kT0 + kSec / 2, EventType::kFile, RITMA_OP_OPEN);
    open_ok.path = "/tmp/my dir";
    open_ok.arg0 = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    open_ok.result = 3;
    Event& open_missing = b.add(ls, kT0 + kSec, EventType::kFile, RITMA_OP_OPEN);
    open_missing.path = "/etc/50%_off.conf";
    open_missing.arg0 = O_WRONLY | O_CREAT | O_TRUNC;
    open_missing.arg1 = 0644;
    open_missing.result = -2;
    Event& exit = b.add(ls, kT0 + 2 * kSec, EventType::kExit);
    exit.result = 0;
    Event& conn = b.add(curl, kT0 + 3 * kSec, EventType::kNet, RITMA_OP_CONNECT);
    conn.addr.family = AF_INET;
    conn.addr.ip = {10, 0, 0, 1};
    conn.addr.port = 443;
    conn.container_id = "4f9c2a1b0c3d";
    Event& rename = b.add(bash, kT0 + 4 * kSec, EventType::kFile, RITMA_OP_RENAME);
    rename.path = "/etc/5000_off.conf";
    rename.path2 = "/etc/\x1b[31mred";
    b.flush();
  }

  test::TempDir dir_;
  std::string db_;
};

TEST_F(EventsCli, TableIsAlignedAndSummarises) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 7u) << r.out;
  const std::string& header = out[0];
  for (const char* col : {"TIME", "SEQ", "TYPE", "PID", "PPID", "UID", "COMM", "SUMMARY"}) {
    EXPECT_TRUE(contains(header, col)) << header;
  }
  // Every row starts its columns where the header's left-aligned columns start.
  const size_t type_col = header.find("TYPE");
  const size_t comm_col = header.find("COMM");
  const size_t summary_col = header.find("SUMMARY");
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_NE(out[i][type_col], ' ') << out[i];
    EXPECT_EQ(out[i][type_col - 1], ' ') << out[i];
    EXPECT_NE(out[i][comm_col], ' ') << out[i];
    EXPECT_NE(out[i][summary_col], ' ') << out[i];
  }
  EXPECT_EQ(out[1].rfind("2026-11-22T03:12:00.000Z", 0), 0u) << out[1];
  EXPECT_TRUE(contains(out[1], "exec")) << out[1];
  EXPECT_TRUE(contains(out[1], "ls -la '/tmp/my dir'")) << out[1];
  EXPECT_TRUE(contains(out[2], "2026-11-22T03:12:00.500Z")) << out[2];
  EXPECT_TRUE(contains(out[2], "/tmp/my dir O_RDONLY|O_DIRECTORY|O_CLOEXEC")) << out[2];
  EXPECT_TRUE(contains(out[3], "/etc/50%_off.conf O_WRONLY|O_CREAT|O_TRUNC 0644 = ENOENT"))
      << out[3];
  EXPECT_TRUE(contains(out[4], "exit 0")) << out[4];
  EXPECT_TRUE(contains(out[5], "connect")) << out[5];
  EXPECT_TRUE(contains(out[5], "10.0.0.1:443")) << out[5];
  // Control characters from the event are escaped, never sent to the terminal.
  EXPECT_TRUE(contains(out[6], "/etc/5000_off.conf -> /etc/\\x1b[31mred")) << out[6];
  EXPECT_FALSE(contains(r.out, "\x1b"));
}

TEST_F(EventsCli, LocalTimeCarriesItsOffset) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--limit", "1"}, {"TZ=Asia/Kolkata"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 2u);
  // Without tzdata the zone falls back to UTC; either way the offset is printed.
  EXPECT_TRUE(out[1].rfind("2026-11-22T08:42:00.000+05:30", 0) == 0 ||
              out[1].rfind("2026-11-22T03:12:00.000Z", 0) == 0)
      << out[1];
  EXPECT_TRUE(contains(r.err, "showing the first 1")) << r.err;
}

TEST_F(EventsCli, JsonLinesCarryEveryField) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--json"}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 6u);
  std::vector<nlohmann::json> js;
  for (const auto& l : out) js.push_back(nlohmann::json::parse(l));
  EXPECT_EQ(js[0]["type"], "exec");
  EXPECT_EQ(js[0]["argv"], (nlohmann::json{"ls", "-la", "/tmp/my dir"}));
  EXPECT_EQ(js[0]["actor"], to_hex(actor_id(0xb1)));
  EXPECT_EQ(js[0]["pid"], 101);
  EXPECT_EQ(js[0]["ppid"], 100);
  EXPECT_EQ(js[0]["seq"], 1);
  EXPECT_EQ(js[0]["wall_ns"], kT0);
  EXPECT_EQ(js[0]["time"], "2026-11-22T03:12:00.000Z");
  EXPECT_TRUE(js[0]["errno"].is_null());
  EXPECT_EQ(js[2]["result"], -2);
  EXPECT_EQ(js[2]["errno"], "ENOENT");
  EXPECT_EQ(js[2]["path"], "/etc/50%_off.conf");
  EXPECT_EQ(js[4]["addr"], "10.0.0.1:443");
  EXPECT_EQ(js[4]["container_id"], "4f9c2a1b0c3d");
  EXPECT_EQ(js[5]["path2"], "/etc/\x1b[31mred");  // exact in JSON
  for (const char* field :
       {"seq",      "time",     "wall_ns", "mono_ns", "type",  "type_id",   "op",           "flags",
        "result",   "errno",    "pid",     "tid",     "ppid",  "uid",       "euid",         "gid",
        "egid",     "start_ns", "actor",   "comm",    "exe",   "cgroup_id", "container_id", "unit",
        "path",     "path2",    "argv",    "arg0",    "arg1",  "arg2",      "arg3",         "addr",
        "dns_name", "dns_type", "count",   "mntns",   "pidns", "netns"}) {
    EXPECT_TRUE(js[0].contains(field)) << field;
  }
}

std::vector<uint64_t> json_seqs(const test::RunResult& r) {
  std::vector<uint64_t> out;
  for (const auto& l : lines(r.out)) out.push_back(nlohmann::json::parse(l)["seq"]);
  return out;
}

TEST_F(EventsCli, Filters) {
  using Seqs = std::vector<uint64_t>;
  auto q = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {RITMA_BIN, "events", "--db", db_, "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_program(argv, kUtc);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json_seqs(r);
  };
  EXPECT_EQ(q({"--type", "exec"}), (Seqs{1}));
  EXPECT_EQ(q({"--type", "open,exit"}), (Seqs{2, 3, 4}));
  EXPECT_EQ(q({"--type", "open", "--type", "connect"}), (Seqs{2, 3, 5}));
  EXPECT_EQ(q({"--type", "net"}), (Seqs{5}));
  EXPECT_EQ(q({"--type", "file"}), (Seqs{2, 3, 6}));
  EXPECT_EQ(q({"--pid", "102"}), (Seqs{5}));
  EXPECT_EQ(q({"--pid", "0"}), Seqs{});
  EXPECT_EQ(q({"--actor", to_hex(actor_id(0xb1)).substr(0, 3)}), (Seqs{1, 2, 3, 4}));
  EXPECT_EQ(q({"--actor", "B0"}), (Seqs{6}));
  EXPECT_EQ(q({"--container", "4f9c"}), (Seqs{5}));
  EXPECT_EQ(q({"--path-prefix", "/etc/50%_"}), (Seqs{3}));
  EXPECT_EQ(q({"--path-prefix", "/etc/50"}), (Seqs{3, 6}));
  EXPECT_EQ(q({"--from", "2026-11-22T03:12:01Z", "--to", "2026-11-22T03:12:03Z"}), (Seqs{3, 4}));
  EXPECT_EQ(q({"--from", "2026-11-22T04:12:01+01:00", "--to", "2026-11-22t03:12:03.000000001z"}),
            (Seqs{3, 4, 5}));
  EXPECT_EQ(q({"--from", "1795317120.5", "--to", "1795317122"}), (Seqs{2, 3}));
  EXPECT_EQ(q({"--from", "2026-11-22 03:12:04Z"}), (Seqs{6}));
  EXPECT_EQ(q({"--limit", "2"}), (Seqs{1, 2}));
  EXPECT_EQ(q({"--limit", "0"}).size(), 6u);
  EXPECT_EQ(q({"--since", "10m"}), Seqs{}) << "these events are far in the future or past";
  EXPECT_EQ(q({"--type", "exec,open", "--pid", "101", "--path-prefix", "/tmp/"}), (Seqs{2}));
}

TEST_F(EventsCli, SinceCountsBackFromNow) {
  test::TempDir dir;
  const std::string db = (dir / "recent.sqlite").string();
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  {
    IndexBuilder b(db);
    const Proc p{7, 1, kSec, 0x07, "cron"};
    b.exec(p, now - 2 * 3600 * kSec, {"old"});
    b.exec(p, now - 20 * 60 * kSec, {"twenty-minutes"});
    b.exec(p, now - 5 * 60 * kSec, {"five-minutes"});
    b.flush();
  }
  auto r = run_program({RITMA_BIN, "events", "--db", db, "--since", "10m", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 1u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(out[0])["argv"][0], "five-minutes");
  r = run_program({RITMA_BIN, "events", "--db", db, "--since", "1h", "--json"});
  EXPECT_EQ(lines(r.out).size(), 2u);
  r = run_program({RITMA_BIN, "events", "--db", db, "--since", "2h30m", "--json"});
  EXPECT_EQ(lines(r.out).size(), 3u);
  r = run_program({RITMA_BIN, "events", "--db", db, "--since", "90s", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(contains(r.err, "no matching events")) << r.err;
}

TEST_F(EventsCli, BadArgumentsAreUsageErrors) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--since", "10 minutes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "invalid --since \"10 minutes\"")) << r.err;
  EXPECT_TRUE(contains(r.err, "30s, 10m, 1h")) << r.err;

  for (const char* bad : {"yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-22T03:12:00", "2026-11-22T25:00:00Z", "12.5.5", "-5"}) {
    r = run_program({RITMA_BIN, "events", "--db", db_, "--from", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_TRUE(contains(r.err, "RFC 3339")) << bad << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "epoch seconds")) << r.err;
  }
  r = run_program({RITMA_BIN, "events", "--db", db_, "--from", "1795317122", "--to", "1795317120"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--from must be before --to")) << r.err;

  r = run_program({RITMA_BIN, "events", "--db", db_, "--type", "exec,bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "unknown event type \"bogus\"")) << r.err;
  EXPECT_TRUE(contains(r.err, "connect")) << r.err;

  r = run_program({RITMA_BIN, "events", "--db", db_, "--actor", "xyz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "hex")) << r.err;

  r = run_program({RITMA_BIN, "events", "--db", db_, "--since", "1h", "--from", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
  r = run_program({RITMA_BIN, "events", "--db", db_, "--pid", "abc"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(EventsCli, MissingDatabaseSaysWhere) {
  const std::string base = (dir_ / "empty-base").string();
  auto r = run_program({RITMA_BIN, "events"}, {"RITMA_BASE_DIR=" + base});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no hot index at " + base +
                                  "/index_db.sqlite; is ritma-sensor "
                                  "running? (RITMA_BASE_DIR=" +
                                  base + ")"))
      << r.err;
  r = run_program({RITMA_BIN, "events", "--db", base + "/x.sqlite"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no hot index at " + base + "/x.sqlite")) << r.err;
  r = run_program({RITMA_BIN, "tree", "--pid", "1", "--base-dir", base});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no hot index at")) << r.err;
}

TEST_F(EventsCli, DefaultLocationFollowsBaseDirAndIndexDbPath) {
  auto r = run_program({RITMA_BIN, "events", "--json"}, {"RITMA_BASE_DIR=" + dir_.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 6u);
  r = run_program({RITMA_BIN, "events", "--json", "--base-dir", dir_.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 6u);
  r = run_program({RITMA_BIN, "events", "--json"}, {"INDEX_DB_PATH=" + db_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 6u);
}

TEST_F(EventsCli, CorruptDatabaseIsARuntimeError) {
  const std::string bad = (dir_ / "bad.sqlite").string();
  test::write_file_bytes(bad, as_bytes(std::string(5000, 'x')));
  auto r = run_program({RITMA_BIN, "events", "--db", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "not a Ritma hot index")) << r.err;
}

// init(1) -> bash(100) -> { curl(200), sh(201) -> sleep(300) }, plus a thread of bash and an
// unrelated process that reused pid 200 later.
class EventsCliTree : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "index.sqlite").string();
    IndexBuilder b(db_);
    // Start times are boot-time ns, consistent with IndexBuilder's mono clock (1000 s at kT0).
    const Proc init{1, 0, 1 * kSec, 0x01, "systemd"};
    const Proc bash{100, 1, 1000 * kSec, 0x10, "bash"};
    const Proc curl{200, 100, 1010 * kSec, 0x20, "curl"};
    const Proc sh{201, 100, 1011 * kSec, 0x21, "sh"};
    const Proc sleep{300, 201, 1020 * kSec, 0x30, "sleep"};
    const Proc reused{200, 1, 1480 * kSec, 0x99, "nginx"};
    b.fork(init, bash, kT0);
    b.exec(bash, kT0 + 1, {"bash", "-l"});
    Event& thread = b.add(bash, kT0 + 2, EventType::kFork);
    thread.arg0 = 100;  // a thread: same tgid
    thread.arg1 = 1000 * kSec;
    b.fork(bash, curl, kT0 + 10 * kSec);
    b.exec(curl, kT0 + 10 * kSec + 1, {"curl", "-s", "https://example.org"});
    b.add(curl, kT0 + 11 * kSec, EventType::kExit).result = 0;
    b.fork(bash, sh, kT0 + 11 * kSec);
    b.exec(sh, kT0 + 11 * kSec + 1, {"sh", "-c", "sleep 100"});
    b.fork(sh, sleep, kT0 + 20 * kSec);
    b.exec(sleep, kT0 + 20 * kSec + 1, {"sleep", "100"});
    b.add(sleep, kT0 + 25 * kSec, EventType::kExit).result = 9;  // SIGKILL
    b.add(sh, kT0 + 25 * kSec + 1, EventType::kExit).result = 137 << 8;
    b.exec(reused, kT0 + 490 * kSec, {"nginx"});
    b.flush();
  }

  test::TempDir dir_;
  std::string db_;
};

TEST_F(EventsCliTree, ShowsAncestorsAndDescendantsOfAProcess) {
  auto r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "201"}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  // Lineage: systemd > bash > * sh > sleep; curl is a sibling, not shown.
  ASSERT_GE(out.size(), 4u) << r.out;
  EXPECT_TRUE(contains(out[0], "systemd (pid 1)")) << r.out;
  EXPECT_TRUE(contains(r.out, "bash (pid 100)")) << r.out;
  EXPECT_TRUE(contains(r.out, "exec bash -l")) << r.out;
  EXPECT_TRUE(contains(r.out, "* sh (pid 201)")) << r.out;
  EXPECT_TRUE(contains(r.out, "exec sh -c 'sleep 100'")) << r.out;
  EXPECT_TRUE(contains(r.out, "exit 137")) << r.out;
  EXPECT_TRUE(contains(r.out, "sleep (pid 300)")) << r.out;
  EXPECT_TRUE(contains(r.out, "killed by SIGKILL")) << r.out;
  EXPECT_FALSE(contains(r.out, "curl")) << r.out;
  EXPECT_TRUE(r.out.find("systemd") < r.out.find("bash (pid") &&
              r.out.find("bash (pid") < r.out.find("sh (pid 201)") &&
              r.out.find("sh (pid 201)") < r.out.find("sleep (pid"))
      << r.out;
}

TEST_F(EventsCliTree, JsonTreeOfAShell) {
  auto r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "100", "--json"}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["pid"], 1);
  EXPECT_EQ(j["comm"], "systemd");
  ASSERT_EQ(j["children"].size(), 1u);
  const auto& bash = j["children"][0];
  EXPECT_EQ(bash["pid"], 100);
  EXPECT_EQ(bash["target"], true);
  EXPECT_EQ(bash["parent_link"], "fork");
  EXPECT_EQ(bash["actor"], to_hex(actor_id(0x10)));
  EXPECT_EQ(bash["start"], "2026-11-22T03:12:00.000Z");
  ASSERT_EQ(bash["execs"].size(), 1u);
  EXPECT_EQ(bash["execs"][0]["argv"], (nlohmann::json{"bash", "-l"}));
  ASSERT_EQ(bash["children"].size(), 2u) << "the thread is not a child process";
  const auto& curl = bash["children"][0];
  EXPECT_EQ(curl["pid"], 200);
  EXPECT_EQ(curl["comm"], "curl");
  EXPECT_EQ(curl["exit"]["status"], 0);
  EXPECT_EQ(curl["actor"], to_hex(actor_id(0x20))) << "not the later process that reused pid 200";
  const auto& sh = bash["children"][1];
  EXPECT_EQ(sh["exit"]["status"], 137);
  ASSERT_EQ(sh["children"].size(), 1u);
  EXPECT_EQ(sh["children"][0]["exit"]["signal"], 9);
  EXPECT_EQ(sh["children"][0]["exit"]["summary"], "killed by SIGKILL");
  EXPECT_EQ(j["truncated"], false);
}

TEST_F(EventsCliTree, PidAtATimeAndActorPrefix) {
  // pid 200 now is nginx; at 03:12:10.5 it was curl.
  auto r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "200", "--json"}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["children"].size(), 1u);
  EXPECT_EQ(j["children"][0]["comm"], "nginx");
  EXPECT_EQ(j["children"][0]["parent_link"], "ppid") << "no fork event: found by ppid";

  r = run_program(
      {RITMA_BIN, "tree", "--db", db_, "--pid", "200", "--at", "2026-11-22T03:12:10.5Z", "--json"},
      kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["children"][0]["children"][0]["comm"], "curl") << r.out;

  r = run_program({RITMA_BIN, "tree", "--db", db_, "--actor", "30", "--json"}, kUtc);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "\"sleep\"")) << r.out;

  r = run_program({RITMA_BIN, "tree", "--db", db_, "--actor", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "ambiguous")) << r.err;
}

TEST_F(EventsCliTree, Errors) {
  auto r = run_program({RITMA_BIN, "tree", "--db", db_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "exactly one of --pid and --actor")) << r.err;
  r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "1", "--actor", "01"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "4242"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no events of pid 4242")) << r.err;
  r = run_program({RITMA_BIN, "tree", "--db", db_, "--pid", "1", "--at", "noon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "RFC 3339")) << r.err;
}

TEST(EventsCliHelp, ListsTheCommands) {
  auto r = run_program({RITMA_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "events"));
  EXPECT_TRUE(contains(r.out, "tree"));
  r = run_program({RITMA_BIN, "events", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--since", "--from", "--to", "--type", "--pid", "--actor", "--container",
                          "--path-prefix", "--limit", "--json", "--db", "--base-dir"}) {
    EXPECT_TRUE(contains(r.out, opt)) << opt;
  }
}

}  // namespace
}  // namespace ritma
