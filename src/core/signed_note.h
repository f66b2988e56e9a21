// C2SP signed notes and tlog checkpoints.
//
// A note is a UTF-8 text body ending in a newline, a blank line, then one signature line per
// signer: "— <key name> <base64(4-byte key id || signature)>\n" (U+2014 EM DASH, a space).
// An Ed25519 signature is over the body's bytes. Verifiers ignore signatures from keys they do
// not know, which is what lets outside witnesses cosign.
//
// A checkpoint (C2SP tlog-checkpoint) is a note whose body is
//   <origin>\n<tree size, decimal>\n<base64 root hash>\n[extension lines\n]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/key_file.h"
#include "core/result.h"

namespace ritma::note {

// Signs `body` (which must be valid note text ending in '\n') with each key in order.
Result<std::string> sign(std::string_view body, const std::vector<const NamedSigningKey*>& keys);

struct VerifiedNote {
  std::string body;
  std::vector<std::string> verified_by;  // names of the known keys whose signatures verified
  size_t unknown_signatures = 0;         // lines from keys not in the verifier list (ignored)
};

// Parses and verifies a note against the known keys. Fails when the text is malformed, when a
// signature from a known key (name and key id match) does not verify, or when no known key
// signed it.
Result<VerifiedNote> open(std::string_view note_text, const std::vector<NamedPublicKey>& known);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash32 root{};
  std::vector<std::string> extensions;  // extra body lines, without their newlines
};

std::string checkpoint_body(const Checkpoint& c);
// Strict: decimal size without leading zeros, base64 root of exactly 32 bytes, non-empty lines.
Result<Checkpoint> parse_checkpoint_body(std::string_view body);

}  // namespace ritma::note
