// libFuzzer target for the case files (docs/FORMAT.md §13) that `ritma case`, retention's
// load_freezes and the sealer parse from disk: case headers, freezes, manifests, access-log
// records and frames (strict CBOR; whatever is accepted must re-encode to the same bytes), and
// the stem-path parser of catalog entries.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "round_trip.h"
#include "seal/cases.h"
#include "seal/derived.h"

namespace {

template <typename Decode>
void round_trip(ritma::ByteSpan in, Decode decode, const char* what) {
  ritma::fuzz::round_trip(in, decode, "case_records_fuzz", what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ritma::seal;
  const ritma::ByteSpan in(data, size);
  round_trip(in, decode_case_header, "case header");
  round_trip(in, decode_case_freezes, "case freezes");
  round_trip(in, decode_case_manifest, "case manifest");
  round_trip(in, decode_access_record, "access record");
  if (auto f = decode_access_frame(in); f.ok()) {
    if (ritma::seal::encode(f->record) != f->record_bytes) {
      std::fprintf(stderr, "case_records_fuzz: an access frame's record does not re-encode\n");
      std::abort();
    }
  }
  if (size <= 256) {
    CatalogWindow w;
    w.stem_path.assign(reinterpret_cast<const char*>(data), size);
    (void)catalog_window_span(w, kDefaultWindowNs);
    (void)check_case_id(w.stem_path);
  }
  return 0;
}
