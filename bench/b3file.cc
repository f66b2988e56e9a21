// b3file: prints the BLAKE3 digest of one file the way `b3sum` does ("<hex>  <path>"), using
// ritma::blake3_file (mmap, one thread). It exists so blake3_vs_b3sum.sh can time our file
// hashing against b3sum on the same file.
#include <cstdio>

#include "core/blake3_hasher.h"
#include "core/bytes.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: b3file FILE\n");
    return 2;
  }
  const auto digest = ritma::blake3_file(argv[1]);
  if (!digest.ok()) {
    std::fprintf(stderr, "b3file: %s\n", digest.error().message.c_str());
    return 1;
  }
  std::printf("%s  %s\n", ritma::to_hex(*digest).c_str(), argv[1]);
  return 0;
}
