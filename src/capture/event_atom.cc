// ritma-ev@1 encoding and strict decoding.
#include "capture/event_atom.h"

#include <sys/socket.h>

#include "core/cbor.h"
#include "core/utf8.h"

namespace ritma::capture {
namespace {

constexpr uint64_t kFields = 37;  // elements of the top-level array, tag included

void kernel_string(cbor::Writer& w, std::string_view s) {
  if (is_valid_utf8(s)) {
    w.text(s);
  } else {
    w.bytes(as_bytes(s));
  }
}

// Accessors that validate the schema as they read.
struct Reader {
  const cbor::Value::Array& a;
  Status status;
  size_t failed_at = 0;

  void fail(size_t i, const char* what) {
    if (status.ok()) status = make_error("ritma-ev@1 field " + std::to_string(i) + ": " + what);
  }
  uint64_t u(size_t i) {
    if (!a[i].is_unsigned()) {
      fail(i, "expected an unsigned integer");
      return 0;
    }
    return a[i].as_uint();
  }
  uint32_t u32(size_t i) {
    const uint64_t v = u(i);
    if (v > 0xffffffffu) fail(i, "value exceeds 32 bits");
    return static_cast<uint32_t>(v);
  }
  int64_t i64(size_t i) {
    auto v = a[i].to_int64();
    if (!v.ok()) {
      fail(i, "expected a 64-bit signed integer");
      return 0;
    }
    return *v;
  }
  std::string str(size_t i, const cbor::Value& v) {
    if (v.type() == cbor::Type::kText) return v.as_text();
    if (v.type() == cbor::Type::kBytes) {
      std::string s(as_chars(v.as_bytes()));
      // A byte string is used only for strings that are not UTF-8; anything else has two forms.
      if (is_valid_utf8(s)) fail(i, "valid UTF-8 must be encoded as a text string");
      return s;
    }
    fail(i, "expected a text or byte string");
    return {};
  }
  std::string str(size_t i) { return str(i, a[i]); }
  template <size_t N>
  std::array<uint8_t, N> fixed(size_t i) {
    std::array<uint8_t, N> out{};
    if (a[i].type() != cbor::Type::kBytes || a[i].as_bytes().size() != N) {
      fail(i, "expected a byte string of the fixed size");
      return out;
    }
    std::copy(a[i].as_bytes().begin(), a[i].as_bytes().end(), out.begin());
    return out;
  }
};

}  // namespace

void encode_event_atom(const Event& e, const BootId& boot_id, Bytes& out) {
  cbor::Writer w(out);
  w.array(kFields);
  w.text(kEventAtomTag);                  // 0
  w.bytes(boot_id);                       // 1
  w.uint(e.seq);                          // 2
  w.uint(e.mono_ns);                      // 3
  w.int64(e.wall_ns);                     // 4
  w.uint(static_cast<uint64_t>(e.type));  // 5
  w.uint(e.op);                           // 6
  w.uint(e.flags);                        // 7
  w.int64(e.result);                      // 8
  w.bytes(e.actor);                       // 9
  w.uint(e.pid);                          // 10
  w.uint(e.tid);                          // 11
  w.uint(e.ppid);                         // 12
  w.uint(e.uid);                          // 13
  w.uint(e.gid);                          // 14
  w.uint(e.euid);                         // 15
  w.uint(e.egid);                         // 16
  w.uint(e.start_ns);                     // 17
  kernel_string(w, e.comm);               // 18
  kernel_string(w, e.exe);                // 19
  w.uint(e.cgroup_id);                    // 20
  w.text(e.container_id);                 // 21 (hex id: always ASCII)
  kernel_string(w, e.unit);               // 22
  w.uint(e.mntns);                        // 23
  w.uint(e.pidns);                        // 24
  w.uint(e.netns);                        // 25
  kernel_string(w, e.path);               // 26
  kernel_string(w, e.path2);              // 27
  w.array(e.argv.size());                 // 28
  for (const auto& a : e.argv) kernel_string(w, a);
  w.uint(e.arg0);  // 29
  w.uint(e.arg1);  // 30
  w.uint(e.arg2);  // 31
  w.uint(e.arg3);  // 32
  // 33: address as [family, ip, port, unix path]; ip is 4 bytes for AF_INET, 16 for AF_INET6,
  // empty otherwise.
  w.array(4);
  w.uint(e.addr.family);
  const size_t ip_len = e.addr.family == AF_INET ? 4 : e.addr.family == AF_INET6 ? 16 : 0;
  w.bytes(ByteSpan(e.addr.ip.data(), ip_len));
  w.uint(e.addr.port);
  kernel_string(w, e.addr.unix_path);
  w.text(e.dns_name);  // 34 (printable ASCII after parsing)
  w.uint(e.dns_type);  // 35
  w.uint(e.count);     // 36
}

Result<Event> decode_event_atom(ByteSpan atom, BootId* boot_id) {
  cbor::DecodeLimits limits;
  limits.max_depth = 3;
  RITMA_ASSIGN_OR_RETURN(cbor::Value v, cbor::decode(atom, limits));
  if (!v.is_array() || v.as_array().size() != kFields) {
    return make_error("not a ritma-ev@1 atom: expected an array of " + std::to_string(kFields));
  }
  const auto& a = v.as_array();
  if (a[0].type() != cbor::Type::kText || a[0].as_text() != kEventAtomTag) {
    return make_error("not a ritma-ev@1 atom: wrong version tag");
  }
  Reader r{a, {}};
  Event e;
  const BootId boot = r.fixed<16>(1);
  if (boot_id != nullptr) *boot_id = boot;
  e.seq = r.u(2);
  e.mono_ns = r.u(3);
  e.wall_ns = r.i64(4);
  const uint64_t type = r.u(5);
  if (type > 0xffff) r.fail(5, "event type out of range");
  e.type = static_cast<EventType>(type);
  const uint64_t op = r.u(6);
  if (op > 0xffff) r.fail(6, "op out of range");
  e.op = static_cast<uint16_t>(op);
  e.flags = r.u32(7);
  e.result = r.i64(8);
  e.actor = r.fixed<16>(9);
  e.pid = r.u32(10);
  e.tid = r.u32(11);
  e.ppid = r.u32(12);
  e.uid = r.u32(13);
  e.gid = r.u32(14);
  e.euid = r.u32(15);
  e.egid = r.u32(16);
  e.start_ns = r.u(17);
  e.comm = r.str(18);
  e.exe = r.str(19);
  e.cgroup_id = r.u(20);
  if (a[21].type() != cbor::Type::kText)
    r.fail(21, "expected text");
  else
    e.container_id = a[21].as_text();
  e.unit = r.str(22);
  e.mntns = r.u32(23);
  e.pidns = r.u32(24);
  e.netns = r.u32(25);
  e.path = r.str(26);
  e.path2 = r.str(27);
  if (!a[28].is_array()) {
    r.fail(28, "expected an array of strings");
  } else {
    for (const auto& s : a[28].as_array()) e.argv.push_back(r.str(28, s));
  }
  e.arg0 = r.u(29);
  e.arg1 = r.u(30);
  e.arg2 = r.u(31);
  e.arg3 = r.u(32);
  if (!a[33].is_array() || a[33].as_array().size() != 4) {
    r.fail(33, "expected an address [family, ip, port, unix path]");
  } else {
    const auto& ad = a[33].as_array();
    Reader ar{ad, {}};
    const uint64_t family = ar.u(0);
    e.addr.family = static_cast<uint16_t>(family);
    const size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (family > 0xffff || ad[1].type() != cbor::Type::kBytes || ad[1].as_bytes().size() != want) {
      r.fail(33, "address family and ip length disagree");
    } else {
      std::copy(ad[1].as_bytes().begin(), ad[1].as_bytes().end(), e.addr.ip.begin());
    }
    const uint64_t port = ar.u(2);
    if (port > 0xffff) r.fail(33, "port out of range");
    e.addr.port = static_cast<uint16_t>(port);
    e.addr.unix_path = ar.str(3);
    if (!ar.status.ok()) r.fail(33, ar.status.error().message.c_str());
  }
  if (a[34].type() != cbor::Type::kText)
    r.fail(34, "expected text");
  else
    e.dns_name = a[34].as_text();
  const uint64_t dns_type = r.u(35);
  if (dns_type > 0xffff) r.fail(35, "DNS type out of range");
  e.dns_type = static_cast<uint16_t>(dns_type);
  e.count = r.u(36);
  if (!r.status.ok()) return r.status.error();
  return e;
}

}  // namespace ritma::capture
