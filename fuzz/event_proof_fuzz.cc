// libFuzzer target for what `ritma verify-event` reads from an untrusted file: the
// `ritma-evproof@1` decoder (whatever it accepts must re-encode to the same bytes) and the whole
// verifier over it (store, keys, atom, micro record, signatures, both inclusion paths, the
// checkpoint note), unpinned and pinned to the proof's own first key.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "seal/event_proof.h"
#include "seal/seal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ritma::seal;
  const ritma::ByteSpan in(data, size);
  auto proof = decode_event_proof(in);
  if (!proof.ok()) return 0;
  if (encode(*proof) != ritma::Bytes(in.begin(), in.end())) {
    std::fprintf(stderr, "event_proof_fuzz: accepted proof does not re-encode identically\n");
    std::abort();
  }
  auto unpinned = verify_event_proof(in);
  if (auto keys = decode_keys(proof->keys); keys.ok() && !keys->keys.empty()) {
    auto pinned = verify_event_proof(in, ritma::key_fingerprint(keys->keys.front().public_key));
    // Pinning the first key trusts every key the unpinned check trusts: the outcomes agree.
    if (pinned.ok() != unpinned.ok()) {
      std::fprintf(stderr, "event_proof_fuzz: pinning the first key changed the outcome\n");
      std::abort();
    }
  }
  return 0;
}
