// UTF-8 validation (RFC 3629), the one definition every format uses: CBOR text strings, signed
// note text, and the rule that kernel strings are text only when they are valid UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/bytes.h"

namespace ritma {

struct Utf8Problem {
  size_t index;        // byte offset within the string
  const char* reason;  // e.g. "overlong encoding", "surrogate code point"
};

// The first byte that makes `s` invalid UTF-8: overlong forms, surrogates, code points above
// U+10FFFF, stray or missing continuation bytes. nullopt when `s` is valid.
std::optional<Utf8Problem> find_invalid_utf8(ByteSpan s);

inline bool is_valid_utf8(std::string_view s) { return !find_invalid_utf8(as_bytes(s)); }

}  // namespace ritma
