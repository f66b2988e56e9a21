// Canonical CBOR writer and strict decoder for Ritma's subset (see cbor.h). The decoder is the
// gate every artifact passes through before it is trusted, so it accepts exactly the bytes the
// writer produces and names the offset and the rule of the first thing it refuses.
//
// Written by hand on purpose: the libraries available to us (Debian's libcbor, nlohmann-json)
// decode non-canonical CBOR without complaint, and validating deterministic encoding is the
// whole point here.
#include "core/cbor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "core/utf8.h"

namespace ritma::cbor {
namespace {

constexpr uint8_t kMajorUnsigned = 0;
constexpr uint8_t kMajorNegative = 1;
constexpr uint8_t kMajorBytes = 2;
constexpr uint8_t kMajorText = 3;
constexpr uint8_t kMajorArray = 4;
constexpr uint8_t kMajorMap = 5;
constexpr uint8_t kMajorTag = 6;
constexpr uint8_t kMajorSimple = 7;

// Additional information values (the low five bits of an item's first byte).
constexpr uint8_t kInfoOneByteArg = 24;
constexpr uint8_t kInfoFirstReserved = 28;
constexpr uint8_t kInfoIndefinite = 31;
constexpr uint8_t kSimpleFalse = 20;
constexpr uint8_t kSimpleTrue = 21;
constexpr uint8_t kSimpleNull = 22;
constexpr uint8_t kSimpleUndefined = 23;

constexpr uint8_t kEncodedFalse = (kMajorSimple << 5) | kSimpleFalse;
constexpr uint8_t kEncodedTrue = (kMajorSimple << 5) | kSimpleTrue;
constexpr uint8_t kEncodedNull = (kMajorSimple << 5) | kSimpleNull;


// -1 if a < b, 0 if equal, 1 if a > b, bytewise lexicographic (RFC 8949 §4.2.1 key order).
int compare_bytewise(ByteSpan a, ByteSpan b) {
  const size_t common = std::min(a.size(), b.size());
  if (common != 0) {
    const int c = std::memcmp(a.data(), b.data(), common);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

struct Head {
  uint8_t major;
  uint8_t info;
  uint64_t arg;  // integer value, length, count, or (major 7) the simple value
};

// An array or map whose elements are still being read.
struct OpenContainer {
  bool is_map = false;
  size_t begin = 0;        // offset of its head, for error messages and key comparison
  uint64_t remaining = 0;  // items still to read (keys and values count separately)
  Value::Array items;
  Value::Map pairs;
  Value pending_key;
  bool have_pending_key = false;
  size_t previous_key_begin = 0;  // previous key's encoding, for the canonical-order check
  size_t previous_key_end = 0;
};

// One decode() call. Iterative, with an explicit stack of open containers bounded by
// limits.max_depth, so hostile nesting cannot exhaust the machine stack.
class Decoder {
 public:
  Decoder(ByteSpan in, const DecodeLimits& limits) : in_(in), limits_(limits) {}

  Result<Value> run() {
    if (in_.empty()) return fail(0, "empty input (expected exactly one item)");
    std::vector<OpenContainer> open;
    for (;;) {
      const size_t item_begin = pos_;
      if (pos_ == in_.size()) {
        // Only reachable inside a container: the top-level read starts on a non-empty input.
        const OpenContainer& c = open.back();
        return fail(pos_, std::string("unexpected end of input: the ") +
                              (c.is_map ? "map" : "array") + " at offset " +
                              std::to_string(c.begin) + " still expects " +
                              std::to_string(c.remaining) + " item(s)");
      }
      RITMA_ASSIGN_OR_RETURN(const Head head, read_head());
      if (++items_seen_ > limits_.max_items) {
        return fail(item_begin,
                    "too many items (limit max_items=" + std::to_string(limits_.max_items) + ")");
      }

      Value item;
      switch (head.major) {
        case kMajorUnsigned:
          item = Value::unsigned_int(head.arg);
          break;
        case kMajorNegative:
          item = Value::negative_int(head.arg);
          break;
        case kMajorBytes: {
          RITMA_ASSIGN_OR_RETURN(const ByteSpan content, take_content(item_begin, head.arg));
          item = Value::byte_string(Bytes(content.begin(), content.end()));
          break;
        }
        case kMajorText: {
          RITMA_ASSIGN_OR_RETURN(const ByteSpan content, take_content(item_begin, head.arg));
          if (const auto problem = find_invalid_utf8(content)) {
            const size_t at = static_cast<size_t>(content.data() - in_.data()) + problem->index;
            return fail(at, std::string("invalid UTF-8 in text string: ") + problem->reason);
          }
          item = Value::text_string(std::string(as_chars(content)));
          break;
        }
        case kMajorArray:
        case kMajorMap: {
          const bool is_map = head.major == kMajorMap;
          RITMA_TRY(check_container(item_begin, is_map, head.arg, open.size() + 1));
          if (head.arg == 0) {
            item = is_map ? Value::map({}) : Value::array({});
            break;
          }
          OpenContainer& c = open.emplace_back();
          c.is_map = is_map;
          c.begin = item_begin;
          c.remaining = is_map ? head.arg * 2 : head.arg;
          reserve_declared(c, head.arg);
          continue;
        }
        default:  // kMajorSimple; read_head() let through only false, true and null
          item = head.arg == kSimpleNull ? Value::null() : Value::boolean(head.arg == kSimpleTrue);
          break;
      }

      // Attach the finished item to its container; a container whose last item this was is
      // finished in turn and attached to its own parent.
      size_t finished_begin = item_begin;
      for (;;) {
        if (open.empty()) {
          if (pos_ != in_.size()) {
            return fail(pos_, "trailing bytes after the top-level item (" +
                                  std::to_string(in_.size() - pos_) + " byte(s))");
          }
          return item;
        }
        OpenContainer& c = open.back();
        if (!c.is_map) {
          c.items.push_back(std::move(item));
        } else if (!c.have_pending_key) {
          RITMA_TRY(check_key_order(c, finished_begin));
          c.pending_key = std::move(item);
          c.have_pending_key = true;
        } else {
          c.pairs.emplace_back(std::move(c.pending_key), std::move(item));
          c.have_pending_key = false;
        }
        if (--c.remaining != 0) break;
        item = c.is_map ? Value::map(std::move(c.pairs)) : Value::array(std::move(c.items));
        finished_begin = c.begin;
        open.pop_back();
      }
    }
  }

 private:
  Error fail(size_t offset, std::string_view rule) const {
    std::string message = "cbor: offset ";
    message += std::to_string(offset);
    message += ": ";
    message += rule;
    return make_error(std::move(message));
  }

  size_t remaining_bytes() const { return in_.size() - pos_; }

  // Reads an item's initial byte and argument, refusing anything outside the canonical subset.
  Result<Head> read_head() {
    const size_t at = pos_;
    const uint8_t initial = in_[pos_++];
    const auto major = static_cast<uint8_t>(initial >> 5);
    const auto info = static_cast<uint8_t>(initial & 0x1f);

    if (major == kMajorTag) return fail(at, "tag (major type 6) not allowed");
    if (info >= kInfoFirstReserved && info < kInfoIndefinite) {
      return fail(at, "reserved additional information " + std::to_string(info) +
                          " (values 28-30 are not well-formed)");
    }
    if (info == kInfoIndefinite) {
      return fail(at, major == kMajorSimple
                          ? "break stop code outside an indefinite length (indefinite lengths "
                            "not allowed)"
                          : "indefinite length not allowed");
    }
    if (major == kMajorSimple) {
      if (info == kSimpleFalse || info == kSimpleTrue || info == kSimpleNull) {
        return Head{major, info, info};
      }
      if (info == kSimpleUndefined) return fail(at, "simple value 23 (undefined) not allowed");
      if (info < kInfoOneByteArg) {
        return fail(at, "unassigned simple value " + std::to_string(info) + " not allowed");
      }
      if (info == kInfoOneByteArg) return fail(at, "two-byte simple value (0xf8) not allowed");
      return fail(at, "float not allowed (half, single and double precision are excluded)");
    }
    if (info < kInfoOneByteArg) return Head{major, info, info};

    const size_t width = size_t{1} << (info - kInfoOneByteArg);
    if (remaining_bytes() < width) {
      return fail(at, "truncated head: argument needs " + std::to_string(width) +
                          " byte(s) but only " + std::to_string(remaining_bytes()) + " remain");
    }
    uint64_t arg = 0;
    for (size_t k = 0; k < width; ++k) arg = (arg << 8) | in_[pos_++];
    // The smallest argument that needs this width: 24 for one byte, else 2^(4*width).
    const uint64_t smallest = width == 1 ? kInfoOneByteArg : uint64_t{1} << (4 * width);
    if (arg < smallest) {
      return fail(at, std::string(major <= kMajorNegative ? "non-shortest integer encoding"
                                                          : "non-shortest length encoding") +
                          " (" + std::to_string(arg) + " in " + std::to_string(width) +
                          " byte(s); deterministic encoding requires the shortest form)");
    }
    return Head{major, info, arg};
  }

  // The content of a byte or text string, checked against the input before anything is copied.
  Result<ByteSpan> take_content(size_t head_at, uint64_t length) {
    if (length > remaining_bytes()) {
      return fail(head_at, "declared length " + std::to_string(length) +
                               " larger than the remaining input (" +
                               std::to_string(remaining_bytes()) + " byte(s))");
    }
    const ByteSpan content = in_.subspan(pos_, static_cast<size_t>(length));
    pos_ += content.size();
    return content;
  }

  Status check_container(size_t head_at, bool is_map, uint64_t count, size_t depth) const {
    if (is_map && !limits_.allow_maps) return fail(head_at, "map not allowed by this schema");
    if (depth > limits_.max_depth) {
      return fail(head_at, "nesting deeper than max_depth=" + std::to_string(limits_.max_depth));
    }
    // Every element takes at least one byte, so a count the input cannot hold is a lie.
    const uint64_t most_elements = is_map ? remaining_bytes() / 2 : remaining_bytes();
    if (count > most_elements) {
      return fail(head_at, std::string("declared length of ") + std::to_string(count) +
                               (is_map ? " pairs" : " items") +
                               " larger than the remaining input (" +
                               std::to_string(remaining_bytes()) + " byte(s))");
    }
    return {};
  }

  // Reserves a container's declared size up front while the document's reservations stay
  // within one element per input byte; past that, elements are added as they arrive. A real
  // document always fits (its counts sum to fewer than its bytes), while nested headers that
  // each claim the rest of the input cannot multiply the allocation.
  void reserve_declared(OpenContainer& c, uint64_t count) {
    const uint64_t slots = c.is_map ? count * 2 : count;
    if (slots > reserve_budget_) return;
    reserve_budget_ -= slots;
    if (c.is_map) {
      c.pairs.reserve(static_cast<size_t>(count));
    } else {
      c.items.reserve(static_cast<size_t>(count));
    }
  }

  // The input is canonical up to here, so a key's encoding is exactly its input bytes.
  Status check_key_order(OpenContainer& map, size_t key_begin) const {
    const ByteSpan key = in_.subspan(key_begin, pos_ - key_begin);
    if (!map.pairs.empty()) {
      const ByteSpan previous =
          in_.subspan(map.previous_key_begin, map.previous_key_end - map.previous_key_begin);
      const int order = compare_bytewise(previous, key);
      if (order == 0) return fail(key_begin, "duplicate map key");
      if (order > 0) {
        return fail(key_begin,
                    "map keys not in canonical order (bytewise order of their encodings)");
      }
    }
    map.previous_key_begin = key_begin;
    map.previous_key_end = pos_;
    return {};
  }

  ByteSpan in_;
  const DecodeLimits& limits_;
  size_t pos_ = 0;
  uint64_t items_seen_ = 0;
  uint64_t reserve_budget_ = in_.size();
};

}  // namespace

void Writer::head(uint8_t major, uint64_t arg) {
  const auto type_bits = static_cast<uint8_t>(major << 5);
  if (arg < kInfoOneByteArg) {
    out_.push_back(static_cast<uint8_t>(type_bits | arg));
    return;
  }
  uint8_t info;
  size_t width;
  if (arg <= 0xff) {
    info = 24, width = 1;
  } else if (arg <= 0xffff) {
    info = 25, width = 2;
  } else if (arg <= 0xffffffff) {
    info = 26, width = 4;
  } else {
    info = 27, width = 8;
  }
  uint8_t encoded[9];
  encoded[0] = static_cast<uint8_t>(type_bits | info);
  for (size_t k = 0; k < width; ++k) {
    encoded[1 + k] = static_cast<uint8_t>(arg >> (8 * (width - 1 - k)));
  }
  out_.insert(out_.end(), encoded, encoded + 1 + width);
}

void Writer::uint(uint64_t v) {
  head(kMajorUnsigned, v);
}

void Writer::int64(int64_t v) {
  if (v >= 0) {
    head(kMajorUnsigned, static_cast<uint64_t>(v));
  } else {
    head(kMajorNegative, static_cast<uint64_t>(-1 - v));  // cannot overflow, even for INT64_MIN
  }
}

void Writer::negative(uint64_t n) {
  head(kMajorNegative, n);
}

void Writer::bytes(ByteSpan b) {
  head(kMajorBytes, b.size());
  append(out_, b);
}

void Writer::text(std::string_view s) {
  head(kMajorText, s.size());
  append(out_, s);
}

void Writer::array(uint64_t count) {
  head(kMajorArray, count);
}
void Writer::map(uint64_t pairs) {
  head(kMajorMap, pairs);
}
void Writer::boolean(bool b) {
  out_.push_back(b ? kEncodedTrue : kEncodedFalse);
}
void Writer::null() {
  out_.push_back(kEncodedNull);
}

Value Value::unsigned_int(uint64_t v) {
  Value out;
  out.type_ = Type::kUnsigned;
  out.data_.emplace<uint64_t>(v);
  return out;
}

Value Value::negative_int(uint64_t n) {
  Value out;
  out.type_ = Type::kNegative;
  out.data_.emplace<uint64_t>(n);
  return out;
}

Value Value::integer(int64_t v) {
  if (v >= 0) return unsigned_int(static_cast<uint64_t>(v));
  return negative_int(static_cast<uint64_t>(-1 - v));
}

Value Value::byte_string(Bytes b) {
  Value out;
  out.type_ = Type::kBytes;
  out.data_.emplace<Bytes>(std::move(b));
  return out;
}

Value Value::text_string(std::string s) {
  Value out;
  out.type_ = Type::kText;
  out.data_.emplace<std::string>(std::move(s));
  return out;
}

Value Value::array(Array items) {
  Value out;
  out.type_ = Type::kArray;
  out.data_.emplace<Array>(std::move(items));
  return out;
}

Value Value::map(Map pairs) {
  Value out;
  out.type_ = Type::kMap;
  out.data_.emplace<Map>(std::move(pairs));
  return out;
}

Value Value::boolean(bool b) {
  Value out;
  out.type_ = Type::kBool;
  out.data_.emplace<bool>(b);
  return out;
}

Value Value::null() {
  return Value();
}

Result<int64_t> Value::to_int64() const {
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (type_ == Type::kUnsigned) {
    if (as_uint() > kMax)
      return make_error("cbor: integer " + std::to_string(as_uint()) + " does not fit in int64");
    return static_cast<int64_t>(as_uint());
  }
  if (type_ == Type::kNegative) {
    if (negative_n() > kMax) return make_error("cbor: negative integer does not fit in int64");
    return -1 - static_cast<int64_t>(negative_n());
  }
  return make_error("cbor: expected an integer");
}

Result<Value> decode(ByteSpan in, const DecodeLimits& limits) {
  return Decoder(in, limits).run();
}

void encode_to(const Value& v, Writer& w) {
  switch (v.type()) {
    case Type::kUnsigned:
      w.uint(v.as_uint());
      break;
    case Type::kNegative:
      w.negative(v.negative_n());
      break;
    case Type::kBytes:
      w.bytes(v.as_bytes());
      break;
    case Type::kText:
      w.text(v.as_text());
      break;
    case Type::kArray:
      w.array(v.as_array().size());
      for (const Value& item : v.as_array()) encode_to(item, w);
      break;
    case Type::kMap:
      w.map(v.as_map().size());
      for (const auto& [key, value] : v.as_map()) {
        encode_to(key, w);
        encode_to(value, w);
      }
      break;
    case Type::kBool:
      w.boolean(v.as_bool());
      break;
    case Type::kNull:
      w.null();
      break;
  }
}

Bytes encode(const Value& v) {
  Bytes out;
  Writer w(out);
  encode_to(v, w);
  return out;
}

}  // namespace ritma::cbor
