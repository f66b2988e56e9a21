// libFuzzer target for the strict CBOR decoder. Whatever decode() accepts must be canonical, so
// re-encoding it must give back the input byte for byte; and its JSON view must render.
// Any crash, sanitizer report or mismatch aborts, which fails the run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/cbor.h"
#include "core/cbor_json.h"

namespace {

using ritma::ByteSpan;
using ritma::cbor::DecodeLimits;
using ritma::cbor::Value;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "cbor_decode_fuzz: %s\n", what);
  std::abort();
}

// Decodes under `limits`; on success checks the round trip and the JSON view.
bool check_decode(ByteSpan in, const DecodeLimits& limits) {
  auto decoded = ritma::cbor::decode(in, limits);
  if (!decoded.ok()) {
    if (decoded.error().message.empty()) fail("decode failed without a message");
    return false;
  }
  const ritma::Bytes reencoded = ritma::cbor::encode(*decoded);
  if (reencoded.size() != in.size() ||
      !std::equal(reencoded.begin(), reencoded.end(), in.begin())) {
    fail("encode(decode(x)) != x");
  }
  // dump() throws on invalid UTF-8, so this also cross-checks the decoder's UTF-8 validation;
  // an uncaught exception aborts.
  (void)ritma::cbor::to_json(*decoded).dump();
  (void)decoded->to_int64();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  DecodeLimits no_maps;
  DecodeLimits with_maps;
  with_maps.allow_maps = true;
  const bool accepted_without_maps = check_decode(in, no_maps);
  const bool accepted_with_maps = check_decode(in, with_maps);
  // Allowing maps only ever widens what is accepted.
  if (accepted_without_maps && !accepted_with_maps) {
    fail("allow_maps=true rejected a map-free input");
  }
  return 0;
}
