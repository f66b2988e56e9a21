// Hex and base64 through libsodium's constant-time codecs.
#include "core/bytes.h"

#include <sodium.h>

namespace ritma {

std::string to_hex(ByteSpan b) {
  if (b.empty()) return {};
  std::string out(b.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), b.data(), b.size());
  out.pop_back();
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error("hex string has odd length");
  if (hex.empty()) return Bytes{};  // libsodium's codecs require non-null buffers
  Bytes out(hex.size() / 2);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != out.size() || end != hex.data() + hex.size()) {
    return make_error("invalid hex string");
  }
  return out;
}

Result<Hash32> hash32_from_hex(std::string_view hex) {
  if (hex.size() != 64) return make_error("expected 64 hex characters for a 32-byte hash");
  RITMA_ASSIGN_OR_RETURN(Bytes b, from_hex(hex));
  Hash32 h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

std::string to_base64(ByteSpan b) {
  if (b.empty()) return {};
  const size_t n = sodium_base64_encoded_len(b.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(n, '\0');
  sodium_bin2base64(out.data(), n, b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(n - 1);  // drop the terminating NUL
  return out;
}

Result<Bytes> from_base64(std::string_view b64) {
  if (b64.empty()) return Bytes{};
  Bytes out(b64.size() / 4 * 3 + 3);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size()) {
    return make_error("invalid base64");
  }
  out.resize(len);
  // Only the canonical spelling is accepted (zero padding bits, nothing skipped), so one
  // value has one text form and signed text cannot be varied without changing its bytes.
  if (to_base64(out) != b64) return make_error("invalid base64: not in canonical form");
  return out;
}

}  // namespace ritma
