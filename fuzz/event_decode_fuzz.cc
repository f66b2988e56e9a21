// libFuzzer target for what the sensor decodes: ring-buffer records (sizes and kinds checked
// before any field is read) and ritma-ev@1 atoms (whatever is accepted must re-encode to the
// same bytes: one event, one encoding).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "capture/event_atom.h"
#include "capture/record_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ritma::ByteSpan in(data, size);
  ritma::capture::Event e;
  (void)ritma::capture::decode_record(in, e);
  (void)ritma::capture::parse_dns_question(in);
  ritma::capture::BootId boot{};
  auto atom = ritma::capture::decode_event_atom(in, &boot);
  if (atom.ok()) {
    ritma::Bytes again;
    ritma::capture::encode_event_atom(*atom, boot, again);
    if (again != ritma::Bytes(data, data + size)) {
      std::fprintf(stderr, "event_decode_fuzz: accepted atom does not re-encode identically\n");
      std::abort();
    }
  }
  return 0;
}
