// The block splitter: a single forward pass over the bytes, one small function per field kind,
// and no allocation per atom. The checks mirror core/cbor.cc (canonical CBOR) and
// capture/event_atom.cc (the ritma-ev@1 schema) rule for rule; tests hold the three together.
#include "seal/atom_scan.h"

#include <openssl/evp.h>
#include <sys/socket.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/merkle.h"
#include "core/sha256.h"
#include "core/utf8.h"

namespace ritma::seal {
namespace {

constexpr uint64_t kFields = 37;
constexpr uint8_t kMajorUnsigned = 0;
constexpr uint8_t kMajorNegative = 1;
constexpr uint8_t kMajorBytes = 2;
constexpr uint8_t kMajorText = 3;
constexpr uint8_t kMajorArray = 4;
constexpr uint8_t kMajorMap = 5;
constexpr uint8_t kMajorTag = 6;

constexpr uint64_t kU16 = 0xffff;
constexpr uint64_t kU32 = 0xffffffffu;
constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// The encoded tag: a text string of 10 bytes, "ritma-ev@1".
constexpr uint8_t kTagBytes[11] = {0x6a, 'r', 'i', 't', 'm', 'a', '-', 'e', 'v', '@', '1'};

const char* const kFieldNames[kFields] = {
    "tag",    "boot_id",  "seq",      "mono_ns",  "wall_ns",   "type",         "op",   "flags",
    "result", "actor",    "pid",      "tid",      "ppid",      "uid",          "gid",  "euid",
    "egid",   "start_ns", "comm",     "exe",      "cgroup_id", "container_id", "unit", "mntns",
    "pidns",  "netns",    "path",     "path2",    "argv",      "arg0",         "arg1", "arg2",
    "arg3",   "addr",     "dns_name", "dns_type", "count"};

const char* major_name(uint8_t major) {
  switch (major) {
    case kMajorUnsigned:
      return "an unsigned integer";
    case kMajorNegative:
      return "a negative integer";
    case kMajorBytes:
      return "a byte string";
    case kMajorText:
      return "a text string";
    case kMajorArray:
      return "an array";
    case kMajorMap:
      return "a map";
    case kMajorTag:
      return "a tag";
    default:
      return "a simple value or float";
  }
}

#define RITMA_HOT inline __attribute__((always_inline))
#define RITMA_COLD __attribute__((cold, noinline))

uint64_t load_be(const uint8_t* p, unsigned width) {
  uint64_t v = 0;
  switch (width) {
    case 1:
      return p[0];
    case 2: {
      uint16_t x;
      std::memcpy(&x, p, 2);
      return __builtin_bswap16(x);
    }
    case 4: {
      uint32_t x;
      std::memcpy(&x, p, 4);
      return __builtin_bswap32(x);
    }
    default:
      std::memcpy(&v, p, 8);
      return __builtin_bswap64(v);
  }
}

// The smallest argument each head width may carry (shorter forms must be used below it).
constexpr uint64_t kMinArg[4] = {24, 256, 65536, uint64_t{1} << 32};

// True when every byte is below 0x80 (ASCII is valid UTF-8 and needs no further check).
RITMA_HOT bool all_ascii(const uint8_t* s, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= s[i];
  return (acc & 0x8080808080808080ULL) == 0;
}

// One scan over one content buffer. The checks on the hot path are inlined and only compare
// bytes; everything that builds a message is out of line. Every check returns false after
// recording the first problem in err_.
class Scanner {
 public:
  Scanner(ByteSpan content, const AtomScanLimits& limits)
      : base_(content.data()), end_(content.data() + content.size()), limits_(limits) {}

  bool at_end() const { return p_ == end_; }
  size_t pos() const { return static_cast<size_t>(p_ - base_); }
  AtomScanError take_error() { return std::move(err_); }
  void set_atom_index(uint64_t i) { atom_index_ = i; }

  bool atom(ScannedAtom& out) {
    atom_start_ = p_;
    have_seq_ = false;
    out.offset = static_cast<uint32_t>(pos());

    // The top-level array of 37: 0x98 0x25.
    field_ = -1;
    if (end_ - p_ >= 2 && p_[0] == 0x98 && p_[1] == kFields) [[likely]] {
      p_ += 2;
    } else {
      uint8_t major = 0;
      uint64_t arg = 0;
      if (!head(major, arg)) return false;
      if (major != kMajorArray) {
        return fail(atom_start_, std::string("not a ritma-ev@1 atom: found ") + major_name(major) +
                                     ", expected an array of 37");
      }
      return fail(atom_start_,
                  "not a ritma-ev@1 atom: an array of " + std::to_string(arg) + ", expected 37");
    }
    uint64_t items = 1 + kFields;

    // 0: the tag.
    field_ = 0;
    if (static_cast<size_t>(end_ - p_) >= sizeof kTagBytes &&
        std::memcmp(p_, kTagBytes, sizeof kTagBytes) == 0) [[likely]] {
      p_ += sizeof kTagBytes;
    } else {
      return wrong_tag();
    }
    // 1: boot_id.
    field_ = 1;
    const uint8_t* boot = nullptr;
    if (!fixed_bytes(16, boot)) return false;
    std::memcpy(out.boot_id.data(), boot, 16);
    // 2..8
    field_ = 2;
    if (!uint_field(kU64, out.seq)) return false;
    have_seq_ = true;
    seq_ = out.seq;
    uint64_t ignored = 0;
    int64_t signed_ignored = 0;
    field_ = 3;
    if (!uint_field(kU64, ignored)) return false;
    field_ = 4;
    if (!int_field(out.wall_ns)) return false;
    field_ = 5;
    if (!uint_field(kU16, out.type)) return false;
    field_ = 6;
    if (!uint_field(kU16, ignored)) return false;
    field_ = 7;
    if (!uint_field(kU32, ignored)) return false;
    field_ = 8;
    if (!int_field(signed_ignored)) return false;
    // 9: actor.
    field_ = 9;
    const uint8_t* actor = nullptr;
    if (!fixed_bytes(16, actor)) return false;
    // 10..16: pid .. egid, 32 bits each.
    for (field_ = 10; field_ <= 16; ++field_) {
      if (!uint_field(kU32, ignored)) return false;
    }
    field_ = 17;
    if (!uint_field(kU64, ignored)) return false;
    field_ = 18;
    if (!kernel_string()) return false;
    field_ = 19;
    if (!kernel_string()) return false;
    field_ = 20;
    if (!uint_field(kU64, ignored)) return false;
    field_ = 21;
    if (!text()) return false;
    field_ = 22;
    if (!kernel_string()) return false;
    for (field_ = 23; field_ <= 25; ++field_) {
      if (!uint_field(kU32, ignored)) return false;
    }
    field_ = 26;
    if (!kernel_string()) return false;
    field_ = 27;
    if (!kernel_string()) return false;
    // 28: argv, an array of kernel strings.
    field_ = 28;
    uint64_t argc = 0;
    if (!array_head(argc)) return false;
    items += argc + 4;  // and the address's four
    if (items > limits_.max_items_per_atom) [[unlikely]] {
      return fail(p_, "too many items in one atom (limit " +
                          std::to_string(limits_.max_items_per_atom) + ")");
    }
    for (uint64_t k = 0; k < argc; ++k) {
      if (!kernel_string()) return false;
    }
    field_ = 29;
    if (!uint_field(kU64, out.arg0)) return false;
    field_ = 30;
    if (!uint_field(kU64, out.arg1)) return false;
    field_ = 31;
    if (!uint_field(kU64, ignored)) return false;
    field_ = 32;
    if (!uint_field(kU64, out.arg3)) return false;
    // 33: [family, ip, port, unix_path].
    field_ = 33;
    if (!address()) return false;
    field_ = 34;
    if (!text()) return false;
    field_ = 35;
    if (!uint_field(kU16, ignored)) return false;
    field_ = 36;
    if (!uint_field(kU64, out.count)) return false;

    out.size = static_cast<uint32_t>(p_ - atom_start_);
    return true;
  }

 private:
  RITMA_COLD bool fail(const uint8_t* at, std::string what) {
    err_.offset = static_cast<uint64_t>(at - base_);
    err_.atom_index = atom_index_;
    err_.atom_offset = static_cast<uint64_t>(atom_start_ - base_);
    if (have_seq_) err_.seq = seq_;
    if (field_ >= 0) {
      what = "field " + std::to_string(field_) + " (" + kFieldNames[field_] + "): " + what;
    }
    err_.what = std::move(what);
    return false;
  }

  // Why the head at `at` was refused by head()'s fast path (§3 rules 1 and 2, no tags, no
  // floats or simple values: an atom has none).
  RITMA_COLD bool fail_head(const uint8_t* at) {
    if (at == end_) {
      return fail(at, "unexpected end of the block: the atom is incomplete (a partial item)");
    }
    const uint8_t initial = *at;
    const auto major = static_cast<uint8_t>(initial >> 5);
    const uint8_t info = initial & 0x1f;
    if (major == kMajorTag) return fail(at, "tag (major type 6) not allowed");
    if (info >= 28) {
      return fail(at, info == 31 ? "indefinite length not allowed"
                                 : "reserved additional information " + std::to_string(info) +
                                       " (values 28-30 are not well-formed)");
    }
    if (major == 7) {
      if (info >= 25) return fail(at, "float not allowed");
      if (info == 20 || info == 21 || info == 22) {
        // Canonical CBOR, but no field of an atom is a boolean or null.
        return fail(at, std::string(info == 22 ? "null" : "a boolean") +
                            " where the schema wants another type");
      }
      return fail(at, "simple value " + std::to_string(info) + " not allowed");
    }
    const size_t width = size_t{1} << (info - 24);
    const size_t remain = static_cast<size_t>(end_ - at) - 1;
    if (remain < width) {
      return fail(at, "truncated head: argument needs " + std::to_string(width) +
                          " byte(s) but only " + std::to_string(remain) + " remain");
    }
    const uint64_t v = load_be(at + 1, static_cast<unsigned>(width));
    return fail(at, std::string(major <= kMajorNegative ? "non-shortest integer encoding"
                                                        : "non-shortest length encoding") +
                        " (" + std::to_string(v) + " in " + std::to_string(width) + " byte(s))");
  }

  RITMA_COLD bool wrong_type(const uint8_t* at, uint8_t major, const char* want) {
    return fail(at, std::string("expected ") + want + ", found " + major_name(major));
  }

  RITMA_COLD bool out_of_range(const uint8_t* at, uint64_t v, uint64_t max) {
    return fail(
        at, "value " + std::to_string(v) + " out of range (at most " + std::to_string(max) + ")");
  }

  RITMA_COLD bool too_long(const uint8_t* at, uint64_t length, const char* what) {
    return fail(at, "declared length " + std::string(what) + std::to_string(length) +
                        " larger than the remaining input (" + std::to_string(end_ - p_) +
                        " byte(s))");
  }

  RITMA_COLD bool bad_utf8(ByteSpan s) {
    const auto problem = find_invalid_utf8(s);
    if (!problem) return true;
    return fail(s.data() + problem->index,
                std::string("invalid UTF-8 in text string: ") + problem->reason);
  }

  RITMA_COLD bool wrong_tag() {
    const uint8_t* at = p_;
    if (!text()) return false;
    p_ = at;
    uint8_t major = 0;
    uint64_t len = 0;
    (void)head(major, len);
    const ByteSpan s(p_, std::min<size_t>(len, 32));
    return fail(at,
                "not a ritma-ev@1 atom: the version tag is \"" + std::string(as_chars(s)) + "\"");
  }

  // An item's head: canonical CBOR's rules about heads (the cold path names what is wrong).
  RITMA_HOT bool head(uint8_t& major, uint64_t& arg) {
    const uint8_t* at = p_;
    if (p_ == end_) [[unlikely]]
      return fail_head(at);
    const uint8_t initial = *p_;
    major = static_cast<uint8_t>(initial >> 5);
    const uint8_t info = initial & 0x1f;
    if (major >= kMajorTag) [[unlikely]]
      return fail_head(at);
    if (info < 24) [[likely]] {
      arg = info;
      ++p_;
      return true;
    }
    if (info > 27) [[unlikely]]
      return fail_head(at);
    const unsigned width = 1u << (info - 24);
    if (static_cast<size_t>(end_ - p_) <= width) [[unlikely]]
      return fail_head(at);
    const uint64_t v = load_be(p_ + 1, width);
    if (v < kMinArg[info - 24]) [[unlikely]]
      return fail_head(at);
    arg = v;
    p_ += 1 + width;
    return true;
  }

  RITMA_HOT bool uint_field(uint64_t max, uint64_t& v) {
    // Fast path: a small unsigned integer in the initial byte.
    if (p_ != end_ && *p_ < 24) [[likely]] {
      v = *p_++;
      return true;
    }
    const uint8_t* at = p_;
    uint8_t major = 0;
    if (!head(major, v)) return false;
    if (major != kMajorUnsigned) [[unlikely]]
      return wrong_type(at, major, "an unsigned integer");
    if (v > max) [[unlikely]]
      return out_of_range(at, v, max);
    return true;
  }

  RITMA_HOT bool int_field(int64_t& v) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t arg = 0;
    if (!head(major, arg)) return false;
    if (major > kMajorNegative) [[unlikely]]
      return wrong_type(at, major, "an integer");
    if (arg > kInt64Max) [[unlikely]]
      return fail(at, "integer outside the 64-bit signed range");
    v = major == kMajorUnsigned ? static_cast<int64_t>(arg) : -1 - static_cast<int64_t>(arg);
    return true;
  }

  // A string's content after its head: the declared length must fit in what remains (§3 rule
  // 5).
  RITMA_HOT bool content(const uint8_t* head_at, uint64_t length, ByteSpan& out) {
    if (length > static_cast<uint64_t>(end_ - p_)) [[unlikely]]
      return too_long(head_at, length, "");
    out = ByteSpan(p_, static_cast<size_t>(length));
    p_ += length;
    return true;
  }

  RITMA_HOT bool utf8_ok(ByteSpan s) {
    if (all_ascii(s.data(), s.size())) [[likely]]
      return true;
    if (!find_invalid_utf8(s)) return true;
    return bad_utf8(s);
  }

  RITMA_COLD bool fixed_bytes_slow(size_t n, const uint8_t*& data) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorBytes) {
      return wrong_type(at, major, ("a byte string of " + std::to_string(n) + " bytes").c_str());
    }
    ByteSpan b;
    if (!content(at, len, b)) return false;
    if (len != n) {
      return fail(
          at, "a byte string of " + std::to_string(len) + " bytes, expected " + std::to_string(n));
    }
    data = b.data();
    return true;
  }

  RITMA_HOT bool fixed_bytes(size_t n, const uint8_t*& data) {
    if (static_cast<size_t>(end_ - p_) > n && *p_ == (0x40 | n)) [[likely]] {
      data = p_ + 1;
      p_ += 1 + n;
      return true;
    }
    return fixed_bytes_slow(n, data);
  }

  RITMA_HOT bool text() {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorText) [[unlikely]]
      return wrong_type(at, major, "a text string");
    ByteSpan s;
    if (!content(at, len, s)) return false;
    return utf8_ok(s);
  }

  // A kernel string (§9): text when it is valid UTF-8, bytes only when it is not.
  RITMA_HOT bool kernel_string() {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    ByteSpan s;
    if (major == kMajorText) [[likely]] {
      if (!content(at, len, s)) return false;
      return utf8_ok(s);
    }
    if (major == kMajorBytes) {
      if (!content(at, len, s)) return false;
      if (all_ascii(s.data(), s.size()) || !find_invalid_utf8(s)) {
        return fail(at, "a byte string holding valid UTF-8 (it must be encoded as a text string)");
      }
      return true;
    }
    return wrong_type(at, major, "a text or byte string");
  }

  RITMA_HOT bool array_head(uint64_t& count) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    if (!head(major, count)) return false;
    if (major != kMajorArray) [[unlikely]]
      return wrong_type(at, major, "an array");
    // Every element takes at least one byte.
    if (count > static_cast<uint64_t>(end_ - p_)) [[unlikely]] {
      return fail(at, "declared length of " + std::to_string(count) +
                          " items larger than the remaining input (" + std::to_string(end_ - p_) +
                          " byte(s))");
    }
    return true;
  }

  RITMA_HOT bool address() {
    const uint8_t* at = p_;
    uint64_t n = 0;
    if (!array_head(n)) return false;
    if (n != 4) [[unlikely]] {
      return fail(at,
                  "an array of " + std::to_string(n) + ", expected [family, ip, port, unix path]");
    }
    uint64_t family = 0;
    if (!uint_field(kU16, family)) return false;
    const uint8_t* ip_at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorBytes) [[unlikely]]
      return wrong_type(ip_at, major, "an ip byte string");
    ByteSpan ip;
    if (!content(ip_at, len, ip)) return false;
    const uint64_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (len != want) [[unlikely]] {
      return fail(ip_at, "address family " + std::to_string(family) + " with an ip of " +
                             std::to_string(len) + " bytes (expected " + std::to_string(want) +
                             ")");
    }
    uint64_t port = 0;
    if (!uint_field(kU16, port)) return false;
    return kernel_string();
  }

  const uint8_t* base_;
  const uint8_t* end_;
  const uint8_t* p_ = base_;
  const uint8_t* atom_start_ = base_;
  const AtomScanLimits& limits_;
  int field_ = -1;
  uint64_t atom_index_ = 0;
  bool have_seq_ = false;
  uint64_t seq_ = 0;
  AtomScanError err_;
};

}  // namespace

std::string AtomScanError::message() const {
  std::string m = "offset " + std::to_string(offset) + " (atom " + std::to_string(atom_index) +
                  " at offset " + std::to_string(atom_offset);
  if (seq) m += ", seq " + std::to_string(*seq);
  m += "): " + what;
  return m;
}

std::optional<AtomScanError> scan_atoms(ByteSpan content, std::vector<ScannedAtom>& atoms,
                                        const AtomScanLimits& limits) {
  atoms.clear();
  if (content.size() > kU32) {
    AtomScanError e;
    e.what = "block content of " + std::to_string(content.size()) + " bytes exceeds 4 GiB";
    return e;
  }
  Scanner s(content, limits);
  uint64_t index = 0;
  while (!s.at_end()) {
    s.set_atom_index(index++);
    ScannedAtom& a = atoms.emplace_back();
    if (!s.atom(a)) {
      atoms.pop_back();
      return s.take_error();
    }
  }
  return std::nullopt;
}

std::optional<AtomScanError> scan_one_atom(ByteSpan atom, ScannedAtom& out,
                                           const AtomScanLimits& limits) {
  if (atom.size() > kU32) {
    AtomScanError e;
    e.what = "atom of " + std::to_string(atom.size()) + " bytes exceeds 4 GiB";
    return e;
  }
  Scanner s(atom, limits);
  if (!s.atom(out)) return s.take_error();
  if (!s.at_end()) {
    AtomScanError e;
    e.offset = s.pos();
    e.seq = out.seq;
    e.what =
        "trailing bytes after the atom (" + std::to_string(atom.size() - s.pos()) + " byte(s))";
    return e;
  }
  return std::nullopt;
}

// ---- Merkle hashing

namespace {

#if defined(__x86_64__)
// SHA-256 with the x86 SHA extensions. The state lives in two registers in the order the
// sha256rnds2 instruction wants (ABEF and CDGH); each 64-byte block is 16 groups of four
// rounds, the message schedule computed four words at a time with sha256msg1/msg2.
#define RITMA_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
alignas(16) constexpr uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

struct ShaState {
  __m128i abef;
  __m128i cdgh;
};

RITMA_SHA_TARGET inline __m128i byte_swap_words(__m128i v) {
  return _mm_shuffle_epi8(v, _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
}

RITMA_SHA_TARGET inline ShaState sha_init() {
  const __m128i abcd =
      _mm_shuffle_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(kInitialHash)), 0xB1);
  const __m128i efgh =
      _mm_shuffle_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(kInitialHash + 4)), 0x1B);
  return ShaState{_mm_alignr_epi8(abcd, efgh, 8), _mm_blend_epi16(efgh, abcd, 0xF0)};
}

RITMA_SHA_TARGET inline void sha_block(ShaState& s, const uint8_t* block) {
  const ShaState saved = s;
  __m128i w[4];
#pragma GCC unroll 16
  for (int q = 0; q < 16; ++q) {
    __m128i x;
    if (q < 4) {
      x = byte_swap_words(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * q)));
    } else {
      // W[t..t+3] from W[t-16..t-1]: msg1 adds sigma0, then W[t-7..t-4], then msg2 sigma1.
      x = _mm_sha256msg1_epu32(w[q & 3], w[(q + 1) & 3]);
      x = _mm_add_epi32(x, _mm_alignr_epi8(w[(q + 3) & 3], w[(q + 2) & 3], 4));
      x = _mm_sha256msg2_epu32(x, w[(q + 3) & 3]);
    }
    w[q & 3] = x;
    __m128i m =
        _mm_add_epi32(x, _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * q)));
    s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, m);
    m = _mm_shuffle_epi32(m, 0x0E);
    s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, m);
  }
  s.abef = _mm_add_epi32(s.abef, saved.abef);
  s.cdgh = _mm_add_epi32(s.cdgh, saved.cdgh);
}

RITMA_SHA_TARGET inline Hash32 sha_digest(const ShaState& s) {
  const __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  Hash32 out;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data()),
                   byte_swap_words(_mm_blend_epi16(feba, dchg, 0xF0)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data() + 16),
                   byte_swap_words(_mm_alignr_epi8(dchg, feba, 8)));
  return out;
}

// SHA-256 of a message fed in pieces: whole blocks straight from the input, the first, the
// unaligned and the padded last through a small buffer.
struct ShaStream {
  ShaState s;
  alignas(16) uint8_t buf[128];
  size_t fill = 0;
  uint64_t total = 0;

  RITMA_SHA_TARGET void feed(const uint8_t* p, size_t n) {
    if (n == 0) return;
    total += n;
    if (fill != 0) {
      const size_t take = std::min(n, 64 - fill);
      std::memcpy(buf + fill, p, take);
      fill += take;
      p += take;
      n -= take;
      if (fill < 64) return;
      sha_block(s, buf);
      fill = 0;
    }
    while (n >= 64) {
      sha_block(s, p);
      p += 64;
      n -= 64;
    }
    std::memcpy(buf, p, n);
    fill = n;
  }

  // Padding: 0x80, zeros, the bit length as a big-endian 64-bit number.
  RITMA_SHA_TARGET Hash32 finish() {
    buf[fill++] = 0x80;
    const size_t end = fill + 8 <= 64 ? 64 : 128;
    std::memset(buf + fill, 0, end - 8 - fill);
    const uint64_t bits = __builtin_bswap64(total * 8);
    std::memcpy(buf + end - 8, &bits, 8);
    sha_block(s, buf);
    if (end == 128) sha_block(s, buf + 64);
    return sha_digest(s);
  }
};

// SHA-256(prefix || a || b).
RITMA_SHA_TARGET Hash32 sha_prefixed(uint8_t prefix, ByteSpan a, ByteSpan b) {
  ShaStream st;
  st.s = sha_init();
  st.buf[0] = prefix;
  st.fill = 1;
  st.total = 1;
  st.feed(a.data(), a.size());
  if (!b.empty()) st.feed(b.data(), b.size());
  return st.finish();
}

// SHA-256(0x01 || left || right): two blocks, built in place.
RITMA_SHA_TARGET Hash32 sha_node(const Hash32& left, const Hash32& right) {
  alignas(16) uint8_t b[128];
  b[0] = 0x01;
  std::memcpy(b + 1, left.data(), 32);
  std::memcpy(b + 33, right.data(), 32);
  b[65] = 0x80;
  std::memset(b + 66, 0, 128 - 66 - 2);
  b[126] = 0x02;  // 65 bytes = 520 bits = 0x208
  b[127] = 0x08;
  ShaState s = sha_init();
  sha_block(s, b);
  sha_block(s, b + 64);
  return sha_digest(s);
}

bool cpu_has_sha_extensions() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  const bool ssse3 = (c & (1u << 9)) != 0;
  const bool sse41 = (c & (1u << 19)) != 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  const bool sha = (b & (1u << 29)) != 0;  // CPUID.(EAX=7,ECX=0):EBX[29]
  return ssse3 && sse41 && sha;
}
#endif

}  // namespace

MerkleHasher::MerkleHasher(bool use_cpu_extensions) {
#if defined(__x86_64__)
  accelerated_ = use_cpu_extensions && cpu_has_sha_extensions();
#else
  (void)use_cpu_extensions;
#endif
  if (!accelerated_) {
    ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr) std::abort();
  }
}

MerkleHasher::~MerkleHasher() {
  if (ctx_ != nullptr) EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

Hash32 MerkleHasher::portable(uint8_t prefix, ByteSpan a, ByteSpan b) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  Hash32 out;
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, sha256_evp(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, &prefix, 1) != 1 || EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1) {
    std::abort();
  }
  return out;
}

Hash32 MerkleHasher::leaf_hash(ByteSpan leaf_data) {
#if defined(__x86_64__)
  if (accelerated_) return sha_prefixed(0x00, leaf_data, {});
#endif
  return portable(0x00, leaf_data, {});
}

Hash32 MerkleHasher::node_hash(const Hash32& left, const Hash32& right) {
#if defined(__x86_64__)
  if (accelerated_) return sha_node(left, right);
#endif
  return portable(0x01, left, right);
}

void FastTreeBuilder::add_leaf_hash(const Hash32& h) {
  Hash32 cur = h;
  int height = 0;
  while (!stack_.empty() && stack_.back().second == height) {
    cur = hasher_.node_hash(stack_.back().first, cur);
    stack_.pop_back();
    ++height;
  }
  stack_.emplace_back(cur, height);
  ++size_;
}

Hash32 FastTreeBuilder::root() const {
  if (stack_.empty()) return merkle::empty_root();
  Hash32 r = stack_.back().first;
  for (size_t i = stack_.size() - 1; i-- > 0;) r = hasher_.node_hash(stack_[i].first, r);
  return r;
}

}  // namespace ritma::seal
