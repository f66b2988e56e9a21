// UTF-8 validation with an ASCII fast path (text in Ritma's formats is mostly ASCII).
#include "core/utf8.h"

#include <cstdint>
#include <cstring>

namespace ritma {

std::optional<Utf8Problem> find_invalid_utf8(ByteSpan s) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Text in Ritma's formats is mostly ASCII; skip it eight bytes at a time.
    while (n - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == n) break;
    const uint8_t lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xbf;
    const char* second_reason = "invalid continuation byte";
    if (lead < 0xc0) return Utf8Problem{i, "unexpected continuation byte"};
    if (lead < 0xc2) return Utf8Problem{i, "overlong encoding"};
    if (lead < 0xe0) {
      length = 2;
    } else if (lead < 0xf0) {
      length = 3;
      if (lead == 0xe0) {
        second_min = 0xa0;
        second_reason = "overlong encoding";
      } else if (lead == 0xed) {
        second_max = 0x9f;
        second_reason = "surrogate code point";
      }
    } else if (lead < 0xf5) {
      length = 4;
      if (lead == 0xf0) {
        second_min = 0x90;
        second_reason = "overlong encoding";
      } else if (lead == 0xf4) {
        second_max = 0x8f;
        second_reason = "code point above U+10FFFF";
      }
    } else {
      return Utf8Problem{i, "byte that never occurs in UTF-8 (code point above U+10FFFF)"};
    }
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= n) return Utf8Problem{i, "truncated multi-byte sequence"};
      const uint8_t c = s[i + k];
      if (k == 1 && (c < second_min || c > second_max)) {
        return Utf8Problem{i + k, (c & 0xc0) == 0x80 ? second_reason : "invalid continuation byte"};
      }
      if ((c & 0xc0) != 0x80) return Utf8Problem{i + k, "invalid continuation byte"};
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace ritma
