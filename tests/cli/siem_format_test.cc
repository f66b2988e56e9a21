// `ritma events --format ecs|ocsf`: the ECS and OCSF mappings of each kind of event, checked
// field by field against what the event holds, and the CLI printing them as JSON lines.
#include "cli/siem_format.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/bytes.h"
#include "store/hot_index.h"
#include "test_util.h"

namespace ritma {
namespace {

using capture::Event;
using capture::EventType;
using cli::to_ecs;
using cli::to_ocsf;
using nlohmann::json;
using test::run_program;

constexpr int64_t kSec = 1000000000LL;
// 2026-11-22T03:12:00Z
constexpr int64_t kT0 = 1795317120LL * kSec;

capture::ActorId actor_id(uint8_t first) {
  capture::ActorId a;
  a.fill(0x5a);
  a[0] = first;
  return a;
}

// An event of process `ls` (pid 101, parent 100), uid 1000 / euid 1001, gid 1002 / egid 1003,
// so that every id field can be told apart.
Event process_event(EventType type, uint16_t op = 0, uint64_t seq = 7) {
  Event e;
  e.seq = seq;
  e.wall_ns = kT0 + 500000123;  // .500000123
  e.mono_ns = 1000 * kSec;
  e.type = type;
  e.op = op;
  e.pid = 101;
  e.tid = 102;
  e.ppid = 100;
  e.uid = 1000;
  e.euid = 1001;
  e.gid = 1002;
  e.egid = 1003;
  e.start_ns = 60 * kSec;
  e.actor = actor_id(0xb1);
  e.comm = "ls";
  e.exe = "/usr/bin/ls";
  e.cgroup_id = 4242;
  return e;
}

Event exec_event() {
  Event e = process_event(EventType::kExec);
  e.path = "/usr/bin/ls";
  e.argv = {"ls", "-la", "/tmp/my dir"};
  e.arg0 = 1234;  // inode
  e.arg1 = 66;    // device
  e.arg2 = 3;     // argc
  return e;
}

Event open_event(int64_t result) {
  Event e = process_event(EventType::kFile, RITMA_OP_OPEN);
  e.path = "/etc/shadow";
  e.arg0 = O_RDONLY | O_CLOEXEC;
  e.result = result;
  return e;
}

Event rename_event() {
  Event e = process_event(EventType::kFile, RITMA_OP_RENAME);
  e.path = "/tmp/a.txt";
  e.path2 = "/tmp/dir/b.txt";
  return e;
}

Event connect_event() {
  Event e = process_event(EventType::kNet, RITMA_OP_CONNECT);
  e.addr.family = AF_INET;
  e.addr.ip = {10, 0, 0, 1};
  e.addr.port = 443;
  e.arg0 = 5;  // fd
  e.container_id = "4f9c2a1b0c3d";
  return e;
}

Event dns_event() {
  Event e = process_event(EventType::kNet, RITMA_OP_SENDTO);
  e.addr.family = AF_INET6;
  e.addr.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
  e.addr.port = 53;
  e.dns_name = "example.com";
  e.dns_type = 28;
  e.result = 29;  // bytes sent
  return e;
}

Event setuid_event() {
  Event e = process_event(EventType::kPriv, RITMA_OP_SETUID);
  e.arg0 = 0;
  return e;
}

Event exit_event(int64_t code) {
  Event e = process_event(EventType::kExit);
  e.result = code;
  return e;
}

// A loss event as the sensor writes one: no process, just a count and where it was lost.
Event loss_event() {
  Event e;
  e.seq = 9;
  e.wall_ns = kT0;
  e.mono_ns = 1000 * kSec;
  e.type = EventType::kLoss;
  e.arg0 = 1;  // ring buffer full
  e.count = 17;
  return e;
}

// Every leaf value in `j`, with its dotted path.
void leaves(const json& j, const std::string& prefix,
            const std::function<void(const std::string&, const json&)>& f) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) leaves(v, prefix.empty() ? k : prefix + "." + k, f);
  } else {
    f(prefix, j);
  }
}

// The string values the event holds or that are the schema's own constants and names. A
// rendering may contain no other string (but its timestamp): a value not in this set would be
// invented.
void expect_no_invented_strings(const json& j, const Event& e, std::set<std::string> allowed) {
  const std::string hex = to_hex(e.actor);
  for (const std::string& s :
       {e.comm, e.exe, e.path, e.path2, e.container_id, e.unit, e.dns_name, hex}) {
    if (!s.empty()) allowed.insert(s);
  }
  for (const auto& a : e.argv) allowed.insert(a);
  allowed.insert(std::string(capture::event_name(e.type, e.op)));
  for (uint64_t n : {uint64_t{e.uid}, uint64_t{e.euid}, uint64_t{e.gid}, uint64_t{e.egid}}) {
    allowed.insert(std::to_string(n));
  }
  leaves(j, "", [&](const std::string& path, const json& v) {
    if (path == "@timestamp") return;  // the event's wall_ns, checked on its own
    if (v.is_array()) {
      for (const auto& x : v) {
        if (x.is_string()) {
          EXPECT_TRUE(allowed.count(x.get<std::string>())) << path << " = " << x;
        }
      }
    } else if (v.is_string()) {
      EXPECT_TRUE(allowed.count(v.get<std::string>())) << path << " = " << v;
    }
  });
}

// Schema constants and derived names every ECS document may hold.
std::set<std::string> ecs_words(std::initializer_list<std::string> more) {
  std::set<std::string> s = {"event",   "ritma.events", cli::kEcsVersion, "process",    "file",
                             "network", "host",         "driver",         "success",    "failure",
                             "unknown", "info",         "start",          "end",        "change",
                             "access",  "creation",     "deletion",       "connection", "protocol"};
  s.insert(more.begin(), more.end());
  return s;
}

std::set<std::string> ocsf_words(std::initializer_list<std::string> more) {
  std::set<std::string> s = {"Ritma",   cli::kOcsfVersion, "Informational",   "Success",
                             "Failure", "Unknown",         "System Activity", "Network Activity"};
  s.insert(more.begin(), more.end());
  return s;
}

TEST(SiemFormatEcs, ExecIsAProcessStart) {
  const Event e = exec_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["@timestamp"], "2026-11-22T03:12:00.500000123Z");
  EXPECT_EQ(j["ecs"]["version"], "8.11.0");
  EXPECT_EQ(j["event"]["kind"], "event");
  EXPECT_EQ(j["event"]["category"], json({"process"}));
  EXPECT_EQ(j["event"]["type"], json({"start"}));
  EXPECT_EQ(j["event"]["action"], "exec");
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_EQ(j["event"]["sequence"], 7);
  EXPECT_EQ(j["event"]["dataset"], "ritma.events");
  const json& p = j["process"];
  EXPECT_EQ(p["pid"], 101);
  EXPECT_EQ(p["parent"]["pid"], 100);
  EXPECT_EQ(p["thread"]["id"], 102);
  EXPECT_EQ(p["name"], "ls");
  EXPECT_EQ(p["executable"], "/usr/bin/ls");
  EXPECT_EQ(p["args"], json({"ls", "-la", "/tmp/my dir"}));
  EXPECT_EQ(p["args_count"], 3);
  EXPECT_EQ(p["command_line"], "ls -la /tmp/my dir");
  EXPECT_EQ(p["entity_id"], to_hex(actor_id(0xb1)));
  EXPECT_EQ(p["user"]["id"], "1001");  // effective
  EXPECT_EQ(p["real_user"]["id"], "1000");
  EXPECT_EQ(p["group"]["id"], "1003");  // effective
  EXPECT_EQ(p["real_group"]["id"], "1002");
  EXPECT_EQ(j["user"]["id"], "1000");
  EXPECT_EQ(j["user"]["effective"]["id"], "1001");
  EXPECT_EQ(j["group"]["id"], "1002");
  EXPECT_FALSE(j.contains("error"));
  // No node id in an event: no host or observer, and no container it does not name.
  EXPECT_FALSE(j.contains("host"));
  EXPECT_FALSE(j.contains("observer"));
  EXPECT_FALSE(j.contains("container"));
  EXPECT_FALSE(p.contains("exit_code"));
  const json& r = j["ritma"];
  EXPECT_EQ(r["seq"], 7);
  EXPECT_EQ(r["type_id"], 1);
  EXPECT_EQ(r["start_ns"], 60 * kSec);
  EXPECT_EQ(r["cgroup_id"], 4242);
  EXPECT_EQ(r["exe_inode"], 1234);
  EXPECT_EQ(r["args"], json({1234, 66, 3, 0}));
  expect_no_invented_strings(j, e, ecs_words({"ls -la /tmp/my dir"}));
}

TEST(SiemFormatEcs, ExitIsAProcessEnd) {
  Event e = exit_event(3 << 8);
  json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"process"}));
  EXPECT_EQ(j["event"]["type"], json({"end"}));
  EXPECT_EQ(j["event"]["action"], "exit");
  EXPECT_EQ(j["process"]["exit_code"], 3);
  EXPECT_FALSE(j["event"].contains("outcome")) << "an exit code is not a syscall result";
  EXPECT_EQ(j["ritma"]["result"], 3 << 8);
  expect_no_invented_strings(j, e, ecs_words({}));

  // Killed by SIGKILL: no exit code is invented; the signal is in `ritma`.
  e = exit_event(9);
  j = to_ecs(e);
  EXPECT_FALSE(j["process"].contains("exit_code"));
  EXPECT_EQ(j["ritma"]["exit_signal"], 9);
  EXPECT_EQ(j["ritma"]["core_dumped"], false);
}

TEST(SiemFormatEcs, OpenSuccessAndFailure) {
  Event e = open_event(3);
  json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"file"}));
  EXPECT_EQ(j["event"]["type"], json({"access"}));
  EXPECT_EQ(j["event"]["action"], "open");
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_EQ(j["file"]["path"], "/etc/shadow");
  EXPECT_EQ(j["file"]["name"], "shadow");
  EXPECT_FALSE(j["file"].contains("type")) << "the file's type is not known";
  EXPECT_FALSE(j.contains("error"));
  expect_no_invented_strings(j, e, ecs_words({"shadow"}));

  e = open_event(-EACCES);
  j = to_ecs(e);
  EXPECT_EQ(j["event"]["outcome"], "failure");
  EXPECT_EQ(j["error"]["code"], "EACCES");
  EXPECT_EQ(j["ritma"]["result"], -EACCES);
  expect_no_invented_strings(j, e, ecs_words({"shadow", "EACCES"}));

  // O_CREAT|O_EXCL that succeeded created the file.
  e = open_event(4);
  e.arg0 = O_WRONLY | O_CREAT | O_EXCL;
  j = to_ecs(e);
  EXPECT_EQ(j["event"]["type"], json({"access", "creation"}));
}

TEST(SiemFormatEcs, RenameNamesBothPaths) {
  const Event e = rename_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"file"}));
  EXPECT_EQ(j["event"]["type"], json({"change"}));
  EXPECT_EQ(j["event"]["action"], "rename");
  EXPECT_EQ(j["file"]["path"], "/tmp/a.txt");
  EXPECT_EQ(j["file"]["target_path"], "/tmp/dir/b.txt");
  expect_no_invented_strings(j, e, ecs_words({"a.txt"}));
}

TEST(SiemFormatEcs, ConnectHasADestination) {
  const Event e = connect_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"network"}));
  EXPECT_EQ(j["event"]["type"], json({"connection", "start"}));
  EXPECT_EQ(j["event"]["action"], "connect");
  EXPECT_EQ(j["destination"]["ip"], "10.0.0.1");
  EXPECT_EQ(j["destination"]["port"], 443);
  EXPECT_EQ(j["network"]["type"], "ipv4");
  EXPECT_FALSE(j["network"].contains("transport")) << "TCP or UDP is not recorded";
  EXPECT_FALSE(j.contains("source"));
  EXPECT_EQ(j["container"]["id"], "4f9c2a1b0c3d");
  EXPECT_EQ(j["ritma"]["fd"], 5);
  expect_no_invented_strings(j, e, ecs_words({"10.0.0.1", "ipv4"}));

  // A non-blocking connect under way is not a failure.
  Event pending = connect_event();
  pending.result = -EINPROGRESS;
  EXPECT_EQ(to_ecs(pending)["event"]["outcome"], "unknown");
}

TEST(SiemFormatEcs, DnsQuestion) {
  const Event e = dns_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"network"}));
  EXPECT_EQ(j["event"]["type"], json({"protocol"}));
  EXPECT_EQ(j["event"]["action"], "dns");
  EXPECT_EQ(j["dns"]["type"], "query");
  EXPECT_EQ(j["dns"]["question"]["name"], "example.com");
  EXPECT_EQ(j["dns"]["question"]["type"], "AAAA");
  EXPECT_EQ(j["destination"]["ip"], "2001:db8::53");
  EXPECT_EQ(j["destination"]["port"], 53);
  EXPECT_EQ(j["network"]["type"], "ipv6");
  EXPECT_EQ(j["network"]["protocol"], "dns");
  expect_no_invented_strings(j, e, ecs_words({"query", "AAAA", "2001:db8::53", "ipv6", "dns"}));

  // A type without a mnemonic is written as RFC 3597 writes it.
  Event odd = dns_event();
  odd.dns_type = 4242;
  EXPECT_EQ(to_ecs(odd)["dns"]["question"]["type"], "TYPE4242");
}

TEST(SiemFormatEcs, SetuidIsAProcessChange) {
  const Event e = setuid_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"process"}));
  EXPECT_EQ(j["event"]["type"], json({"change"}));
  EXPECT_EQ(j["event"]["action"], "setuid");
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_EQ(j["ritma"]["requested_ids"], json({{"uid", 0}}));
  EXPECT_EQ(j["ritma"]["op"], RITMA_OP_SETUID);
  expect_no_invented_strings(j, e, ecs_words({}));
}

TEST(SiemFormatEcs, LossHasNoProcess) {
  const Event e = loss_event();
  const json j = to_ecs(e);
  EXPECT_EQ(j["event"]["category"], json({"host"}));
  EXPECT_EQ(j["event"]["type"], json({"info"}));
  EXPECT_EQ(j["event"]["action"], "loss");
  EXPECT_EQ(j["event"]["sequence"], 9);
  EXPECT_FALSE(j["event"].contains("outcome"));
  EXPECT_EQ(j["ritma"]["count"], 17);
  EXPECT_EQ(j["ritma"]["source"], 1);
  EXPECT_EQ(j["ritma"]["source_name"], "ring_buffer_full");
  // The sensor's own records are nobody's process: no pid 0, no uid 0 is claimed.
  for (const char* absent : {"process", "user", "group", "file", "container", "error"}) {
    EXPECT_FALSE(j.contains(absent)) << absent;
  }
  expect_no_invented_strings(j, e, ecs_words({"ring_buffer_full"}));
}

TEST(SiemFormatOcsf, ExecIsALaunch) {
  const Event e = exec_event();
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 1007);
  EXPECT_EQ(j["category_uid"], 1);
  EXPECT_EQ(j["activity_id"], 1);
  EXPECT_EQ(j["activity_name"], "Launch");
  EXPECT_EQ(j["type_uid"], 100701);
  EXPECT_EQ(j["time"], kT0 / 1000000 + 500);
  EXPECT_EQ(j["severity_id"], 1);
  EXPECT_EQ(j["status_id"], 1);
  EXPECT_EQ(j["status"], "Success");
  EXPECT_EQ(j["metadata"]["version"], "1.1.0");
  EXPECT_EQ(j["metadata"]["product"]["name"], "Ritma");
  EXPECT_EQ(j["metadata"]["product"]["vendor_name"], "Ritma");
  EXPECT_EQ(j["metadata"]["uid"], to_hex(actor_id(0xb1)) + ":7");
  const json& p = j["process"];
  EXPECT_EQ(p["pid"], 101);
  EXPECT_EQ(p["name"], "ls");
  EXPECT_EQ(p["cmd_line"], "ls -la /tmp/my dir");
  EXPECT_EQ(p["file"]["path"], "/usr/bin/ls");
  EXPECT_EQ(p["file"]["type_id"], 1);
  EXPECT_EQ(p["parent_process"]["pid"], 100);
  EXPECT_EQ(p["user"]["uid"], "1000");
  EXPECT_EQ(j["actor"]["process"]["pid"], 101);
  EXPECT_EQ(j["actor"]["process"]["uid"], to_hex(actor_id(0xb1)));
  EXPECT_EQ(j["unmapped"]["euid"], 1001);
  EXPECT_EQ(j["unmapped"]["egid"], 1003);
  EXPECT_EQ(j["unmapped"]["argc"], 3);
  EXPECT_FALSE(j.contains("device")) << "the node is not in the event";
  expect_no_invented_strings(j, e,
                             ocsf_words({"Process Activity", "Launch", "Process Activity: Launch",
                                         "ls -la /tmp/my dir", to_hex(actor_id(0xb1)) + ":7"}));
}

TEST(SiemFormatOcsf, ExitIsATerminate) {
  const Event e = exit_event(3 << 8);
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 1007);
  EXPECT_EQ(j["activity_id"], 2);
  EXPECT_EQ(j["activity_name"], "Terminate");
  EXPECT_EQ(j["type_uid"], 100702);
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["process"]["pid"], 101);
  EXPECT_FALSE(j.contains("status_id")) << "an exit code is not a syscall status";
  EXPECT_FALSE(to_ocsf(exit_event(9)).contains("exit_code"));
}

TEST(SiemFormatOcsf, OpenSuccessAndFailure) {
  Event e = open_event(3);
  json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 1001);
  EXPECT_EQ(j["category_uid"], 1);
  EXPECT_EQ(j["activity_id"], 14);
  EXPECT_EQ(j["activity_name"], "Open");
  EXPECT_EQ(j["type_uid"], 100114);
  EXPECT_EQ(j["file"]["path"], "/etc/shadow");
  EXPECT_EQ(j["file"]["name"], "shadow");
  EXPECT_EQ(j["file"]["type_id"], 0);
  EXPECT_EQ(j["status_id"], 1);
  EXPECT_FALSE(j.contains("status_code"));
  EXPECT_EQ(j["unmapped"]["open_flags"], O_RDONLY | O_CLOEXEC);

  e = open_event(-ENOENT);
  j = to_ocsf(e);
  EXPECT_EQ(j["activity_id"], 14);
  EXPECT_EQ(j["status_id"], 2);
  EXPECT_EQ(j["status"], "Failure");
  EXPECT_EQ(j["status_code"], "ENOENT");
  expect_no_invented_strings(
      j, e,
      ocsf_words({"File System Activity", "Open", "File System Activity: Open", "open", "shadow",
                  "ENOENT", to_hex(actor_id(0xb1)) + ":7"}));
}

TEST(SiemFormatOcsf, RenameHasAResult) {
  const Event e = rename_event();
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 1001);
  EXPECT_EQ(j["activity_id"], 5);
  EXPECT_EQ(j["activity_name"], "Rename");
  EXPECT_EQ(j["type_uid"], 100105);
  EXPECT_EQ(j["file"]["path"], "/tmp/a.txt");
  EXPECT_EQ(j["file_result"]["path"], "/tmp/dir/b.txt");
  EXPECT_EQ(j["file_result"]["name"], "b.txt");
}

TEST(SiemFormatOcsf, ConnectOpensOrFails) {
  Event e = connect_event();
  json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 4001);
  EXPECT_EQ(j["category_uid"], 4);
  EXPECT_EQ(j["activity_id"], 1);
  EXPECT_EQ(j["activity_name"], "Open");
  EXPECT_EQ(j["type_uid"], 400101);
  EXPECT_EQ(j["dst_endpoint"], json({{"ip", "10.0.0.1"}, {"port", 443}}));
  EXPECT_FALSE(j.contains("src_endpoint"));
  EXPECT_EQ(j["connection_info"]["protocol_ver_id"], 4);
  EXPECT_EQ(j["actor"]["process"]["container"]["uid"], "4f9c2a1b0c3d");

  e.result = -ECONNREFUSED;
  j = to_ocsf(e);
  EXPECT_EQ(j["activity_id"], 5);
  EXPECT_EQ(j["activity_name"], "Refuse");
  EXPECT_EQ(j["type_uid"], 400105);
  EXPECT_EQ(j["status_code"], "ECONNREFUSED");

  e.result = -ETIMEDOUT;
  EXPECT_EQ(to_ocsf(e)["activity_id"], 4);  // Fail

  e.result = -EINPROGRESS;
  j = to_ocsf(e);
  EXPECT_EQ(j["activity_id"], 1);
  EXPECT_EQ(j["status_id"], 0);
}

TEST(SiemFormatOcsf, DnsQuery) {
  const Event e = dns_event();
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 4003);
  EXPECT_EQ(j["category_uid"], 4);
  EXPECT_EQ(j["activity_id"], 1);
  EXPECT_EQ(j["activity_name"], "Query");
  EXPECT_EQ(j["type_uid"], 400301);
  EXPECT_EQ(j["query"], json({{"hostname", "example.com"}, {"type", "AAAA"}}));
  EXPECT_EQ(j["dst_endpoint"], json({{"ip", "2001:db8::53"}, {"port", 53}}));
  EXPECT_EQ(j["connection_info"]["protocol_ver_id"], 6);
  EXPECT_EQ(j["status_id"], 1);

  // An unparsable payload gives no query object rather than an empty hostname.
  Event blank = dns_event();
  blank.dns_name.clear();
  blank.dns_type = 0;
  EXPECT_FALSE(to_ocsf(blank).contains("query"));
  EXPECT_FALSE(to_ecs(blank).contains("dns"));
}

TEST(SiemFormatOcsf, SetuidIsSetUserId) {
  const Event e = setuid_event();
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 1007);
  EXPECT_EQ(j["activity_id"], 5);
  EXPECT_EQ(j["activity_name"], "Set User ID");
  EXPECT_EQ(j["type_uid"], 100705);
  EXPECT_EQ(j["process"]["pid"], 101);
  EXPECT_EQ(j["unmapped"]["requested_ids"], json({{"uid", 0}}));

  // setgid has no OCSF activity: Other, named.
  Event g = process_event(EventType::kPriv, RITMA_OP_SETRESGID);
  g.arg0 = 0xffffffffu;  // unchanged
  g.arg1 = 0;
  g.arg2 = 0xffffffffu;
  const json jg = to_ocsf(g);
  EXPECT_EQ(jg["class_uid"], 1007);
  EXPECT_EQ(jg["activity_id"], 99);
  EXPECT_EQ(jg["activity_name"], "Set Group ID");
  EXPECT_EQ(jg["type_uid"], 100799);
  EXPECT_EQ(jg["unmapped"]["requested_ids"], json({{"egid", 0}}));
}

TEST(SiemFormatOcsf, LossIsABaseEvent) {
  const Event e = loss_event();
  const json j = to_ocsf(e);
  EXPECT_EQ(j["class_uid"], 0);
  EXPECT_EQ(j["category_uid"], 0);
  EXPECT_EQ(j["activity_id"], 99);
  EXPECT_EQ(j["activity_name"], "Loss");
  EXPECT_EQ(j["type_uid"], 99);
  EXPECT_EQ(j["metadata"]["uid"], "9");
  EXPECT_EQ(j["unmapped"]["count"], 17);
  EXPECT_EQ(j["unmapped"]["source_name"], "ring_buffer_full");
  for (const char* absent : {"actor", "process", "status_id", "device"}) {
    EXPECT_FALSE(j.contains(absent)) << absent;
  }
  expect_no_invented_strings(j, e,
                             ocsf_words({"Base Event", "Uncategorized", "Loss", "Base Event: Loss",
                                         "loss", "ring_buffer_full", "9"}));
}

TEST(SiemFormatOcsf, EveryEventTypeHasAClass) {
  // Never silently dropped: every type and op renders, with type_uid = class_uid*100+activity.
  std::vector<Event> all;
  for (EventType t : {EventType::kExec, EventType::kFork, EventType::kExit, EventType::kLoss,
                      EventType::kFiltered, EventType::kRun, EventType::kGap}) {
    all.push_back(process_event(t));
  }
  for (uint16_t op = RITMA_OP_OPEN; op <= RITMA_OP_RMDIR; ++op)
    all.push_back(process_event(EventType::kFile, op));
  for (uint16_t op = RITMA_OP_CONNECT; op <= RITMA_OP_SENDTO; ++op)
    all.push_back(process_event(EventType::kNet, op));
  for (uint16_t op = RITMA_OP_SETUID; op <= RITMA_OP_MEMFD_CREATE; ++op)
    all.push_back(process_event(EventType::kPriv, op));
  for (const auto& e : all) {
    const json o = to_ocsf(e);
    EXPECT_EQ(o["type_uid"], o["class_uid"].get<int>() * 100 + o["activity_id"].get<int>())
        << capture::event_name(e.type, e.op);
    EXPECT_FALSE(o["activity_name"].get<std::string>().empty());
    const json c = to_ecs(e);
    EXPECT_EQ(c["event"]["action"], capture::event_name(e.type, e.op));
    EXPECT_FALSE(c["event"]["type"].empty());
  }
}

// ---- The CLI ------------------------------------------------------------------------------

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class SiemCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "index_db.sqlite").string();
    auto w = store::HotIndex::open_writer(db_);
    ASSERT_TRUE(w.ok()) << w.error().message;
    store::HotIndex index = std::move(w).value();
    store::RunStart run;
    run.boot_id = "0011223344556677";
    run.node_id = "test";
    run.started_wall_ns = kT0;
    run.sensor_version = "test";
    ASSERT_TRUE(index.begin_run(run).ok());
    std::vector<Event> events = {exec_event(),   open_event(3),   open_event(-ENOENT),
                                 rename_event(), connect_event(), dns_event(),
                                 setuid_event(), exit_event(0),   loss_event()};
    for (size_t i = 0; i < events.size(); ++i) {
      events[i].seq = i + 1;
      events[i].wall_ns = kT0 + static_cast<int64_t>(i) * kSec;
    }
    ASSERT_TRUE(index.append(events).ok());
  }

  test::TempDir dir_;
  std::string db_;
};

TEST_F(SiemCli, EcsPrintsOneDocumentPerLine) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--format", "ecs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 9u) << r.out;
  std::vector<std::string> actions;
  for (const auto& l : out) {
    const json j = json::parse(l);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["ecs"]["version"], "8.11.0");
    actions.push_back(j["event"]["action"]);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"exec", "open", "open", "rename", "connect", "dns",
                                               "setuid", "exit", "loss"}));
  const json open_failed = json::parse(out[2]);
  EXPECT_EQ(open_failed["event"]["outcome"], "failure");
  EXPECT_EQ(open_failed["error"]["code"], "ENOENT");
  EXPECT_EQ(open_failed["@timestamp"], "2026-11-22T03:12:02.000000000Z");
  const json dns = json::parse(out[5]);
  EXPECT_EQ(dns["dns"]["question"]["name"], "example.com");
  EXPECT_EQ(dns["destination"]["ip"], "2001:db8::53");
  const json loss = json::parse(out[8]);
  EXPECT_EQ(loss["ritma"]["count"], 17);
  EXPECT_FALSE(loss.contains("process"));
}

TEST_F(SiemCli, OcsfPrintsOneEventPerLine) {
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--format", "ocsf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 9u) << r.out;
  std::vector<int> type_uids;
  for (const auto& l : out) {
    const json j = json::parse(l);
    EXPECT_EQ(j["metadata"]["version"], "1.1.0");
    type_uids.push_back(j["type_uid"]);
  }
  EXPECT_EQ(type_uids,
            (std::vector<int>{100701, 100114, 100114, 100105, 400101, 400301, 100705, 100702, 99}));
  EXPECT_EQ(json::parse(out[4])["dst_endpoint"]["port"], 443);
}

TEST_F(SiemCli, FormatOptions) {
  // --json is --format json; combined with another format it is a usage error.
  auto r = run_program({RITMA_BIN, "events", "--db", db_, "--json", "--format", "ecs"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--json"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  r = run_program({RITMA_BIN, "events", "--db", db_, "--format", "ocsf", "--json"});
  EXPECT_EQ(r.exit_code, 2);

  auto plain = run_program({RITMA_BIN, "events", "--db", db_, "--json"});
  auto both = run_program({RITMA_BIN, "events", "--db", db_, "--json", "--format", "json"});
  auto fmt = run_program({RITMA_BIN, "events", "--db", db_, "--format", "json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_EQ(plain.out, both.out);
  EXPECT_EQ(plain.out, fmt.out);
  EXPECT_EQ(json::parse(lines(fmt.out).at(0))["type"], "exec");

  auto table = run_program({RITMA_BIN, "events", "--db", db_, "--format", "table"});
  auto dflt = run_program({RITMA_BIN, "events", "--db", db_});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out, dflt.out);
  EXPECT_EQ(lines(table.out).at(0).rfind("TIME", 0), 0u);

  r = run_program({RITMA_BIN, "events", "--db", db_, "--format", "cef"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace ritma
