// The block splitter: a single forward pass over the bytes, one small function per field kind,
// and no allocation per atom. The checks mirror core/cbor.cc (canonical CBOR) and
// capture/event_atom.cc (the ritma-ev@1 schema) rule for rule; tests hold the three together.
#include "seal/atom_scan.h"

#include <openssl/evp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <limits>

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
    "tag",       "boot_id", "seq",     "mono_ns",      "wall_ns", "type",     "op",
    "flags",     "result",  "actor",   "pid",          "tid",     "ppid",     "uid",
    "gid",       "euid",    "egid",    "start_ns",     "comm",    "exe",      "cgroup_id",
    "container_id", "unit", "mntns",   "pidns",        "netns",   "path",     "path2",
    "argv",      "arg0",    "arg1",    "arg2",         "arg3",    "addr",     "dns_name",
    "dns_type",  "count"};

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

// One scan over one content buffer. Every check returns false after recording the first
// problem in err_.
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
    items_ = 0;
    out.offset = static_cast<uint32_t>(pos());

    // The top-level array of 37.
    uint8_t major = 0;
    uint64_t arg = 0;
    field_ = -1;
    if (!head(major, arg)) return false;
    if (major != kMajorArray) {
      return fail(atom_start_, std::string("not a ritma-ev@1 atom: found ") + major_name(major) +
                                   ", expected an array of 37");
    }
    if (arg != kFields) {
      return fail(atom_start_, "not a ritma-ev@1 atom: an array of " + std::to_string(arg) +
                                   ", expected 37");
    }
    items_ = 1 + kFields;

    // 0: the tag.
    field_ = 0;
    if (static_cast<size_t>(end_ - p_) >= sizeof kTagBytes &&
        std::memcmp(p_, kTagBytes, sizeof kTagBytes) == 0) [[likely]] {
      p_ += sizeof kTagBytes;
    } else {
      const uint8_t* at = p_;
      ByteSpan s;
      if (!text(s)) return false;
      return fail(at, "not a ritma-ev@1 atom: the version tag is \"" +
                          std::string(as_chars(s.first(std::min<size_t>(s.size(), 32)))) +
                          "\"");
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
    ByteSpan s;
    if (!text(s)) return false;
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
    items_ += argc;
    if (items_ > limits_.max_items_per_atom) {
      return fail(p_, "too many items in one atom (limit " +
                          std::to_string(limits_.max_items_per_atom) + ")");
    }
    for (uint64_t k = 0; k < argc; ++k) {
      if (!kernel_string()) return false;
    }
    for (field_ = 29; field_ <= 32; ++field_) {
      if (!uint_field(kU64, ignored)) return false;
    }
    // 33: [family, ip, port, unix_path].
    field_ = 33;
    if (!address()) return false;
    field_ = 34;
    if (!text(s)) return false;
    field_ = 35;
    if (!uint_field(kU16, ignored)) return false;
    field_ = 36;
    if (!uint_field(kU64, out.count)) return false;

    out.size = static_cast<uint32_t>(p_ - atom_start_);
    return true;
  }

 private:
  bool fail(const uint8_t* at, std::string what) {
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

  // An item's head, with every canonical-CBOR rule about heads (§3 rules 1 and 2, no tags, no
  // floats or simple values: an atom has none).
  bool head(uint8_t& major, uint64_t& arg) {
    const uint8_t* at = p_;
    if (p_ == end_) {
      return fail(at, "unexpected end of the block: the atom is incomplete (a partial item)");
    }
    const uint8_t initial = *p_++;
    major = static_cast<uint8_t>(initial >> 5);
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
    if (info < 24) [[likely]] {
      arg = info;
      return true;
    }
    const size_t width = size_t{1} << (info - 24);
    if (static_cast<size_t>(end_ - p_) < width) {
      return fail(at, "truncated head: argument needs " + std::to_string(width) +
                          " byte(s) but only " + std::to_string(end_ - p_) + " remain");
    }
    uint64_t v = 0;
    for (size_t k = 0; k < width; ++k) v = (v << 8) | p_[k];
    p_ += width;
    const uint64_t smallest = width == 1 ? 24 : uint64_t{1} << (4 * width);
    if (v < smallest) {
      return fail(at, std::string(major <= kMajorNegative ? "non-shortest integer encoding"
                                                          : "non-shortest length encoding") +
                          " (" + std::to_string(v) + " in " + std::to_string(width) +
                          " byte(s))");
    }
    arg = v;
    return true;
  }

  bool wrong_type(const uint8_t* at, uint8_t major, const char* want) {
    return fail(at, std::string("expected ") + want + ", found " + major_name(major));
  }

  bool uint_field(uint64_t max, uint64_t& v) {
    // Fast path: a small unsigned integer in the initial byte.
    if (p_ != end_ && *p_ < 24) [[likely]] {
      v = *p_++;
      return true;
    }
    const uint8_t* at = p_;
    uint8_t major = 0;
    if (!head(major, v)) return false;
    if (major != kMajorUnsigned) return wrong_type(at, major, "an unsigned integer");
    if (v > max) {
      return fail(at, "value " + std::to_string(v) + " out of range (at most " +
                          std::to_string(max) + ")");
    }
    return true;
  }

  bool int_field(int64_t& v) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t arg = 0;
    if (!head(major, arg)) return false;
    if (major != kMajorUnsigned && major != kMajorNegative) {
      return wrong_type(at, major, "an integer");
    }
    if (arg > kInt64Max) return fail(at, "integer outside the 64-bit signed range");
    v = major == kMajorUnsigned ? static_cast<int64_t>(arg) : -1 - static_cast<int64_t>(arg);
    return true;
  }

  // A string's content after its head: the declared length must fit in what remains (§3 rule
  // 5).
  bool content(const uint8_t* head_at, uint64_t length, ByteSpan& out) {
    if (length > static_cast<uint64_t>(end_ - p_)) {
      return fail(head_at, "declared length " + std::to_string(length) +
                               " larger than the remaining input (" +
                               std::to_string(end_ - p_) + " byte(s))");
    }
    out = ByteSpan(p_, static_cast<size_t>(length));
    p_ += length;
    return true;
  }

  bool fixed_bytes(size_t n, const uint8_t*& data) {
    const uint8_t* at = p_;
    if (p_ != end_ && *p_ == (0x40 | n) && static_cast<size_t>(end_ - p_) > n) [[likely]] {
      data = p_ + 1;
      p_ += 1 + n;
      return true;
    }
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorBytes) {
      return wrong_type(at, major, ("a byte string of " + std::to_string(n) + " bytes").c_str());
    }
    ByteSpan b;
    if (!content(at, len, b)) return false;
    if (len != n) {
      return fail(at, "a byte string of " + std::to_string(len) + " bytes, expected " +
                          std::to_string(n));
    }
    data = b.data();
    return true;
  }

  bool utf8_ok(ByteSpan s) {
    if (const auto problem = find_invalid_utf8(s)) {
      return fail(s.data() + problem->index,
                  std::string("invalid UTF-8 in text string: ") + problem->reason);
    }
    return true;
  }

  bool text(ByteSpan& s) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorText) return wrong_type(at, major, "a text string");
    if (!content(at, len, s)) return false;
    return utf8_ok(s);
  }

  // A kernel string (§9): text when it is valid UTF-8, bytes only when it is not.
  bool kernel_string() {
    const uint8_t* at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    ByteSpan s;
    if (major == kMajorText) {
      if (!content(at, len, s)) return false;
      return utf8_ok(s);
    }
    if (major == kMajorBytes) {
      if (!content(at, len, s)) return false;
      if (!find_invalid_utf8(s)) {
        return fail(at,
                    "a byte string holding valid UTF-8 (it must be encoded as a text string)");
      }
      return true;
    }
    return wrong_type(at, major, "a text or byte string");
  }

  bool array_head(uint64_t& count) {
    const uint8_t* at = p_;
    uint8_t major = 0;
    if (!head(major, count)) return false;
    if (major != kMajorArray) return wrong_type(at, major, "an array");
    // Every element takes at least one byte.
    if (count > static_cast<uint64_t>(end_ - p_)) {
      return fail(at, "declared length of " + std::to_string(count) +
                          " items larger than the remaining input (" +
                          std::to_string(end_ - p_) + " byte(s))");
    }
    return true;
  }

  bool address() {
    const uint8_t* at = p_;
    uint64_t n = 0;
    if (!array_head(n)) return false;
    if (n != 4) {
      return fail(at, "an array of " + std::to_string(n) +
                          ", expected [family, ip, port, unix path]");
    }
    items_ += 4;
    uint64_t family = 0;
    if (!uint_field(kU16, family)) return false;
    const uint8_t* ip_at = p_;
    uint8_t major = 0;
    uint64_t len = 0;
    if (!head(major, len)) return false;
    if (major != kMajorBytes) return wrong_type(ip_at, major, "an ip byte string");
    ByteSpan ip;
    if (!content(ip_at, len, ip)) return false;
    const uint64_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (len != want) {
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
  uint64_t items_ = 0;
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
    e.what = "trailing bytes after the atom (" + std::to_string(atom.size() - s.pos()) +
             " byte(s))";
    return e;
  }
  return std::nullopt;
}

// ---- leaf hashing

LeafHasher::LeafHasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
}

LeafHasher::~LeafHasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Hash32 LeafHasher::leaf_hash(ByteSpan leaf_data) {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  static constexpr uint8_t kLeafPrefix = 0x00;
  Hash32 out;
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, &kLeafPrefix, 1) != 1 ||
      EVP_DigestUpdate(ctx, leaf_data.data(), leaf_data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1) {
    std::abort();
  }
  return out;
}

}  // namespace ritma::seal
