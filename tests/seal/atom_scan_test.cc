// The block splitter (seal/atom_scan.h) against the strict decoders it mirrors: it must accept
// exactly the atoms capture::decode_event_atom accepts, extract the same fields, and name the
// byte offset of what it refuses.
#include "seal/atom_scan.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>

#include "capture/event_atom.h"
#include "core/cbor.h"
#include "core/merkle.h"

namespace ritma::seal {
namespace {

using capture::Event;
using capture::EventType;

capture::BootId boot() {
  capture::BootId b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(0xb0 + i);
  return b;
}

Event sample(uint64_t seq) {
  Event e;
  e.seq = seq;
  e.mono_ns = 1000 + seq;
  e.wall_ns = 1'796'043'570'000'000'000 + static_cast<int64_t>(seq);
  e.type = EventType::kExec;
  e.result = -2;
  e.pid = 4242;
  e.tid = 4242;
  e.ppid = 1;
  e.uid = 1000;
  e.start_ns = 77;
  e.comm = "bash";
  e.exe = "/usr/bin/bash";
  e.path = "/usr/bin/ls";
  e.argv = {"ls", "-la", "/tmp"};
  e.addr.family = AF_INET;
  e.addr.ip = {10, 0, 0, 1};
  e.addr.port = 53;
  return e;
}

Bytes encode(const Event& e) {
  Bytes out;
  capture::encode_event_atom(e, boot(), out);
  return out;
}

// The atom with field `i` replaced by `raw` (already-encoded CBOR, possibly invalid).
Bytes with_field(const Event& e, size_t i, const Bytes& raw) {
  const Bytes atom = encode(e);
  const cbor::Value v = cbor::decode(atom).value();
  Bytes out;
  cbor::Writer w(out);
  w.array(37);
  for (size_t k = 0; k < 37; ++k) {
    if (k == i) {
      append(out, raw);
    } else {
      append(out, cbor::encode(v.as_array()[k]));
    }
  }
  return out;
}

Bytes cbor_of(const std::function<void(cbor::Writer&)>& f) {
  Bytes out;
  cbor::Writer w(out);
  f(w);
  return out;
}

// Offset, within the atom, of field i's encoding.
size_t field_offset(const Bytes& atom, size_t i) {
  const cbor::Value v = cbor::decode(atom).value();
  size_t off = 2;  // 0x98 0x25: array of 37
  for (size_t k = 0; k < i; ++k) off += cbor::encode(v.as_array()[k]).size();
  return off;
}

void expect_rejected(const Bytes& atom, size_t want_offset, const std::string& want_text) {
  ScannedAtom a;
  const auto err = scan_one_atom(atom, a);
  ASSERT_TRUE(err.has_value()) << "accepted an atom it should refuse (" << want_text << ")";
  EXPECT_EQ(err->offset, want_offset) << err->message();
  EXPECT_NE(err->message().find(want_text), std::string::npos) << err->message();
  // The strict decoder refuses it too.
  EXPECT_FALSE(capture::decode_event_atom(atom).ok()) << want_text;
}

TEST(AtomScan, SplitsABlockAndExtractsTheFieldsTheVerifierNeeds) {
  Bytes block;
  std::vector<Bytes> atoms;
  for (uint64_t s = 10; s < 20; ++s) {
    Event e = sample(s);
    if (s == 12) {
      e.type = EventType::kLoss;
      e.count = 33;
    }
    if (s == 13) e.wall_ns = -5;  // before 1970: a negative integer
    if (s == 14) e.argv.clear();
    atoms.push_back(encode(e));
    append(block, atoms.back());
  }
  std::vector<ScannedAtom> out;
  ASSERT_FALSE(scan_atoms(block, out).has_value());
  ASSERT_EQ(out.size(), 10u);
  size_t off = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].offset, off);
    EXPECT_EQ(out[i].size, atoms[i].size());
    EXPECT_EQ(out[i].seq, 10 + i);
    EXPECT_EQ(out[i].boot_id, boot());
    const ByteSpan bytes = out[i].bytes(block);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), atoms[i].begin(), atoms[i].end()));
    off += atoms[i].size();
  }
  EXPECT_EQ(out[2].type, 100u);
  EXPECT_EQ(out[2].count, 33u);
  EXPECT_EQ(out[0].type, 1u);
  EXPECT_EQ(out[3].wall_ns, -5);
  EXPECT_EQ(out[5].wall_ns, 1'796'043'570'000'000'015);

  std::vector<ScannedAtom> none;
  EXPECT_FALSE(scan_atoms({}, none).has_value());
  EXPECT_TRUE(none.empty());
}

TEST(AtomScan, ErrorsNameTheOffsetWithinTheBlockTheAtomAndItsSeq) {
  const Bytes a0 = encode(sample(1));
  Event bad = sample(2);
  bad.path = "/etc/passwd";
  Bytes a1 = with_field(bad, 26, cbor_of([](cbor::Writer& w) {
                          w.bytes(as_bytes(std::string_view("/etc/passwd")));
                        }));
  Bytes block = a0;
  append(block, a1);
  std::vector<ScannedAtom> out;
  const auto err = scan_atoms(block, out);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(out.size(), 1u);  // the valid prefix
  EXPECT_EQ(err->atom_index, 1u);
  EXPECT_EQ(err->atom_offset, a0.size());
  EXPECT_EQ(err->offset, a0.size() + field_offset(a1, 26));
  ASSERT_TRUE(err->seq.has_value());
  EXPECT_EQ(*err->seq, 2u);
  EXPECT_NE(err->message().find("field 26 (path)"), std::string::npos) << err->message();
  EXPECT_NE(err->message().find("valid UTF-8"), std::string::npos) << err->message();
  EXPECT_NE(err->message().find("seq 2"), std::string::npos) << err->message();
}

TEST(AtomScan, RefusesNonCanonicalCbor) {
  const Event e = sample(5);
  const Bytes good = encode(e);
  // seq 5 in two bytes (0x18 0x05) instead of one.
  expect_rejected(with_field(e, 2, {0x18, 0x05}), field_offset(good, 2), "non-shortest integer");
  // A text string whose length uses a longer head than needed.
  expect_rejected(with_field(e, 18, {0x78, 0x02, 's', 'h'}), field_offset(good, 18),
                  "non-shortest length");
  // Indefinite-length argv.
  expect_rejected(with_field(e, 28, {0x9f, 0x61, 'a', 0xff}), field_offset(good, 28),
                  "indefinite length");
  // A tag before an integer.
  expect_rejected(with_field(e, 3, {0xc1, 0x01}), field_offset(good, 3), "tag");
  // A float for wall_ns.
  expect_rejected(with_field(e, 4, {0xf9, 0x3c, 0x00}), field_offset(good, 4), "float");
  // Reserved additional information.
  expect_rejected(with_field(e, 6, {0x1c}), field_offset(good, 6), "reserved");
  // A map where a field is.
  expect_rejected(with_field(e, 33, {0xa0}), field_offset(good, 33), "map");
  // Invalid UTF-8 in a text string (an overlong '/').
  expect_rejected(with_field(e, 21, {0x62, 0xc0, 0xaf}), field_offset(good, 21) + 1,
                  "invalid UTF-8");
  // A surrogate in a kernel-string text.
  expect_rejected(with_field(e, 19, {0x63, 0xed, 0xa0, 0x80}), field_offset(good, 19) + 2,
                  "surrogate");
  // null and true are canonical CBOR but no field of an atom.
  expect_rejected(with_field(e, 34, {0xf6}), field_offset(good, 34), "null");
  expect_rejected(with_field(e, 7, {0xf5}), field_offset(good, 7), "boolean");
}

TEST(AtomScan, RefusesTheWrongShape) {
  const Event e = sample(5);
  const Bytes good = encode(e);
  // An array of 36.
  Bytes short_atom = good;
  short_atom[1] = 36;
  expect_rejected(short_atom, 0, "an array of 36, expected 37");
  // Not an array at all.
  expect_rejected({0x01}, 0, "expected an array of 37");
  // Another version tag.
  expect_rejected(with_field(e, 0, cbor_of([](cbor::Writer& w) { w.text("ritma-ev@2"); })), 2,
                  "version tag is \"ritma-ev@2\"");
  // boot_id of 15 bytes.
  expect_rejected(with_field(e, 1, cbor_of([](cbor::Writer& w) {
                               Bytes b(15, 1);
                               w.bytes(b);
                             })),
                  field_offset(good, 1), "byte string of 15 bytes, expected 16");
  // seq negative.
  expect_rejected(with_field(e, 2, cbor_of([](cbor::Writer& w) { w.int64(-1); })),
                  field_offset(good, 2), "expected an unsigned integer, found a negative");
  // pid beyond 32 bits.
  expect_rejected(with_field(e, 10, cbor_of([](cbor::Writer& w) { w.uint(1ull << 32); })),
                  field_offset(good, 10), "out of range");
  // type beyond 16 bits.
  expect_rejected(with_field(e, 5, cbor_of([](cbor::Writer& w) { w.uint(70000); })),
                  field_offset(good, 5), "out of range");
  // wall_ns below INT64_MIN.
  expect_rejected(with_field(e, 4, cbor_of([](cbor::Writer& w) { w.negative(1ull << 63); })),
                  field_offset(good, 4), "64-bit signed range");
  // container_id as bytes (it is always text).
  expect_rejected(with_field(e, 21, cbor_of([](cbor::Writer& w) {
                               Bytes b = {0xff};
                               w.bytes(b);
                             })),
                  field_offset(good, 21), "expected a text string");
  // An argv entry that is a number.
  expect_rejected(with_field(e, 28, cbor_of([](cbor::Writer& w) {
                               w.array(1);
                               w.uint(3);
                             })),
                  field_offset(good, 28) + 1, "expected a text or byte string");
  // AF_INET with 16 address bytes.
  expect_rejected(with_field(e, 33, cbor_of([](cbor::Writer& w) {
                               w.array(4);
                               w.uint(AF_INET);
                               Bytes ip(16, 0);
                               w.bytes(ip);
                               w.uint(1);
                               w.text("");
                             })),
                  field_offset(good, 33) + 2, "with an ip of 16 bytes");
  // An address of 3 elements.
  expect_rejected(with_field(e, 33, cbor_of([](cbor::Writer& w) {
                               w.array(3);
                               w.uint(0);
                               w.bytes({});
                               w.uint(0);
                             })),
                  field_offset(good, 33), "an array of 3");
  // argv declaring more entries than bytes remain.
  Bytes huge = good;
  const size_t argv_at = field_offset(good, 28);
  huge[argv_at] = 0x9a;  // array, 4-byte count
  huge.insert(huge.begin() + static_cast<std::ptrdiff_t>(argv_at) + 1, {0x7f, 0xff, 0xff, 0xff});
  huge.resize(argv_at + 5 + 3);
  expect_rejected(huge, argv_at, "larger than the remaining input");
}

TEST(AtomScan, AByteStringHoldingValidUtf8IsRefusedAndInvalidUtf8Bytes) {
  Event e = sample(9);
  e.comm = std::string("\xff\xfe", 2);  // not UTF-8: encoded as bytes
  e.argv = {"ok", std::string("\xc3", 1)};
  e.addr.family = AF_UNIX;
  e.addr.unix_path = std::string("/run/\x80", 6);
  ScannedAtom a;
  EXPECT_FALSE(scan_one_atom(encode(e), a).has_value());
  EXPECT_TRUE(capture::decode_event_atom(encode(e)).ok());
  for (size_t field : {18, 19, 22, 26, 27}) {
    const Bytes atom = with_field(
        e, field, cbor_of([](cbor::Writer& w) { w.bytes(as_bytes(std::string_view("plain"))); }));
    expect_rejected(atom, field_offset(atom, field), "must be encoded as a text string");
  }
}

TEST(AtomScan, RefusesAPartialAtomAtTheEndOfTheBlock) {
  const Bytes a0 = encode(sample(1));
  const Bytes a1 = encode(sample(2));
  for (size_t cut = 1; cut < a1.size(); cut += 7) {
    Bytes block = a0;
    block.insert(block.end(), a1.begin(), a1.begin() + static_cast<std::ptrdiff_t>(cut));
    std::vector<ScannedAtom> out;
    const auto err = scan_atoms(block, out);
    ASSERT_TRUE(err.has_value()) << "cut " << cut;
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(err->atom_index, 1u);
    EXPECT_GE(err->offset, a0.size());
    EXPECT_LE(err->offset, block.size());
  }
  // And a trailing single byte that is a complete item but not an atom.
  Bytes block = a0;
  block.push_back(0x00);
  std::vector<ScannedAtom> out;
  const auto err = scan_atoms(block, out);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->offset, a0.size());
  // scan_one_atom refuses trailing bytes.
  ScannedAtom a;
  const auto err2 = scan_one_atom(block, a);
  ASSERT_TRUE(err2.has_value());
  EXPECT_NE(err2->message().find("trailing"), std::string::npos);
}

// Random events and random corruptions: the scanner accepts exactly what the strict decoder
// accepts, and extracts the same values.
TEST(AtomScan, AgreesWithTheStrictDecoderOnRandomAtomsAndMutations) {
  std::mt19937_64 rng(1234);
  auto rand_string = [&](size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (char& c : s) {
      const uint64_t r = rng() % 10;
      c = static_cast<char>(r < 7 ? 'a' + rng() % 26 : r < 9 ? 0xc3 + rng() % 2 : rng() % 256);
    }
    return s;
  };
  size_t accepted = 0, refused = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Event e;
    e.seq = rng() >> (rng() % 64);
    e.mono_ns = rng();
    e.wall_ns = static_cast<int64_t>(rng());
    e.type = static_cast<EventType>(rng() % 300);
    e.op = static_cast<uint16_t>(rng());
    e.flags = static_cast<uint32_t>(rng());
    e.result = static_cast<int64_t>(rng()) >> (rng() % 64);
    e.pid = static_cast<uint32_t>(rng());
    e.comm = rand_string(15);
    e.exe = rand_string(30);
    e.unit = rand_string(5);
    e.path = rand_string(60);
    e.path2 = rand_string(10);
    for (size_t k = rng() % 4; k > 0; --k) e.argv.push_back(rand_string(8));
    e.addr.family =
        static_cast<uint16_t>(std::array<int, 4>{0, AF_INET, AF_INET6, AF_UNIX}[rng() % 4]);
    e.addr.port = static_cast<uint16_t>(rng());
    e.addr.unix_path = e.addr.family == AF_UNIX ? rand_string(20) : "";
    e.dns_name = "example.org";
    e.count = rng() % 1000;
    e.arg0 = rng() >> (rng() % 64);
    e.arg1 = rng() >> (rng() % 64);
    e.arg3 = rng() >> (rng() % 64);
    Bytes atom = encode(e);
    // Mutate most of them: flip, insert or delete a byte.
    if (iter % 5 != 0) {
      const size_t at = rng() % atom.size();
      switch (rng() % 3) {
        case 0:
          atom[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          atom.insert(atom.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng()));
          break;
        default:
          atom.erase(atom.begin() + static_cast<std::ptrdiff_t>(at));
      }
    }
    ScannedAtom a;
    capture::BootId b{};
    const auto err = scan_one_atom(atom, a);
    const auto dec = capture::decode_event_atom(atom, &b);
    ASSERT_EQ(!err.has_value(), dec.ok())
        << "iteration " << iter << ": scanner " << (err ? err->message() : "accepts")
        << ", decoder " << (dec.ok() ? "accepts" : dec.error().message);
    if (dec.ok()) {
      ++accepted;
      EXPECT_EQ(a.seq, dec->seq);
      EXPECT_EQ(a.wall_ns, dec->wall_ns);
      EXPECT_EQ(a.type, static_cast<uint64_t>(dec->type));
      EXPECT_EQ(a.count, dec->count);
      EXPECT_EQ(a.arg0, dec->arg0);
      EXPECT_EQ(a.arg1, dec->arg1);
      EXPECT_EQ(a.arg3, dec->arg3);
      EXPECT_EQ(a.boot_id, b);
      EXPECT_EQ(a.size, atom.size());
    } else {
      ++refused;
    }
  }
  EXPECT_GT(accepted, 600u);
  EXPECT_GT(refused, 600u);
}

TEST(AtomScan, MerkleHasherMatchesMerkleLeafAndNodeHashesOnBothPaths) {
  for (bool cpu : {true, false}) {
    MerkleHasher h(cpu);
    if (!cpu) {
      EXPECT_FALSE(h.accelerated());
    }
    std::mt19937_64 rng(7);
    Bytes data(5000);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    // Every length around the block boundaries (55/56 and 63/64 with the prefix byte), and more.
    for (size_t n = 0; n < 700; ++n) {
      const ByteSpan d(data.data() + n % 13, n);
      ASSERT_EQ(h.leaf_hash(d), merkle::leaf_hash(d)) << "length " << n << " cpu " << cpu;
    }
    for (size_t n : {1000, 4095, 4096, 4097, 4987}) {
      const ByteSpan d(data.data(), n);
      ASSERT_EQ(h.leaf_hash(d), merkle::leaf_hash(d)) << n;
    }
    for (int i = 0; i < 50; ++i) {
      Hash32 l, r;
      for (auto& b : l) b = static_cast<uint8_t>(rng());
      for (auto& b : r) b = static_cast<uint8_t>(rng());
      ASSERT_EQ(h.node_hash(l, r), merkle::node_hash(l, r));
    }
    // The tree builder gives merkle's roots for every size up to 300.
    FastTreeBuilder fast(h);
    merkle::TreeBuilder ref;
    EXPECT_EQ(fast.root(), merkle::empty_root());
    for (size_t n = 0; n < 300; ++n) {
      const Hash32 leaf = merkle::leaf_hash(ByteSpan(data.data() + n, 20));
      fast.add_leaf_hash(leaf);
      ref.add_leaf_hash(leaf);
      ASSERT_EQ(fast.root(), ref.root()) << "size " << n + 1;
      ASSERT_EQ(fast.size(), ref.size());
    }
  }
}

}  // namespace
}  // namespace ritma::seal
