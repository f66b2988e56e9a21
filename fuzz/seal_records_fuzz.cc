// libFuzzer target for what `ritma verify --store` and the sealer parse from disk: micro
// records, hour roots, chain links, keys, store records, signatures, time-index entries,
// catalogs, accounting records and retention records (strict CBOR; whatever is accepted must
// re-encode to the same bytes), and block contents through the atom scanner (which must agree with
// the strict atom decoder on every atom it accepts).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "capture/event_atom.h"
#include "round_trip.h"
#include "seal/atom_scan.h"
#include "seal/derived.h"
#include "seal/retention.h"
#include "seal/seal_format.h"

namespace {

template <typename Decode>
void round_trip(ritma::ByteSpan in, Decode decode, const char* what) {
  ritma::fuzz::round_trip(in, decode, "seal_records_fuzz", what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ritma::seal;
  const ritma::ByteSpan in(data, size);
  round_trip(in, decode_micro, "micro record");
  round_trip(in, decode_hour, "hour root");
  round_trip(in, decode_chain, "chain link");
  round_trip(in, decode_keys, "keys record");
  round_trip(in, decode_store, "store record");
  round_trip(in, decode_signature, "signature");
  round_trip(in, decode_time_index_entry, "time index entry");
  round_trip(in, decode_catalog, "catalog");
  round_trip(in, decode_account, "accounting record");
  round_trip(in, decode_retention, "retention record");
  std::vector<ScannedAtom> atoms;
  (void)scan_atoms(in, atoms);
  for (const auto& a : atoms) {
    if (!ritma::capture::decode_event_atom(a.bytes(in)).ok()) {
      std::fprintf(stderr, "seal_records_fuzz: the scanner accepted an atom the decoder refuses\n");
      std::abort();
    }
  }
  return 0;
}
