// What the record fuzzers check of every decoder: an input it accepts must re-encode to the
// same bytes (the encodings are canonical), or the fuzzer aborts naming the record.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "core/bytes.h"

namespace ritma::fuzz {

template <typename Decode>
void round_trip(ByteSpan in, Decode decode, const char* fuzzer, const char* what) {
  auto r = decode(in);
  if (!r.ok()) return;
  const Bytes again = encode(*r);  // found by argument-dependent lookup (the record type)
  if (again != Bytes(in.begin(), in.end())) {
    std::fprintf(stderr, "%s: accepted %s does not re-encode identically\n", fuzzer, what);
    std::abort();
  }
}

}  // namespace ritma::fuzz
