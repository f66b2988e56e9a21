// Requiem's signed result bundle (docs/REQUIEM.md Part C):
//
//   * an in-toto Statement v1 (JSON) whose subjects are the run's outputs, each with its
//     sha256 and blake3 digests, and whose predicate the caller builds;
//   * the Statement in a DSSE envelope, signed with Ed25519 over
//     PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body;
//     the signature's keyid is the Ritma key fingerprint (core/ed25519.h key_fingerprint). The
//     keyid is only a hint: a verifier tries every pinned key;
//   * an in-toto link (v0.9 metadata) signed over the securesystemslib canonical JSON of its
//     "signed" object, with the securesystemslib key id of the Ed25519 key, which Debian's
//     stock `in-toto-verify` (1.3.x) accepts; file name "<name>.<keyid[:8]>.link".
//
// Every parser here takes hostile bytes: JSON is parsed strictly (size and depth limits,
// duplicate keys refused, valid UTF-8 only) and every failure names what failed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/key_file.h"
#include "core/result.h"

namespace ritma::exec {

inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kRequiemPredicateType = "https://ritma.dev/requiem/result/v1";
inline constexpr std::string_view kDssePayloadType = "application/vnd.in-toto+json";

// ---- strict JSON --------------------------------------------------------------------------

struct JsonLimits {
  size_t max_bytes = size_t{16} << 20;  // the whole text
  size_t max_depth = 64;                // nesting of arrays and objects
};

// RFC 8259 JSON, strictly: exactly one value, no comments, no trailing bytes, valid UTF-8,
// no duplicate object keys, at most `limits`. Errors name the byte offset or the key.
Result<nlohmann::json> parse_json_strict(std::string_view text, const JsonLimits& limits = {});

// ---- securesystemslib canonical JSON ------------------------------------------------------

// The canonical JSON of securesystemslib's encode_canonical (formats.py), as UTF-8 bytes:
// object keys sorted by code point (= by UTF-8 bytes), no whitespace, integers in decimal,
// true/false/null, strings in double quotes with only '\' and '"' escaped (each by a
// backslash; every other character, control characters included, is written raw). Refuses
// floating-point numbers, binary values, invalid UTF-8 and nesting deeper than max_depth,
// naming the JSON path of the offending value.
Result<std::string> canonical_json(const nlohmann::json& value, size_t max_depth = 64);

// ---- digests ------------------------------------------------------------------------------

// Algorithm name -> lowercase hex digest, e.g. {"blake3": "...", "sha256": "..."}.
using DigestSet = std::map<std::string, std::string>;

DigestSet digests_of(ByteSpan content);  // sha256 and blake3
Result<DigestSet> digests_of_file(const std::filesystem::path& path);

// ---- in-toto Statement v1 -----------------------------------------------------------------

struct Subject {
  std::string name;
  DigestSet digest;  // must hold at least sha256 (in-toto tooling expects it)
};

// {"_type": kStatementType, "subject": [{"name", "digest"}...], "predicateType", "predicate"}.
// Refuses a subject without a name or a sha256, a digest that is not lowercase hex, or a
// predicate that is not an object.
Result<nlohmann::json> make_statement(const std::vector<Subject>& subjects,
                                      std::string_view predicate_type,
                                      const nlohmann::json& predicate);
// Checks the shape of a Statement v1 (the same rules), e.g. one taken from an envelope.
Status check_statement(const nlohmann::json& statement);

// ---- DSSE ---------------------------------------------------------------------------------

// "DSSEv1" SP len(type) SP type SP len(body) SP body; lengths in ASCII decimal bytes.
Bytes dsse_pae(std::string_view payload_type, ByteSpan payload);

// The DSSE envelope, as compact JSON text (keys in the order payload, payloadType,
// signatures): the Statement serialized as compact UTF-8 JSON is the payload, signed once
// with `key` (keyid = key_fingerprint(public key)).
Result<std::string> sign_envelope(const nlohmann::json& statement, const SigningKey& key);

struct VerifiedEnvelope {
  nlohmann::json statement;  // the parsed, shape-checked Statement
  Bytes payload;             // its exact bytes, as signed
  PublicKey key{};           // the pinned key whose signature verified
  std::string keyid;         // the keyid that signature carried ("" if none)
};

// Parses `envelope_text` strictly and accepts it when a signature verifies under one of the
// pinned keys; then parses the payload as a Statement v1. The error names what failed: the
// envelope JSON, a field, the payload type, the base64 of the payload or a signature, the
// signature itself, or the Statement.
Result<VerifiedEnvelope> verify_envelope(std::string_view envelope_text,
                                         std::span<const PublicKey> pinned_keys,
                                         const JsonLimits& limits = {});

// ---- in-toto link (v0.9 metadata) ---------------------------------------------------------

// The key as in-toto layouts and securesystemslib hold it:
// {"keyid_hash_algorithms": ["sha256", "sha512"], "keytype": "ed25519",
//  "keyval": {"public": "<64 hex>"}, "scheme": "ed25519"}.
nlohmann::json securesystemslib_public_key(const PublicKey& key);
// Lowercase hex SHA-256 of the canonical JSON of securesystemslib_public_key(key).
std::string securesystemslib_keyid(const PublicKey& key);

struct Link {
  std::string name;                            // the layout step's name
  std::vector<std::string> command;            // argv
  std::map<std::string, DigestSet> materials;  // path -> digests (inputs)
  std::map<std::string, DigestSet> products;   // path -> digests (outputs)
  // Opaque objects (no floating-point numbers anywhere). in-toto expects byproducts to carry
  // "stdout", "stderr" (strings) and "return-value" (integer).
  nlohmann::json byproducts = nlohmann::json::object();
  nlohmann::json environment = nlohmann::json::object();
};

struct SignedLink {
  std::string file_name;  // "<name>.<keyid[:8]>.link"
  std::string text;       // the link file (JSON, pure ASCII, ends with a newline)
  std::string keyid;      // securesystemslib key id of the signing key
};

// The "signed" object of a link: exactly _type, name, command, materials, products,
// byproducts and environment (in-toto rebuilds it from those fields before verifying).
Result<nlohmann::json> link_signed_object(const Link& link);
// {"signatures": [{"keyid", "sig": <128 hex>}], "signed": {...}}; the signature is Ed25519
// over canonical_json(signed). Refuses a name that is empty or holds '/', '\0' or starts
// with '.', non-UTF-8 strings and floating-point numbers.
Result<SignedLink> sign_link(const Link& link, const SigningKey& key);

// Checks a link file as in-toto-verify does its signature: strict parse, _type "link", a
// signature whose keyid is the key's securesystemslib keyid and whose Ed25519 signature over
// the canonical JSON of "signed" verifies. Returns the "signed" object.
Result<nlohmann::json> verify_link(std::string_view link_text, const PublicKey& key,
                                   const JsonLimits& limits = {});

// ---- the signing key ----------------------------------------------------------------------

inline constexpr const char* kSigningKeyEnv = "REQUIEM_SIGNING_KEY";

// Loads Requiem's signing key (core/key_file.h private key format, mode 0600, owned by the
// reader) from `key_flag` (--key) when given, else from the file named by
// $REQUIEM_SIGNING_KEY; fails naming both when neither is set.
Result<NamedSigningKey> load_signing_key(const std::optional<std::filesystem::path>& key_flag);

}  // namespace ritma::exec
