// zstd compression of sealed blocks. Decompression is bounded: a caller states the largest
// output it will accept, so a hostile frame cannot exhaust memory.
#pragma once

#include "core/bytes.h"
#include "core/result.h"

namespace ritma {

Result<Bytes> zstd_compress(ByteSpan data, int level = 3);
// Decompresses one or more concatenated zstd frames; fails on corrupt input, on trailing
// garbage, or when the output would exceed max_output bytes.
Result<Bytes> zstd_decompress(ByteSpan data, size_t max_output);

}  // namespace ritma
