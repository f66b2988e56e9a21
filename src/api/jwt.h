// Verification of the bearer tokens of the control plane (`requiem serve`): compact JWS
// (RFC 7515) carrying JWT claims (RFC 7519). Nothing here issues tokens.
//
// What is accepted, strictly:
//  - the token: at most `max_token_bytes` (8 KiB) before anything is decoded; three segments of
//    canonical base64url (RFC 4648 §5: no padding, no other alphabet, zero trailing bits);
//  - the header: a JSON object with `alg` (string), optional `kid` (non-empty string), optional
//    `typ` ("JWT" or "at+jwt", optionally "application/"-prefixed, any case); `crit` and nested
//    JWTs (`cty` "JWT") are refused; `jku`, `jwk`, `x5u`, `x5c` are ignored, never fetched or
//    trusted;
//  - the algorithm: HS256, EdDSA (Ed25519) or ES256 (P-256), and only if the chosen key's
//    explicit allowlist names it; `none` and everything else are refused;
//  - the key: the one whose `kid` equals the header's; without a `kid`, the single key whose
//    allowlist has the header's alg (several: refused as ambiguous);
//  - the claims (read only once the signature verified): a JSON object; `exp` required, `nbf`
//    and `iat` optional, each an integer NumericDate in [0, 253402300799]; `iss` equal to the
//    configured issuer; `aud` (a string or an array of strings) containing the configured
//    audience; the tenant claim (`tenant` unless configured) a string matching
//    [A-Za-z0-9._-]{1,64}; `sub` (the actor) a non-empty string of at most 256 bytes without
//    control characters.
// Header and claims refuse duplicate member names and nesting deeper than 16.
//
// Every failure is a TokenError with a kind (for the server's 401 and its log) and a message
// that names what is wrong. Nothing here throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/result.h"

namespace ritma::api {

enum class JwsAlg { kHS256, kEdDSA, kES256 };

// "HS256", "EdDSA", "ES256".
std::string_view jws_alg_name(JwsAlg alg);
// Exact, case-sensitive; fails for anything else (including "none").
Result<JwsAlg> parse_jws_alg(std::string_view name);

// RFC 4648 §5 base64url without padding.
std::string base64url_encode(ByteSpan data);
// Strict: no padding, no whitespace, only [A-Za-z0-9_-], and the unused bits of the last
// character must be zero (one encoding per byte string).
Result<Bytes> base64url_decode(std::string_view text);

// A verification key with the algorithms it may be used with. Copies share the key material
// (an HMAC secret is wiped when the last copy goes).
class JwtKey {
 public:
  enum class Type { kHmacSecret, kEd25519, kP256 };

  // An HS256 secret: at least 32 bytes, used as is.
  static Result<JwtKey> hmac_secret(ByteSpan secret, std::string kid, std::vector<JwsAlg> allowed);
  // The secret is the file's exact bytes (no newline is stripped; write it with
  // `head -c 32 /dev/urandom` or `openssl rand -hex 32 | tr -d '\n'`). The file must be a
  // regular file not readable or writable by group or others.
  static Result<JwtKey> hmac_secret_file(const std::filesystem::path& path, std::string kid,
                                         std::vector<JwsAlg> allowed);
  static Result<JwtKey> ed25519(const PublicKey& key, std::string kid, std::vector<JwsAlg> allowed);
  // A PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an Ed25519 or a P-256 key.
  static Result<JwtKey> public_key_pem(std::string_view pem, std::string kid,
                                       std::vector<JwsAlg> allowed);
  static Result<JwtKey> public_key_pem_file(const std::filesystem::path& path, std::string kid,
                                            std::vector<JwsAlg> allowed);
  // A P-256 public key from its affine coordinates (32 bytes each, big-endian); the point must
  // be on the curve.
  static Result<JwtKey> p256(ByteSpan x, ByteSpan y, std::string kid, std::vector<JwsAlg> allowed);

  Type type() const { return type_; }
  // Empty when the key has none.
  const std::string& kid() const { return kid_; }
  const std::vector<JwsAlg>& allowed() const { return allowed_; }
  bool allows(JwsAlg alg) const;

  // True when `signature` is a valid `alg` signature of `signing_input` by this key (false
  // too when the key does not allow `alg`).
  bool verify(JwsAlg alg, std::string_view signing_input, ByteSpan signature) const;

 private:
  struct Material;
  JwtKey() = default;
  static Result<JwtKey> make(std::shared_ptr<const Material> m, Type type, std::string kid,
                             std::vector<JwsAlg> allowed);
  std::shared_ptr<const Material> material_;
  Type type_ = Type::kEd25519;
  std::string kid_;
  std::vector<JwsAlg> allowed_;
};

// What a JWKS (RFC 7517) may contribute.
struct JwksOptions {
  // The algorithms the set's keys may be used with; each key allows those that fit its type
  // (and its `alg` member, when it has one). A key left with none is an error.
  std::vector<JwsAlg> allowed = {JwsAlg::kEdDSA, JwsAlg::kES256};
  // `kty` "oct" (HMAC secrets) is refused unless this is set (and HS256 is allowed).
  bool allow_oct = false;
};

// Keys `kty` OKP/`crv` Ed25519 (`x`), EC/`crv` P-256 (`x`, `y`) and, if allowed, oct (`k`);
// optional `kid`, `alg`, `use` ("sig"), `key_ops` (must contain "verify"). Private members
// (`d`, ...) and any other key type are refused. Errors name the field, e.g. "keys[1].crv".
Result<std::vector<JwtKey>> parse_jwks(std::string_view text, const JwksOptions& options = {});
Result<std::vector<JwtKey>> load_jwks_file(const std::filesystem::path& path,
                                           const JwksOptions& options = {});

struct JwtVerifierConfig {
  std::string issuer;    // required
  std::string audience;  // required
  std::string tenant_claim = "tenant";
  int64_t leeway_seconds = 60;  // [0, 3600]
  size_t max_token_bytes = 8192;
  std::vector<JwtKey> keys;  // at least one; `kid`s unique
};

enum class TokenErrorKind {
  kMalformed,      // not a well-formed compact JWS / JSON, too large, too deep, bad types
  kAlgNotAllowed,  // `none`, an unknown alg, or one the chosen key does not allow
  kUnknownKid,     // no key with the token's kid (or no kid and an ambiguous choice)
  kBadSignature,   // the signature does not verify
  kExpired,        // now >= exp + leeway
  kNotYetValid,    // now + leeway < nbf, or iat in the future
  kWrongIssuer,    // iss missing or not the configured issuer
  kWrongAudience,  // aud missing or without the configured audience
  kInvalidClaim,   // a required claim missing or ill-formed (exp, tenant, sub, ...)
};

// "malformed", "alg_not_allowed", "unknown_kid", "bad_signature", "expired", "not_yet_valid",
// "wrong_issuer", "wrong_audience", "invalid_claim".
std::string_view token_error_name(TokenErrorKind kind);

struct TokenError {
  TokenErrorKind kind = TokenErrorKind::kMalformed;
  std::string message;

  // Every token error is an RFC 6750 `invalid_token`: HTTP 401.
  int http_status() const { return 401; }
  // "<kind>: <message>", for code that speaks Result<T>.
  operator Error() const;  // NOLINT(google-explicit-constructor)
};

struct VerifiedToken {
  std::string tenant;
  std::string actor;  // sub
  JwsAlg alg = JwsAlg::kEdDSA;
  std::string kid;  // empty when the header had none
  int64_t exp = 0;
  nlohmann::json claims;  // the whole claims object
};

class [[nodiscard]] TokenResult {
 public:
  TokenResult(VerifiedToken v) : ok_(true), value_(std::move(v)) {}  // NOLINT
  TokenResult(TokenError e) : error_(std::move(e)) {}                // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // Requires ok().
  const VerifiedToken& value() const { return value_; }
  const VerifiedToken* operator->() const { return &value_; }
  const VerifiedToken& operator*() const { return value_; }
  // Requires !ok().
  const TokenError& error() const { return error_; }

 private:
  bool ok_ = false;
  VerifiedToken value_;
  TokenError error_;
};

class JwtVerifier {
 public:
  // Checks the configuration (issuer, audience, tenant claim name, leeway, size limit, keys).
  static Result<JwtVerifier> create(JwtVerifierConfig config);

  // `token` is the compact JWS alone (no "Bearer "); `now` in seconds since the Unix epoch.
  TokenResult verify(std::string_view token, int64_t now) const noexcept;
  TokenResult verify(std::string_view token) const noexcept;  // the system clock

  const JwtVerifierConfig& config() const { return config_; }

 private:
  explicit JwtVerifier(JwtVerifierConfig config) : config_(std::move(config)) {}
  TokenResult verify_impl(std::string_view token, int64_t now) const;
  JwtVerifierConfig config_;
};

// Nesting limit of header and claims JSON.
inline constexpr int kJwtMaxJsonDepth = 16;
// The largest NumericDate accepted (9999-12-31T23:59:59Z).
inline constexpr int64_t kJwtMaxNumericDate = 253402300799;

}  // namespace ritma::api
