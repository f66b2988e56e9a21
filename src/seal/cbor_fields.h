// Reading the fields of a tagged CBOR array record strictly, with errors that name the record,
// the field's index and name, and what it should have been ("proof: field 3 (leaf_index) is not
// an unsigned integer"). Shared by the decoders of the proof and pack formats.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/cbor.h"
#include "core/merkle.h"
#include "core/result.h"
#include "seal/event_proof.h"

namespace ritma::seal {

inline void put_path(cbor::Writer& w, const merkle::Proof& path) {
  w.array(path.size());
  for (const Hash32& h : path) w.bytes(h);
}

struct FieldReader {
  std::string_view what;  // the record, as errors name it

  using Array = cbor::Value::Array;

  Error error(const std::string& msg) const { return make_error(std::string(what) + ": " + msg); }
  Error field_error(size_t i, const char* name, const std::string& want) const {
    return error("field " + std::to_string(i) + " (" + name + ") is not " + want);
  }
  // The top-level array: its first element the tag, exactly `fields` elements.
  Result<const Array*> tagged_array(const cbor::Value& v, std::string_view tag,
                                    size_t fields) const {
    if (!v.is_array()) return error("not an array");
    const auto& a = v.as_array();
    if (a.empty() || a[0].type() != cbor::Type::kText || a[0].as_text() != tag)
      return error("tag is not \"" + std::string(tag) + "\"");
    if (a.size() != fields)
      return error(std::to_string(a.size()) + " fields, expected " + std::to_string(fields));
    return &a;
  }
  Result<uint64_t> get_uint(const Array& a, size_t i, const char* name) const {
    if (!a[i].is_unsigned()) return field_error(i, name, "an unsigned integer");
    return a[i].as_uint();
  }
  Result<int64_t> get_int(const Array& a, size_t i, const char* name) const {
    if (a[i].type() != cbor::Type::kUnsigned && a[i].type() != cbor::Type::kNegative)
      return field_error(i, name, "an integer");
    auto v = a[i].to_int64();
    if (!v.ok()) return field_error(i, name, "a 64-bit signed integer");
    return *v;
  }
  Result<std::string> get_text(const Array& a, size_t i, const char* name) const {
    if (a[i].type() != cbor::Type::kText) return field_error(i, name, "a text string");
    return a[i].as_text();
  }
  Result<Bytes> get_bytes(const Array& a, size_t i, const char* name) const {
    if (a[i].type() != cbor::Type::kBytes) return field_error(i, name, "a byte string");
    return a[i].as_bytes();
  }
  template <size_t N>
  Result<std::array<uint8_t, N>> get_fixed(const Array& a, size_t i, const char* name) const {
    if (a[i].type() != cbor::Type::kBytes || a[i].as_bytes().size() != N)
      return field_error(i, name, "a byte string of " + std::to_string(N) + " bytes");
    std::array<uint8_t, N> x{};
    std::copy(a[i].as_bytes().begin(), a[i].as_bytes().end(), x.begin());
    return x;
  }
  // An array of 32-byte hashes, at most kMaxProofPathHashes.
  Result<merkle::Proof> get_path(const Array& a, size_t i, const char* name) const {
    if (!a[i].is_array()) return field_error(i, name, "an array of 32-byte hashes");
    const auto& items = a[i].as_array();
    if (items.size() > kMaxProofPathHashes)
      return field_error(i, name,
                         "a path of at most " + std::to_string(kMaxProofPathHashes) +
                             " hashes (it has " + std::to_string(items.size()) + ")");
    merkle::Proof path;
    path.reserve(items.size());
    for (const auto& h : items) {
      if (h.type() != cbor::Type::kBytes || h.as_bytes().size() != 32)
        return field_error(i, name, "an array of 32-byte hashes");
      Hash32 x{};
      std::copy(h.as_bytes().begin(), h.as_bytes().end(), x.begin());
      path.push_back(x);
    }
    return path;
  }
};

}  // namespace ritma::seal
