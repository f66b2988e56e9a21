// libFuzzer target for the binary containers around CBOR: framed append-only files and bounded
// zstd decompression. Frames found must tile the valid prefix exactly; decompression must stay
// within its bound.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/frame_log.h"
#include "core/zstd_codec.h"

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "frame_zstd_fuzz: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ritma::ByteSpan in(data, size);
  const ritma::FrameScan scan = ritma::scan_frames(in, 1 << 16);
  uint64_t pos = 0;
  for (size_t i = 0; i < scan.frames.size(); ++i) {
    if (scan.offsets[i] != pos) fail("frames do not tile the input");
    pos += 4 + scan.frames[i].size();
  }
  if (pos != scan.valid_end) fail("valid_end does not match the frames");
  if (scan.torn.has_value() == (scan.valid_end == size)) fail("torn flag inconsistent");

  constexpr size_t kLimit = 1 << 20;
  auto out = ritma::zstd_decompress(in, kLimit);
  if (out.ok() && out->size() > kLimit) fail("decompression exceeded its bound");
  return 0;
}
