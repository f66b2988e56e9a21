// zstd through libzstd's streaming API (so the output bound is enforced while decoding, not
// trusted from the frame header).
#include "core/zstd_codec.h"

#include <zstd.h>

#include <memory>

namespace ritma {

Result<Bytes> zstd_compress(ByteSpan data, int level) {
  Bytes out(ZSTD_compressBound(data.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) return make_error(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<Bytes> zstd_decompress(ByteSpan data, size_t max_output) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return make_error("zstd: out of memory");
  // Refuse frames that need a window larger than 128 MiB.
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);
  Bytes out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t last = 1;
  uint8_t buf[1 << 16];
  while (in.pos < in.size) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    last = ZSTD_decompressStream(dctx.get(), &ob, &in);
    if (ZSTD_isError(last)) {
      return make_error(std::string("zstd: corrupt input: ") + ZSTD_getErrorName(last));
    }
    if (out.size() + ob.pos > max_output) {
      return make_error("zstd: output exceeds the limit of " + std::to_string(max_output) +
                        " bytes");
    }
    out.insert(out.end(), buf, buf + ob.pos);
    if (ob.pos == 0 && in.pos < in.size && last != 0) continue;
  }
  // Flush whatever the decoder still holds for the final frame.
  while (last != 0) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    last = ZSTD_decompressStream(dctx.get(), &ob, &in);
    if (ZSTD_isError(last)) {
      return make_error(std::string("zstd: corrupt input: ") + ZSTD_getErrorName(last));
    }
    if (ob.pos == 0 && last != 0) return make_error("zstd: input is truncated");
    if (out.size() + ob.pos > max_output) {
      return make_error("zstd: output exceeds the limit of " + std::to_string(max_output) +
                        " bytes");
    }
    out.insert(out.end(), buf, buf + ob.pos);
  }
  return out;
}

}  // namespace ritma
