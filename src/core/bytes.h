// Byte buffers, fixed-size digests and their text forms (hex, base64), used by every format.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ritma {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;
using Hash32 = std::array<uint8_t, 32>;

inline ByteSpan as_bytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view as_chars(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
inline void append(Bytes& out, ByteSpan b) {
  out.insert(out.end(), b.begin(), b.end());
}
inline void append(Bytes& out, std::string_view s) {
  append(out, as_bytes(s));
}

// Lowercase hexadecimal.
std::string to_hex(ByteSpan b);
// Accepts upper or lower case; fails on odd length or a non-hex character.
Result<Bytes> from_hex(std::string_view hex);
Result<Hash32> hash32_from_hex(std::string_view hex);

// Standard base64 with padding (RFC 4648 §4), as C2SP signed notes use.
std::string to_base64(ByteSpan b);
// Strict: rejects missing padding, whitespace and characters outside the alphabet.
Result<Bytes> from_base64(std::string_view b64);

}  // namespace ritma
