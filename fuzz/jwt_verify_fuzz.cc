// libFuzzer target for the control plane's bearer token verifier (src/api/jwt.h): hostile tokens,
// headers, claims and key sets must be refused with a specific error, never crash, hang or be
// accepted when they break a rule. The first input byte picks what the rest is:
//
//   'S'  header JSON '\n' claims JSON: signed here with the HS256 test secret, so the claim
//        checks behind the signature are reached;
//   'J'  a JWKS, parsed with oct keys allowed;
//   else a compact JWS verified as is (the 'T' seeds in fuzz/corpus/jwt/ are real tokens made by
//        PyJWT 2.6 with the keys below at time kNow, so mutations start from accepted tokens:
//        the HS256 secret is 40 bytes 0x5a, the Ed25519 seed 32 bytes 0x42, the P-256 scalar
//        SHA-256("ritma jwt fuzz p256")).
//
// Every input is also run through base64url_decode, which must only accept canonical text
// (encode(decode(x)) == x).
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/jwt.h"
#include "core/ed25519.h"

namespace {

using namespace ritma;
using namespace ritma::api;

constexpr int64_t kNow = 1800000000;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "jwt_verify_fuzz: %s\n", what);
  std::abort();
}

const Bytes& secret() {
  static const Bytes s(40, 0x5a);
  return s;
}

Bytes unhex(std::string_view h) {
  auto b = from_hex(h);
  if (!b.ok()) fail("bad built-in hex");
  return std::move(b).value();
}

const JwtVerifier& verifier() {
  static const JwtVerifier v = [] {
    JwtVerifierConfig c;
    c.issuer = "https://issuer.example";
    c.audience = "ritma-api";
    auto hs = JwtKey::hmac_secret(secret(), "hs", {JwsAlg::kHS256});
    auto seed = SigningKey::from_seed(Bytes(32, 0x42));
    if (!hs.ok() || !seed.ok()) fail("cannot build the test keys");
    auto ed = JwtKey::ed25519(seed->public_key(), "ed", {JwsAlg::kEdDSA});
    // P-256: the public point of the seeds' scalar SHA-256("ritma jwt fuzz p256").
    auto es =
        JwtKey::p256(unhex("82e2edab34b4fe26fb8c8b5269cdcdc91a7ff56c313c18fd7f416a5f8cb104c9"),
                     unhex("44e8f5d1da2b1c6c156503c146b412439dbfa6bfd6530f564f9e9655d78a4f63"),
                     "es", {JwsAlg::kES256});
    if (!ed.ok() || !es.ok()) fail("cannot build the test keys");
    c.keys = {*hs, *ed, *es};
    auto made = JwtVerifier::create(std::move(c));
    if (!made.ok()) fail("cannot build the verifier");
    return std::move(made).value();
  }();
  return v;
}

bool tenant_ok(const std::string& t) {
  if (t.empty() || t.size() > 64 || t == "." || t == "..") return false;
  for (unsigned char ch : t) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

// What every accepted token must satisfy, whatever the input.
void check_accepted(const VerifiedToken& t) {
  if (!t.claims.is_object()) fail("accepted claims that are not an object");
  if (!tenant_ok(t.tenant)) fail("accepted a bad tenant");
  if (t.claims.value("tenant", std::string()) != t.tenant) fail("tenant is not the claim");
  if (t.actor.empty() || t.actor.size() > 256) fail("accepted a bad sub");
  if (t.exp + 60 <= kNow) fail("accepted an expired token");
  if (t.claims.value("iss", std::string()) != "https://issuer.example") fail("wrong iss passed");
  const auto& aud = t.claims.at("aud");
  bool has_aud = aud.is_string() && aud.get<std::string>() == "ritma-api";
  if (aud.is_array()) {
    for (const auto& a : aud) has_aud = has_aud || (a.is_string() && a == "ritma-api");
  }
  if (!has_aud) fail("accepted without the audience");
  if (t.claims.contains("nbf") && t.claims["nbf"].get<int64_t>() - 60 > kNow) {
    fail("accepted before nbf");
  }
}

void check_result(const TokenResult& r) {
  if (r.ok()) {
    check_accepted(*r);
  } else if (r.error().message.empty()) {
    fail("an error without a message");
  }
}

void check_base64url(std::string_view text) {
  auto b = base64url_decode(text);
  if (b.ok() && base64url_encode(*b) != text) fail("base64url accepted a non-canonical text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (sodium_init() < 0) fail("sodium_init");
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::string_view rest = all.substr(1);
  check_base64url(rest);

  switch (all[0]) {
    case 'S': {
      const size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) return 0;
      const std::string input = base64url_encode(as_bytes(rest.substr(0, nl))) + "." +
                                base64url_encode(as_bytes(rest.substr(nl + 1)));
      uint8_t mac[crypto_auth_hmacsha256_BYTES];
      crypto_auth_hmacsha256_state st;
      crypto_auth_hmacsha256_init(&st, secret().data(), secret().size());
      crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(input.data()),
                                    input.size());
      crypto_auth_hmacsha256_final(&st, mac);
      const std::string token = input + "." + base64url_encode(ByteSpan(mac, sizeof mac));
      const TokenResult r = verifier().verify(token, kNow);
      check_result(r);
      if (r.ok() && r->alg != JwsAlg::kHS256) fail("an HS256 token verified as another alg");
      // A flipped signature bit never verifies.
      std::string flipped = token;
      flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
      const TokenResult f = verifier().verify(flipped, kNow);
      if (f.ok()) fail("a changed signature verified");
      break;
    }
    case 'J': {
      JwksOptions opts;
      opts.allow_oct = true;
      opts.allowed = {JwsAlg::kHS256, JwsAlg::kEdDSA, JwsAlg::kES256};
      auto keys = parse_jwks(rest, opts);
      if (!keys.ok()) {
        if (keys.error().message.empty()) fail("a JWKS error without a message");
        break;
      }
      for (const JwtKey& k : *keys) {
        if (k.allowed().empty()) fail("a JWKS key allows nothing");
        (void)k.verify(k.allowed()[0], "a.b", ByteSpan(data, std::min<size_t>(size, 64)));
      }
      break;
    }
    default: {
      const TokenResult r = verifier().verify(rest, kNow);
      check_result(r);
      // Accepted tokens stay accepted, and refused ones refused, on a second look.
      if (verifier().verify(rest, kNow).ok() != r.ok()) fail("verification is not deterministic");
      break;
    }
  }
  return 0;
}
