// libFuzzer target for the text parsers of signed notes: note verification (against a fixed
// known key), checkpoint bodies and C2SP key strings. Anything accepted must round-trip through
// the matching formatter; nothing may crash, hang or accept without a verified signature.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/key_file.h"
#include "core/signed_note.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "note_parse_fuzz: %s\n", what);
  std::abort();
}

const ritma::NamedPublicKey& known_key() {
  static const ritma::NamedPublicKey key = [] {
    ritma::Bytes seed(32, 7);
    auto k = ritma::SigningKey::from_seed(seed);
    if (!k.ok()) fail("seed");
    return ritma::NamedPublicKey{"fuzz-log", k->public_key(), 0};
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto opened = ritma::note::open(text, {known_key()});
  if (opened.ok() && opened->verified_by.empty()) fail("note accepted with no verified signer");

  auto cp = ritma::note::parse_checkpoint_body(text);
  if (cp.ok() && ritma::note::checkpoint_body(*cp) != text) fail("checkpoint did not round-trip");

  auto pub = ritma::parse_public_key(text);
  if (pub.ok()) {
    const std::string again = ritma::format_public_key(pub->name, pub->key);
    if (text != again && text != again + "\n") fail("public key did not round-trip");
  }
  (void)ritma::parse_private_key(text);
  return 0;
}
