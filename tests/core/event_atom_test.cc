// The ritma-ev@1 atom: round trips, the UTF-8/bytes rule, strict schema checks; and the
// ring-buffer record decoder on synthetic records, including malformed ones.
#include "capture/event_atom.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <random>

#include "capture/record_decoder.h"
#include "core/cbor.h"

namespace ritma::capture {
namespace {

const BootId kBoot = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Event sample_event() {
  Event e;
  e.seq = 42;
  e.mono_ns = 123456789;
  e.wall_ns = 1763780000123456789;
  e.type = EventType::kExec;
  e.result = -2;
  e.pid = 100;
  e.tid = 101;
  e.ppid = 1;
  e.uid = 1000;
  e.start_ns = 999;
  e.actor[0] = 0xaa;
  e.comm = "bash";
  e.exe = "/usr/bin/bash";
  e.container_id = "abc";
  e.path = "/tmp/x";
  e.argv = {"bash", "-c", "echo \xe2\x80\x94 hi"};
  e.addr.family = AF_INET;
  e.addr.ip[0] = 127;
  e.addr.ip[3] = 1;
  e.addr.port = 53;
  e.dns_name = "example.com";
  e.dns_type = 1;
  return e;
}

bool same(const Event& a, const Event& b) {
  return a.seq == b.seq && a.mono_ns == b.mono_ns && a.wall_ns == b.wall_ns && a.type == b.type &&
         a.op == b.op && a.flags == b.flags && a.result == b.result && a.actor == b.actor &&
         a.pid == b.pid && a.tid == b.tid && a.ppid == b.ppid && a.uid == b.uid &&
         a.start_ns == b.start_ns && a.comm == b.comm && a.exe == b.exe &&
         a.container_id == b.container_id && a.path == b.path && a.path2 == b.path2 &&
         a.argv == b.argv && a.arg0 == b.arg0 && a.addr.family == b.addr.family &&
         a.addr.ip == b.addr.ip && a.addr.port == b.addr.port && a.dns_name == b.dns_name &&
         a.dns_type == b.dns_type && a.count == b.count;
}

TEST(EventAtom, RoundTripsAndStartsWithTag) {
  Bytes out;
  encode_event_atom(sample_event(), kBoot, out);
  BootId boot{};
  auto d = decode_event_atom(out, &boot);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(same(*d, sample_event()));
  EXPECT_EQ(boot, kBoot);
  // The atom is canonical CBOR: re-encoding the generic value gives the same bytes.
  auto v = cbor::decode(out);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(cbor::encode(*v), out);
  EXPECT_EQ(v->as_array()[0].as_text(), "ritma-ev@1");
}

TEST(EventAtom, NonUtf8KernelStringsBecomeByteStrings) {
  Event e = sample_event();
  e.path = std::string("/tmp/\xff\xfe", 7);
  e.argv = {std::string("a\x80", 2)};
  Bytes out;
  encode_event_atom(e, kBoot, out);
  auto v = cbor::decode(out);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_array()[26].type(), cbor::Type::kBytes);
  EXPECT_EQ(v->as_array()[18].type(), cbor::Type::kText);
  auto d = decode_event_atom(out);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->path, e.path);
  EXPECT_EQ(d->argv, e.argv);
}

TEST(EventAtom, RejectsUtf8EncodedAsBytesAndSchemaViolations) {
  Bytes good;
  encode_event_atom(sample_event(), kBoot, good);
  auto v = cbor::decode(good);
  ASSERT_TRUE(v.ok());
  auto mutate = [&](size_t index, cbor::Value replacement) {
    auto items = v->as_array();
    items[index] = std::move(replacement);
    return cbor::encode(cbor::Value::array(items));
  };
  // Valid UTF-8 as a byte string has two spellings: refused.
  EXPECT_FALSE(decode_event_atom(mutate(26, cbor::Value::byte_string(Bytes{'/', 'x'}))).ok());
  EXPECT_FALSE(decode_event_atom(mutate(0, cbor::Value::text_string("ritma-ev@2"))).ok());
  EXPECT_FALSE(decode_event_atom(mutate(1, cbor::Value::byte_string(Bytes(15, 0)))).ok());
  EXPECT_FALSE(decode_event_atom(mutate(10, cbor::Value::unsigned_int(1ull << 33))).ok());
  EXPECT_FALSE(decode_event_atom(mutate(10, cbor::Value::text_string("1"))).ok());
  EXPECT_FALSE(decode_event_atom(mutate(28, cbor::Value::unsigned_int(0))).ok());
  EXPECT_FALSE(
      decode_event_atom(mutate(33, cbor::Value::array({cbor::Value::unsigned_int(AF_INET),
                                                       cbor::Value::byte_string(Bytes(16, 0)),
                                                       cbor::Value::unsigned_int(1),
                                                       cbor::Value::text_string("")})))
          .ok());
  auto items = v->as_array();
  items.pop_back();
  EXPECT_FALSE(decode_event_atom(cbor::encode(cbor::Value::array(items))).ok());
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode_event_atom(trailing).ok());
}

TEST(EventAtom, RandomEventsRoundTrip) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    Event e;
    e.seq = rng();
    e.mono_ns = rng();
    e.wall_ns = static_cast<int64_t>(rng());
    e.type = static_cast<EventType>(rng() % 8);
    e.op = static_cast<uint16_t>(rng());
    e.result = static_cast<int64_t>(rng());
    e.pid = static_cast<uint32_t>(rng());
    for (auto& b : e.actor) b = static_cast<uint8_t>(rng());
    std::string s;
    for (int k = 0; k < static_cast<int>(rng() % 20); ++k) s += static_cast<char>(rng());
    e.path = s;
    e.argv = {s, "x"};
    e.addr.family = (rng() & 1) ? AF_INET6 : 0;
    if (e.addr.family) e.addr.ip[15] = 1;
    Bytes out;
    encode_event_atom(e, kBoot, out);
    auto d = decode_event_atom(out);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_TRUE(same(*d, e));
  }
}

// ---- ring-buffer records ----

template <typename Rec>
ByteSpan as_record(Rec& r, uint16_t kind, uint16_t op = 0) {
  r.h.kind = kind;
  r.h.op = op;
  r.h.size = sizeof(Rec);
  return ByteSpan(reinterpret_cast<const uint8_t*>(&r), sizeof(Rec));
}

TEST(RecordDecoder, ExecSplitsArgvAndFlagsTruncation) {
  ritma_exec_rec r{};
  std::strcpy(r.filename, "/bin/echo");
  const char argv[] = "echo\0hello world\0-n";
  std::memcpy(r.argv, argv, sizeof argv);
  r.argv_len = sizeof argv;  // ends with the NUL of "-n"
  r.argc = 3;
  r.h.task.pid = 7;
  std::strcpy(r.h.task.comm, "echo");
  Event e;
  ASSERT_TRUE(decode_record(as_record(r, RITMA_KIND_EXEC), e).ok());
  EXPECT_EQ(e.type, EventType::kExec);
  EXPECT_EQ(e.path, "/bin/echo");
  EXPECT_EQ(e.argv, (std::vector<std::string>{"echo", "hello world", "-n"}));
  EXPECT_EQ(e.flags & RITMA_F_ARGV_TRUNCATED, 0u);
  r.argc = 5;
  ASSERT_TRUE(decode_record(as_record(r, RITMA_KIND_EXEC), e).ok());
  EXPECT_NE(e.flags & RITMA_F_ARGV_TRUNCATED, 0u);
}

TEST(RecordDecoder, UnterminatedStringsAreBounded) {
  ritma_file_rec r{};
  std::memset(r.path, 'a', sizeof r.path);
  std::memset(r.h.task.comm, 'c', sizeof r.h.task.comm);
  Event e;
  ASSERT_TRUE(decode_record(as_record(r, RITMA_KIND_FILE, RITMA_OP_OPEN), e).ok());
  EXPECT_EQ(e.path.size(), sizeof r.path);
  EXPECT_EQ(e.comm.size(), sizeof r.h.task.comm);
}

TEST(RecordDecoder, NetAddressAndDnsQuestion) {
  ritma_net_rec r{};
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(53);
  in.sin_addr.s_addr = htonl(0x7f000001);
  std::memcpy(r.addr, &in, sizeof in);
  r.addr_len = sizeof in;
  const uint8_t q[] = {0x12, 0x34, 1,   0,   0,   1, 0,   0,   0,   0, 0, 0,  7, 'e', 'x',
                       'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1};
  std::memcpy(r.payload, q, sizeof q);
  r.payload_len = sizeof q;
  Event e;
  ASSERT_TRUE(decode_record(as_record(r, RITMA_KIND_NET, RITMA_OP_SENDTO), e).ok());
  EXPECT_EQ(e.addr.to_string(), "127.0.0.1:53");
  EXPECT_EQ(e.dns_name, "example.com");
  EXPECT_EQ(e.dns_type, 28);
}

TEST(RecordDecoder, RejectsMalformedRecords) {
  Event e;
  EXPECT_FALSE(decode_record(ByteSpan(), e).ok());
  ritma_exit_rec r{};
  auto span = as_record(r, RITMA_KIND_EXIT);
  r.h.size = sizeof r + 1;
  EXPECT_FALSE(decode_record(span, e).ok());  // declared size disagrees
  r.h.size = sizeof r;
  r.h.kind = 99;
  EXPECT_FALSE(decode_record(span, e).ok());  // unknown kind
  ritma_rec_header h{};
  h.kind = RITMA_KIND_EXEC;
  h.size = sizeof h;
  EXPECT_FALSE(decode_record(ByteSpan(reinterpret_cast<uint8_t*>(&h), sizeof h), e).ok());
}

TEST(RecordDecoder, DnsParserRejectsHostileMessages) {
  EXPECT_FALSE(parse_dns_question(Bytes(11, 0)).ok());
  Bytes no_question(12, 0);
  EXPECT_FALSE(parse_dns_question(no_question).ok());
  Bytes pointer = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1};
  EXPECT_FALSE(parse_dns_question(pointer).ok());
  Bytes truncated = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'};
  EXPECT_FALSE(parse_dns_question(truncated).ok());
  Bytes no_type = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0};
  EXPECT_FALSE(parse_dns_question(no_type).ok());
  Bytes long_label(12, 0);
  long_label[5] = 1;
  long_label.push_back(64);
  long_label.insert(long_label.end(), 64, 'a');
  long_label.insert(long_label.end(), {0, 0, 1});
  EXPECT_FALSE(parse_dns_question(long_label).ok());
}

}  // namespace
}  // namespace ritma::capture
