// Canonical CBOR (RFC 8949 §4.2.1, core deterministic encoding) for the subset Ritma's formats
// use: unsigned and negative integers, byte strings, UTF-8 text strings, arrays, maps (only
// where a schema allows them; never in hashed bytes), false, true and null. No tags, no floats,
// no undefined, no indefinite lengths.
//
// The encoder always writes the shortest form. The decoder is strict: it rejects anything the
// encoder would not have produced, so every accepted input has exactly one encoding and
// re-encoding a decoded value gives back the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma::cbor {

// Appends canonical CBOR items to a caller-owned buffer. Arrays and maps are written as a
// header with their element count followed by the elements, which the caller writes next.
class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}
  void uint(uint64_t v);
  void int64(int64_t v);
  void negative(uint64_t n);  // the value -1 - n, for the range below INT64_MIN
  void bytes(ByteSpan b);
  void text(std::string_view s);  // s must be valid UTF-8
  void array(uint64_t count);
  void map(uint64_t pairs);
  void boolean(bool b);
  void null();

 private:
  void head(uint8_t major, uint64_t arg);
  Bytes& out_;
};

enum class Type : uint8_t { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kBool, kNull };

// A decoded item. Negative integers hold n where the value is -1 - n (so the full CBOR range
// -2^64..-1 is representable).
class Value {
 public:
  using Array = std::vector<Value>;
  using Map = std::vector<std::pair<Value, Value>>;  // in canonical (sorted) key order

  static Value unsigned_int(uint64_t v);
  static Value negative_int(uint64_t n);  // the value -1 - n
  static Value integer(int64_t v);
  static Value byte_string(Bytes b);
  static Value text_string(std::string s);
  static Value array(Array items);
  static Value map(Map pairs);
  static Value boolean(bool b);
  static Value null();

  Type type() const { return type_; }
  bool is_unsigned() const { return type_ == Type::kUnsigned; }
  bool is_array() const { return type_ == Type::kArray; }

  // Each accessor requires the matching type().
  uint64_t as_uint() const { return std::get<uint64_t>(data_); }
  uint64_t negative_n() const { return std::get<uint64_t>(data_); }
  const Bytes& as_bytes() const { return std::get<Bytes>(data_); }
  const std::string& as_text() const { return std::get<std::string>(data_); }
  const Array& as_array() const { return std::get<Array>(data_); }
  const Map& as_map() const { return std::get<Map>(data_); }
  bool as_bool() const { return std::get<bool>(data_); }

  // Integer value if it fits in int64_t.
  Result<int64_t> to_int64() const;

 private:
  Type type_ = Type::kNull;
  std::variant<std::monostate, uint64_t, Bytes, std::string, Array, Map, bool> data_;
};

struct DecodeLimits {
  size_t max_depth = 16;          // nesting of arrays/maps; the top-level item is depth 1
  bool allow_maps = false;        // the formats' hashed bytes never contain maps
  uint64_t max_items = 1u << 22;  // total items in one document (defends against bombs)
};

// Decodes exactly one item that spans all of `in`. Errors name the byte offset and the rule
// broken: non-shortest integer or length, indefinite length, map where none is allowed, map
// keys not in canonical order or duplicated, trailing bytes, nesting deeper than the limit,
// a declared length longer than the remaining input, invalid UTF-8, a tag, a float, or an
// unassigned simple value.
Result<Value> decode(ByteSpan in, const DecodeLimits& limits = {});

// Canonical encoding of a value (what Writer would produce).
Bytes encode(const Value& v);
void encode_to(const Value& v, Writer& w);

}  // namespace ritma::cbor
