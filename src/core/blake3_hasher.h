// BLAKE3 (content addressing, file digests, audit chaining) over the official C
// implementation, which picks SSE2/SSE4.1/AVX2/AVX-512 code at run time.
#pragma once

#include <blake3.h>

#include <filesystem>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma {

// Incremental hasher. Plain (unkeyed), keyed (32-byte key) or derive-key mode.
class Blake3Hasher {
 public:
  Blake3Hasher();
  static Blake3Hasher keyed(const Hash32& key);

  void update(ByteSpan data);
  void update(std::string_view data) { update(as_bytes(data)); }
  // Does not consume the state: more update() calls may follow.
  Hash32 finalize() const;

 private:
  blake3_hasher state_;
};

Hash32 blake3(ByteSpan data);
Hash32 blake3_keyed(const Hash32& key, ByteSpan data);

// Hashes a whole file. Regular files are mapped (mmap) and hashed in place; anything else is
// read in chunks. Fails with the path and errno text.
Result<Hash32> blake3_file(const std::filesystem::path& path);

}  // namespace ritma
