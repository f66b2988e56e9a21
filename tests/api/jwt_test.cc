// Bearer token verification (src/api/jwt.h): strict base64url, keys from secrets, PEM and
// JWKS, every accept and reject path of the verifier, and tokens, PEM keys and a JWKS made by
// PyJWT (Debian's python3-jwt) with no project code.
#include "api/jwt.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace ritma::api {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using K = TokenErrorKind;

const std::string kScripts = RITMA_API_TEST_SCRIPTS_DIR;
constexpr int64_t kNow = 1800000000;
const char* const kIssuer = "https://issuer.example";
const char* const kAudience = "ritma-api";

std::string b64(std::string_view s) {
  return base64url_encode(as_bytes(s));
}

// ---- signers (test side) -------------------------------------------------------------------

Bytes hmac(ByteSpan secret, std::string_view msg) {
  Bytes mac(crypto_auth_hmacsha256_BYTES);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, secret.data(), secret.size());
  crypto_auth_hmacsha256_update(&st, as_bytes(msg).data(), msg.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  return mac;
}

struct P256 {
  EVP_PKEY* pkey = nullptr;
  P256() { pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); }
  ~P256() { EVP_PKEY_free(pkey); }
  P256(const P256&) = delete;
  P256& operator=(const P256&) = delete;

  Bytes point() const {  // 04 || x || y
    Bytes p(65);
    size_t len = 0;
    EXPECT_EQ(
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, p.data(), p.size(), &len),
        1);
    EXPECT_EQ(len, 65u);
    return p;
  }
  std::string pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }
  Bytes sign(std::string_view msg) const {  // raw r || s
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey), 1);
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, as_bytes(msg).data(), msg.size());
    Bytes der(len);
    EXPECT_EQ(EVP_DigestSign(ctx, der.data(), &len, as_bytes(msg).data(), msg.size()), 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    Bytes raw(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
  }
};

const Bytes& hs_secret() {
  static const Bytes s(40, 0x5a);
  return s;
}
const SigningKey& ed_key() {
  static const SigningKey k = std::move(SigningKey::from_seed(Bytes(32, 0x42))).value();
  return k;
}
const P256& es_key() {
  static const P256 k;
  return k;
}

enum class Signer { kHS, kEd, kES };

std::string sign_token(const std::string& header, const std::string& claims, Signer s) {
  const std::string input = b64(header) + "." + b64(claims);
  Bytes sig;
  switch (s) {
    case Signer::kHS:
      sig = hmac(hs_secret(), input);
      break;
    case Signer::kEd: {
      const Signature e = ed_key().sign(as_bytes(input));
      sig.assign(e.begin(), e.end());
      break;
    }
    case Signer::kES:
      sig = es_key().sign(input);
      break;
  }
  return input + "." + base64url_encode(sig);
}

json good_claims() {
  return {{"iss", kIssuer},        {"aud", kAudience},     {"sub", "alice@example.com"},
          {"tenant", "acme-prod"}, {"exp", kNow + 300},    {"nbf", kNow - 10},
          {"iat", kNow - 10},      {"scope", "runs:write"}};
}

std::string token(Signer s, const json& claims = good_claims(), const char* kid = nullptr) {
  json h = {{"alg", s == Signer::kHS   ? "HS256"
                    : s == Signer::kEd ? "EdDSA"
                                       : "ES256"},
            {"typ", "JWT"}};
  if (kid != nullptr) h["kid"] = kid;
  return sign_token(h.dump(), claims.dump(), s);
}

std::vector<JwtKey> test_keys() {
  std::vector<JwtKey> keys;
  keys.push_back(std::move(JwtKey::hmac_secret(hs_secret(), "hs", {JwsAlg::kHS256})).value());
  keys.push_back(std::move(JwtKey::ed25519(ed_key().public_key(), "ed", {JwsAlg::kEdDSA})).value());
  keys.push_back(std::move(JwtKey::public_key_pem(es_key().pem(), "es", {JwsAlg::kES256})).value());
  return keys;
}

JwtVerifierConfig test_config(std::vector<JwtKey> keys = test_keys()) {
  JwtVerifierConfig c;
  c.issuer = kIssuer;
  c.audience = kAudience;
  c.keys = std::move(keys);
  return c;
}

JwtVerifier verifier(JwtVerifierConfig c = test_config()) {
  auto v = JwtVerifier::create(std::move(c));
  EXPECT_TRUE(v.ok()) << v.error().message;
  return std::move(v).value();
}

// Expects refusal of `kind`, with `needle` in the message.
void expect_refused(const TokenResult& r, K kind, const std::string& needle = "") {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, kind) << token_error_name(r.error().kind) << ": " << r.error().message;
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_EQ(r.error().http_status(), 401);
  if (!needle.empty()) {
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
}

template <typename T>
void expect_error(const Result<T>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing " << needle;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

// Claims with one member replaced (or removed when `value` is null and `erase`).
json with(json c, const std::string& name, json value) {
  c[name] = std::move(value);
  return c;
}
json without(json c, const std::string& name) {
  c.erase(name);
  return c;
}

// ---- base64url -----------------------------------------------------------------------------

TEST(Base64Url, Rfc4648VectorsAndRoundTrip) {
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg");
  EXPECT_EQ(b64("fo"), "Zm8");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg");
  EXPECT_EQ(b64("\xfb\xff"), "-_8");
  Bytes all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i);
  for (size_t n = 0; n <= all.size(); n += 7) {
    const ByteSpan part(all.data(), n);
    auto back = base64url_decode(base64url_encode(part));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, Bytes(part.begin(), part.end()));
  }
}

TEST(Base64Url, StrictDecoding) {
  expect_error(base64url_decode("Zg=="), "padding");
  expect_error(base64url_decode("Zm9v+w"), "alphabet");
  expect_error(base64url_decode("Zm9v/w"), "alphabet");
  expect_error(base64url_decode("Zm9 vg"), "alphabet");
  expect_error(base64url_decode("Zm9vY"), "length");
  expect_error(base64url_decode("Zh"), "canonical");   // 'h' leaves a set unused bit
  expect_error(base64url_decode("Zm9"), "canonical");  // "fo" is Zm8
  EXPECT_TRUE(base64url_decode("Zm8").ok());
}

// ---- keys ----------------------------------------------------------------------------------

TEST(JwtKeys, AllowlistIsExplicitAndFitsTheKey) {
  expect_error(JwtKey::hmac_secret(Bytes(31, 1), "", {JwsAlg::kHS256}), "at least 32 bytes");
  expect_error(JwtKey::hmac_secret(Bytes(32, 1), "", {}), "allows no algorithm");
  expect_error(JwtKey::hmac_secret(Bytes(32, 1), "", {JwsAlg::kEdDSA}), "cannot be used with");
  expect_error(JwtKey::ed25519(ed_key().public_key(), "", {JwsAlg::kHS256}),
               "cannot be used with HS256");
  expect_error(JwtKey::public_key_pem(es_key().pem(), "", {JwsAlg::kEdDSA}),
               "P-256 key cannot be used with EdDSA");
  expect_error(JwtKey::ed25519(ed_key().public_key(), std::string(257, 'k'), {JwsAlg::kEdDSA}),
               "kid");
  auto k = JwtKey::ed25519(ed_key().public_key(), "ed", {JwsAlg::kEdDSA, JwsAlg::kEdDSA});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->allowed().size(), 1u);
  EXPECT_TRUE(k->allows(JwsAlg::kEdDSA));
  EXPECT_FALSE(k->allows(JwsAlg::kES256));
  EXPECT_EQ(k->type(), JwtKey::Type::kEd25519);
  // A small-order point is not a public key.
  PublicKey identity{};
  identity[0] = 1;
  expect_error(JwtKey::ed25519(identity, "", {JwsAlg::kEdDSA}), "not a valid Ed25519");
}

TEST(JwtKeys, HmacSecretFile) {
  test::TempDir dir;
  const fs::path p = dir / "secret";
  test::write_file_bytes(p, Bytes(48, 7));
  chmod(p.c_str(), 0644);
  expect_error(JwtKey::hmac_secret_file(p, "", {JwsAlg::kHS256}), "chmod 600");
  chmod(p.c_str(), 0600);
  auto k = JwtKey::hmac_secret_file(p, "", {JwsAlg::kHS256});
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->type(), JwtKey::Type::kHmacSecret);
  test::write_file_bytes(dir / "short", Bytes(31, 7));
  chmod((dir / "short").c_str(), 0600);
  expect_error(JwtKey::hmac_secret_file(dir / "short", "", {JwsAlg::kHS256}), "at least 32");
  expect_error(JwtKey::hmac_secret_file(dir / "missing", "", {JwsAlg::kHS256}), "cannot open");
  expect_error(JwtKey::hmac_secret_file(dir.path(), "", {JwsAlg::kHS256}), "not a regular file");
}

TEST(JwtKeys, PemPublicKeys) {
  auto es = JwtKey::public_key_pem(es_key().pem(), "es", {JwsAlg::kES256});
  ASSERT_TRUE(es.ok()) << es.error().message;
  EXPECT_EQ(es->type(), JwtKey::Type::kP256);

  // Ed25519 SPKI from OpenSSL.
  EVP_PKEY* ed =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, ed_key().public_key().data(), 32);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, ed);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string ed_pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(ed);
  auto k = JwtKey::public_key_pem(ed_pem, "ed", {JwsAlg::kEdDSA});
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->type(), JwtKey::Type::kEd25519);
  const std::string input = "a.b";
  const Signature sig = ed_key().sign(as_bytes(input));
  EXPECT_TRUE(k->verify(JwsAlg::kEdDSA, input, sig));

  test::TempDir dir;
  std::ofstream(dir / "ed.pem") << ed_pem;
  EXPECT_TRUE(JwtKey::public_key_pem_file(dir / "ed.pem", "", {JwsAlg::kEdDSA}).ok());

  // P-384 is not P-256; a private key PEM and garbage are not public keys.
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, p384);
  const long n384 = BIO_get_mem_data(bio, &data);
  const std::string p384_pem(data, static_cast<size_t>(n384));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr);
  const long npriv = BIO_get_mem_data(bio, &data);
  const std::string priv_pem(data, static_cast<size_t>(npriv));
  BIO_free(bio);
  EVP_PKEY_free(p384);
  expect_error(JwtKey::public_key_pem(p384_pem, "", {JwsAlg::kES256}), "another curve");
  expect_error(JwtKey::public_key_pem(priv_pem, "", {JwsAlg::kES256}), "not a PEM public key");
  expect_error(JwtKey::public_key_pem("hello", "", {JwsAlg::kES256}), "not a PEM public key");
}

TEST(JwtKeys, P256PointMustBeOnTheCurve) {
  const Bytes p = es_key().point();
  const ByteSpan x(p.data() + 1, 32), y(p.data() + 33, 32);
  EXPECT_TRUE(JwtKey::p256(x, y, "", {JwsAlg::kES256}).ok());
  Bytes bad_y(y.begin(), y.end());
  bad_y[31] ^= 1;
  expect_error(JwtKey::p256(x, bad_y, "", {JwsAlg::kES256}), "not on the P-256 curve");
  expect_error(JwtKey::p256(x, ByteSpan(y.data(), 31), "", {JwsAlg::kES256}), "32 bytes");
}

// ---- JWKS ----------------------------------------------------------------------------------

json okp_jwk() {
  return {{"kty", "OKP"},
          {"crv", "Ed25519"},
          {"x", base64url_encode(ed_key().public_key())},
          {"kid", "ed"}};
}
json ec_jwk() {
  const Bytes p = es_key().point();
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"x", base64url_encode(ByteSpan(p.data() + 1, 32))},
          {"y", base64url_encode(ByteSpan(p.data() + 33, 32))},
          {"kid", "es"},
          {"use", "sig"},
          {"alg", "ES256"},
          {"key_ops", {"verify"}}};
}
json oct_jwk() {
  return {{"kty", "oct"}, {"k", base64url_encode(hs_secret())}, {"kid", "hs"}};
}
std::string jwks(std::initializer_list<json> keys) {
  json arr = json::array();
  for (const json& k : keys) arr.push_back(k);
  return json{{"keys", arr}}.dump();
}

TEST(Jwks, ParsesOkpEcAndOptionallyOct) {
  auto keys = parse_jwks(jwks({okp_jwk(), ec_jwk()}));
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid(), "ed");
  EXPECT_EQ((*keys)[0].allowed(), std::vector<JwsAlg>{JwsAlg::kEdDSA});
  EXPECT_EQ((*keys)[1].kid(), "es");
  EXPECT_EQ((*keys)[1].allowed(), std::vector<JwsAlg>{JwsAlg::kES256});

  // The set's keys verify real tokens.
  auto v = verifier(test_config(*keys));
  EXPECT_TRUE(v.verify(token(Signer::kEd, good_claims(), "ed"), kNow).ok());
  EXPECT_TRUE(v.verify(token(Signer::kES, good_claims(), "es"), kNow).ok());

  expect_error(parse_jwks(jwks({oct_jwk()})), "keys[0].kty: oct");
  JwksOptions with_oct;
  with_oct.allow_oct = true;
  expect_error(parse_jwks(jwks({oct_jwk()}), with_oct), "keys[0]: a HMAC secret key allows none");
  with_oct.allowed = {JwsAlg::kHS256};
  auto oct = parse_jwks(jwks({oct_jwk()}), with_oct);
  ASSERT_TRUE(oct.ok()) << oct.error().message;
  EXPECT_TRUE(
      verifier(test_config(*oct)).verify(token(Signer::kHS, good_claims(), "hs"), kNow).ok());
  expect_error(parse_jwks(jwks({with(oct_jwk(), "k", base64url_encode(Bytes(31, 1)))}), with_oct),
               "keys[0].k: an HS256 secret must be at least 32 bytes");

  // The configured allowlist applies to the set: EdDSA only refuses the EC key.
  JwksOptions ed_only;
  ed_only.allowed = {JwsAlg::kEdDSA};
  expect_error(parse_jwks(jwks({okp_jwk(), ec_jwk()}), ed_only),
               "keys[1]: a P-256 key allows none");
}

TEST(Jwks, ErrorsNameTheField) {
  expect_error(parse_jwks("[]"), "JWKS: not a JSON object");
  expect_error(parse_jwks("{}"), "keys: missing");
  expect_error(parse_jwks(R"({"keys": {}})"), "keys: must be an array");
  expect_error(parse_jwks(R"({"keys": []})"), "keys: empty");
  expect_error(parse_jwks(R"({"keys": [1]})"), "keys[0]: must be an object");
  expect_error(parse_jwks(jwks({without(okp_jwk(), "kty")})), "keys[0].kty: missing");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "kty", 3)})), "keys[0].kty: must be a string");
  expect_error(parse_jwks(jwks({okp_jwk(), with(okp_jwk(), "kty", "RSA")})),
               "keys[1].kty: \"RSA\" is not supported");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "crv", "X25519")})), "keys[0].crv");
  expect_error(parse_jwks(jwks({with(ec_jwk(), "crv", "P-384")})), "keys[0].crv");
  expect_error(parse_jwks(jwks({without(okp_jwk(), "crv")})), "keys[0].crv: missing");
  expect_error(parse_jwks(jwks({without(okp_jwk(), "x")})), "keys[0].x: missing");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "x", "AAAA")})), "keys[0].x: must decode to 32");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "x", "not base64!")})), "keys[0].x: base64url");
  expect_error(parse_jwks(jwks({without(ec_jwk(), "y")})), "keys[0].y: missing");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "d", "AAAA")})), "keys[0].d: a private key");
  expect_error(parse_jwks(jwks({with(ec_jwk(), "use", "enc")})), "keys[0].use");
  expect_error(parse_jwks(jwks({with(ec_jwk(), "key_ops", {"sign"})})), "keys[0].key_ops");
  expect_error(parse_jwks(jwks({with(ec_jwk(), "key_ops", "verify")})), "keys[0].key_ops");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "alg", "ES256")})),
               "keys[0].alg: ES256 does not fit kty OKP");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "alg", "RS256")})), "keys[0].alg");
  expect_error(parse_jwks(jwks({with(okp_jwk(), "kid", "")})), "keys[0].kid: must not be empty");
  expect_error(parse_jwks(jwks({okp_jwk(), with(ec_jwk(), "kid", "ed")})),
               "keys[1].kid: \"ed\" is used by an earlier key");
  Bytes p = es_key().point();
  p[64] ^= 1;
  expect_error(
      parse_jwks(jwks({with(ec_jwk(), "y", base64url_encode(ByteSpan(p.data() + 33, 32)))})),
      "keys[0].x: the point (x, y) is not on the P-256 curve");
  // Duplicate names are refused, not collapsed.
  expect_error(parse_jwks(R"({"keys": [{"kty": "OKP", "kty": "EC"}]})"), "duplicate member name");
}

TEST(Jwks, FileAndItsModeWhenItHoldsSecrets) {
  test::TempDir dir;
  const fs::path p = dir / "jwks.json";
  std::ofstream(p) << jwks({okp_jwk(), oct_jwk()});
  chmod(p.c_str(), 0644);
  expect_error(load_jwks_file(p), "keys[1].kty: oct");
  JwksOptions opts;
  opts.allow_oct = true;
  opts.allowed = {JwsAlg::kHS256, JwsAlg::kEdDSA};
  expect_error(load_jwks_file(p, opts), "chmod 600");
  chmod(p.c_str(), 0600);
  auto keys = load_jwks_file(p, opts);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  expect_error(load_jwks_file(dir / "missing.json"), "cannot open");
}

// ---- verifier configuration ----------------------------------------------------------------

TEST(JwtVerifierConfig, IsChecked) {
  auto bad = [](auto mutate, const std::string& needle) {
    JwtVerifierConfig c = test_config();
    mutate(c);
    expect_error(JwtVerifier::create(std::move(c)), needle);
  };
  bad([](JwtVerifierConfig& c) { c.issuer.clear(); }, "no issuer");
  bad([](JwtVerifierConfig& c) { c.audience.clear(); }, "no audience");
  bad([](JwtVerifierConfig& c) { c.tenant_claim.clear(); }, "tenant claim");
  bad([](JwtVerifierConfig& c) { c.leeway_seconds = -1; }, "leeway");
  bad([](JwtVerifierConfig& c) { c.leeway_seconds = 3601; }, "leeway");
  bad([](JwtVerifierConfig& c) { c.max_token_bytes = 100; }, "max token size");
  bad([](JwtVerifierConfig& c) { c.keys.clear(); }, "no key");
  bad([](JwtVerifierConfig& c) { c.keys.push_back(c.keys[0]); }, "two keys have the kid");
  EXPECT_EQ(test_config().leeway_seconds, 60);
  EXPECT_EQ(test_config().max_token_bytes, 8192u);
  EXPECT_EQ(test_config().tenant_claim, "tenant");
}

// ---- accepted tokens -----------------------------------------------------------------------

TEST(JwtVerify, AcceptsEachAlgorithmWithItsKey) {
  const JwtVerifier v = verifier();
  struct Case {
    Signer s;
    const char* kid;
    JwsAlg alg;
  };
  for (const Case& c :
       {Case{Signer::kHS, "hs", JwsAlg::kHS256}, Case{Signer::kEd, "ed", JwsAlg::kEdDSA},
        Case{Signer::kES, "es", JwsAlg::kES256}}) {
    auto r = v.verify(token(c.s, good_claims(), c.kid), kNow);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->tenant, "acme-prod");
    EXPECT_EQ(r->actor, "alice@example.com");
    EXPECT_EQ(r->alg, c.alg);
    EXPECT_EQ(r->kid, c.kid);
    EXPECT_EQ(r->exp, kNow + 300);
    EXPECT_EQ(r->claims, good_claims());
    EXPECT_EQ(r->claims["scope"], "runs:write");
  }
  // Without a kid, the one key that allows the alg.
  for (Signer s : {Signer::kHS, Signer::kEd, Signer::kES}) {
    auto r = v.verify(token(s), kNow);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->kid, "");
  }
}

TEST(JwtVerify, AudienceStringOrArray) {
  const JwtVerifier v = verifier();
  EXPECT_TRUE(
      v.verify(token(Signer::kEd, with(good_claims(), "aud", {"x", kAudience})), kNow).ok());
  EXPECT_TRUE(v.verify(token(Signer::kEd, with(good_claims(), "aud", kAudience)), kNow).ok());
}

TEST(JwtVerify, TypVariants) {
  const JwtVerifier v = verifier();
  for (const char* typ : {"JWT", "jwt", "at+jwt", "application/at+jwt", "application/JWT"}) {
    const std::string t =
        sign_token(json{{"alg", "EdDSA"}, {"typ", typ}}.dump(), good_claims().dump(), Signer::kEd);
    EXPECT_TRUE(v.verify(t, kNow).ok()) << typ;
  }
  EXPECT_TRUE(
      v.verify(sign_token(R"({"alg":"EdDSA"})", good_claims().dump(), Signer::kEd), kNow).ok());
  expect_refused(
      v.verify(sign_token(R"({"alg":"EdDSA","typ":"dpop+jwt"})", good_claims().dump(), Signer::kEd),
               kNow),
      K::kMalformed, "header.typ");
  expect_refused(
      v.verify(sign_token(R"({"alg":"EdDSA","typ":7})", good_claims().dump(), Signer::kEd), kNow),
      K::kMalformed, "header.typ");
  // Key-bearing header members are ignored, never trusted.
  EXPECT_TRUE(v.verify(sign_token(R"({"alg":"EdDSA","jku":"https://evil/","jwk":{"kty":"oct"}})",
                                  good_claims().dump(), Signer::kEd),
                       kNow)
                  .ok());
}

TEST(JwtVerify, LeewayAroundExpNbfIat) {
  const JwtVerifier v = verifier();  // leeway 60
  auto at = [&](json claims) { return v.verify(token(Signer::kEd, claims), kNow); };
  EXPECT_TRUE(at(with(good_claims(), "exp", kNow - 59)).ok());
  expect_refused(at(with(good_claims(), "exp", kNow - 60)), K::kExpired, "expired at");
  expect_refused(at(with(good_claims(), "exp", kNow - 3600)), K::kExpired);
  EXPECT_TRUE(at(with(good_claims(), "nbf", kNow + 60)).ok());
  expect_refused(at(with(good_claims(), "nbf", kNow + 61)), K::kNotYetValid, "not valid before");
  EXPECT_TRUE(at(with(good_claims(), "iat", kNow + 60)).ok());
  expect_refused(at(with(good_claims(), "iat", kNow + 61)), K::kNotYetValid, "iat");
  EXPECT_TRUE(at(without(without(good_claims(), "nbf"), "iat")).ok());

  JwtVerifierConfig strict = test_config();
  strict.leeway_seconds = 0;
  const JwtVerifier s = verifier(std::move(strict));
  EXPECT_TRUE(s.verify(token(Signer::kEd, with(good_claims(), "exp", kNow + 1)), kNow).ok());
  expect_refused(s.verify(token(Signer::kEd, with(good_claims(), "exp", kNow)), kNow), K::kExpired);
  expect_refused(s.verify(token(Signer::kEd, with(good_claims(), "nbf", kNow + 1)), kNow),
                 K::kNotYetValid);

  // The system clock: a token valid for the next hour.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  json c = good_claims();
  c["exp"] = now + 3600;
  c["nbf"] = now;
  c["iat"] = now;
  EXPECT_TRUE(v.verify(token(Signer::kEd, c)).ok());
  c["exp"] = now - 3600;
  expect_refused(v.verify(token(Signer::kEd, c)), K::kExpired);
}

TEST(JwtVerify, ConfiguredTenantClaim) {
  JwtVerifierConfig c = test_config();
  c.tenant_claim = "org";
  const JwtVerifier v = verifier(std::move(c));
  auto r =
      v.verify(token(Signer::kEd, with(without(good_claims(), "tenant"), "org", "Team_1.x")), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tenant, "Team_1.x");
  expect_refused(v.verify(token(Signer::kEd), kNow), K::kInvalidClaim, "org: missing");
}

TEST(JwtVerify, Es256HighSIsAcceptedOutOfRangeIsNot) {
  // ECDSA signatures (r, s) and (r, n - s) both verify; JWS does not require low s and common
  // signers (PyJWT, pyca/cryptography) do not normalise, so both are accepted.
  const JwtVerifier v = verifier();
  const std::string t = token(Signer::kES, good_claims(), "es");
  const size_t dot = t.rfind('.');
  Bytes sig = std::move(base64url_decode(t.substr(dot + 1))).value();
  static const uint8_t n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  auto with_sig = [&](const Bytes& s) { return t.substr(0, dot + 1) + base64url_encode(s); };
  Bytes flipped = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const int d = n[i] - sig[32 + i] - borrow;
    flipped[32 + i] = static_cast<uint8_t>(d & 0xff);
    borrow = d < 0 ? 1 : 0;
  }
  EXPECT_TRUE(v.verify(with_sig(flipped), kNow).ok());
  // s = n, r = 0, s = 0, 63 and 65 bytes: refused.
  Bytes s_is_n = sig;
  std::copy(n, n + 32, s_is_n.begin() + 32);
  expect_refused(v.verify(with_sig(s_is_n), kNow), K::kBadSignature);
  Bytes r_zero = sig;
  std::fill(r_zero.begin(), r_zero.begin() + 32, 0);
  expect_refused(v.verify(with_sig(r_zero), kNow), K::kBadSignature);
  Bytes s_zero = sig;
  std::fill(s_zero.begin() + 32, s_zero.end(), 0);
  expect_refused(v.verify(with_sig(s_zero), kNow), K::kBadSignature);
  expect_refused(v.verify(with_sig(Bytes(sig.begin(), sig.end() - 1)), kNow), K::kBadSignature);
  Bytes longer = sig;
  longer.push_back(0);
  expect_refused(v.verify(with_sig(longer), kNow), K::kBadSignature);
}

// ---- refused: shape ------------------------------------------------------------------------

TEST(JwtVerify, RefusesMalformedShapes) {
  const JwtVerifier v = verifier();
  const std::string good = token(Signer::kHS, good_claims(), "hs");
  expect_refused(v.verify("", kNow), K::kMalformed, "empty token");
  expect_refused(v.verify(std::string(8193, 'a'), kNow), K::kMalformed, "limit is 8192");
  expect_refused(v.verify(good + std::string(8192, 'A'), kNow), K::kMalformed, "limit");
  expect_refused(v.verify("abc", kNow), K::kMalformed, "1 segment");
  expect_refused(v.verify("abc.def", kNow), K::kMalformed, "2 segment");
  expect_refused(v.verify(good + ".x", kNow), K::kMalformed, "4 segment");
  expect_refused(v.verify(good.substr(good.find('.')), kNow), K::kMalformed, "empty header");
  const size_t d1 = good.find('.'), d2 = good.rfind('.');
  expect_refused(v.verify(good.substr(0, d1) + "." + good.substr(d2), kNow), K::kMalformed,
                 "empty payload");
  // Padding, another alphabet, whitespace.
  expect_refused(v.verify(good.substr(0, d1) + "=" + good.substr(d1), kNow), K::kMalformed,
                 "header: base64url");
  std::string plus = good;
  plus[d1 + 3] = '+';
  expect_refused(v.verify(plus, kNow), K::kMalformed, "payload: base64url");
  expect_refused(v.verify(good + "=", kNow), K::kMalformed, "signature: base64url");
  expect_refused(v.verify(" " + good, kNow), K::kMalformed, "header: base64url");
  // A second encoding of the same signature bytes (43 chars: two unused bits) is refused.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string alt = good;
  alt.back() = kAlphabet[kAlphabet.find(alt.back()) ^ 1];
  ASSERT_EQ((good.size() - d2 - 1) % 4, 3u);
  expect_refused(v.verify(alt, kNow), K::kMalformed, "canonical");
}

TEST(JwtVerify, RefusesBadHeaders) {
  const JwtVerifier v = verifier();
  const std::string claims = good_claims().dump();
  auto hdr = [&](const std::string& h) {
    return v.verify(sign_token(h, claims, Signer::kHS), kNow);
  };
  expect_refused(hdr("not json"), K::kMalformed, "header: not valid JSON");
  expect_refused(hdr(R"(["HS256"])"), K::kMalformed, "header: not a JSON object");
  expect_refused(hdr(R"({"alg":"HS256"} x)"), K::kMalformed, "header: not valid JSON");
  expect_refused(hdr(R"({"alg":"HS256","alg":"HS256"})"), K::kMalformed, "duplicate member name");
  expect_refused(hdr(R"({"alg":"none","alg":"HS256"})"), K::kMalformed, "duplicate");
  expect_refused(hdr(R"({"alg":"HS256","x":)" + std::string(17, '[') + std::string(17, ']') + "}"),
                 K::kMalformed, "nested deeper than 16");
  EXPECT_TRUE(
      hdr(R"({"alg":"HS256","x":)" + std::string(15, '[') + std::string(15, ']') + "}").ok());
  expect_refused(hdr("{\"alg\":\"HS256\",\"x\":\"\xff\"}"), K::kMalformed, "not valid JSON");
  expect_refused(hdr(R"({"typ":"JWT"})"), K::kMalformed, "header.alg: missing");
  expect_refused(hdr(R"({"alg":1})"), K::kMalformed, "header.alg: not a string");
  expect_refused(hdr(R"({"alg":"HS256","crit":["exp"]})"), K::kMalformed, "header.crit");
  expect_refused(hdr(R"({"alg":"HS256","cty":"JWT"})"), K::kMalformed, "nested");
  expect_refused(hdr(R"({"alg":"HS256","kid":""})"), K::kMalformed, "header.kid: empty");
  expect_refused(hdr(R"({"alg":"HS256","kid":5})"), K::kMalformed, "header.kid: not a string");
  expect_refused(hdr(R"({"alg":"HS256","kid":")" + std::string(257, 'k') + "\"}"), K::kMalformed,
                 "header.kid");
}

TEST(JwtVerify, RefusesAlgorithmsNotAllowed) {
  const JwtVerifier v = verifier();
  const std::string claims = b64(good_claims().dump());
  // Unsecured JWS, in any spelling, with or without a signature.
  for (const char* none : {"none", "None", "NONE"}) {
    const std::string h = b64(json{{"alg", none}}.dump());
    expect_refused(v.verify(h + "." + claims + ".", kNow), K::kAlgNotAllowed, "never accepted");
    expect_refused(v.verify(h + "." + claims + ".AAAA", kNow), K::kAlgNotAllowed);
  }
  for (const char* alg : {"RS256", "HS512", "ES384", "PS256", "Ed25519", "hs256", ""}) {
    expect_refused(
        v.verify(sign_token(json{{"alg", alg}}.dump(), good_claims().dump(), Signer::kHS), kNow),
        K::kAlgNotAllowed, "not supported");
  }
  // The key named by kid must allow the alg.
  expect_refused(
      v.verify(sign_token(R"({"alg":"HS256","kid":"ed"})", good_claims().dump(), Signer::kHS),
               kNow),
      K::kAlgNotAllowed, "does not allow HS256");
  expect_refused(
      v.verify(sign_token(R"({"alg":"ES256","kid":"ed"})", good_claims().dump(), Signer::kES),
               kNow),
      K::kAlgNotAllowed, "does not allow ES256");

  // Algorithm confusion: an HS256 token MACed with the Ed25519 public key as the secret.
  std::vector<JwtKey> ed_only;
  ed_only.push_back(
      std::move(JwtKey::ed25519(ed_key().public_key(), "ed", {JwsAlg::kEdDSA})).value());
  const JwtVerifier ve = verifier(test_config(std::move(ed_only)));
  const PublicKey& pk = ed_key().public_key();
  for (const char* h : {R"({"alg":"HS256"})", R"({"alg":"HS256","kid":"ed"})"}) {
    const std::string input = b64(h) + "." + claims;
    const std::string forged = input + "." + base64url_encode(hmac(pk, input));
    expect_refused(ve.verify(forged, kNow), K::kAlgNotAllowed);
  }
  expect_refused(ve.verify(token(Signer::kES), kNow), K::kAlgNotAllowed, "no key allows ES256");
}

TEST(JwtVerify, KeySelection) {
  const JwtVerifier v = verifier();
  expect_refused(v.verify(token(Signer::kEd, good_claims(), "other"), kNow), K::kUnknownKid,
                 "no key has the kid \"other\"");
  // Two keys allow EdDSA: a token without kid is ambiguous.
  std::vector<JwtKey> keys = test_keys();
  const SigningKey other = std::move(SigningKey::from_seed(Bytes(32, 0x43))).value();
  keys.push_back(std::move(JwtKey::ed25519(other.public_key(), "ed2", {JwsAlg::kEdDSA})).value());
  const JwtVerifier two = verifier(test_config(std::move(keys)));
  expect_refused(two.verify(token(Signer::kEd), kNow), K::kUnknownKid, "must name its key");
  EXPECT_TRUE(two.verify(token(Signer::kEd, good_claims(), "ed"), kNow).ok());
  // Signed by "ed" but claiming to be "ed2".
  expect_refused(two.verify(token(Signer::kEd, good_claims(), "ed2"), kNow), K::kBadSignature);
}

TEST(JwtVerify, RefusesBadSignatures) {
  const JwtVerifier v = verifier();
  for (Signer s : {Signer::kHS, Signer::kEd, Signer::kES}) {
    const std::string t = token(s);
    const size_t d1 = t.find('.'), d2 = t.rfind('.');
    // Other claims under the old signature.
    const std::string swapped =
        t.substr(0, d1) + "." + b64(with(good_claims(), "tenant", "evil").dump()) + t.substr(d2);
    expect_refused(v.verify(swapped, kNow), K::kBadSignature, "does not verify");
    // Signed by another key.
    expect_refused(
        v.verify(t.substr(0, d2 + 1) + base64url_encode(Bytes(s == Signer::kHS ? 32 : 64, 9)),
                 kNow),
        K::kBadSignature);
    expect_refused(v.verify(t.substr(0, d2 + 1), kNow), K::kBadSignature, "empty");
    // One byte short.
    Bytes sig = std::move(base64url_decode(t.substr(d2 + 1))).value();
    sig.pop_back();
    expect_refused(v.verify(t.substr(0, d2 + 1) + base64url_encode(sig), kNow), K::kBadSignature);
  }
  // The signature covers the header as sent: re-encoding it differently breaks it.
  const std::string t = token(Signer::kHS);
  const std::string other_header = b64(R"({"typ":"JWT","alg":"HS256"})");
  expect_refused(v.verify(other_header + t.substr(t.find('.')), kNow), K::kBadSignature);
}

// ---- refused: claims -----------------------------------------------------------------------

TEST(JwtVerify, RefusesBadClaimsJson) {
  const JwtVerifier v = verifier();
  auto raw = [&](const std::string& claims) {
    return v.verify(sign_token(R"({"alg":"HS256"})", claims, Signer::kHS), kNow);
  };
  expect_refused(raw("nope"), K::kMalformed, "claims: not valid JSON");
  expect_refused(raw("[1,2]"), K::kMalformed, "claims: not a JSON object");
  expect_refused(raw("\"str\""), K::kMalformed, "claims: not a JSON object");
  std::string dup = good_claims().dump();
  dup.insert(1, R"("tenant":"other",)");
  expect_refused(raw(dup), K::kMalformed, "duplicate member name \"tenant\"");
  std::string dup_exp = good_claims().dump();
  dup_exp.insert(1, R"("exp":99999999999,)");
  expect_refused(raw(dup_exp), K::kMalformed, "duplicate member name \"exp\"");
  // Duplicates nested in objects too; equal names in sibling objects are fine.
  std::string nested = good_claims().dump();
  nested.insert(1, R"("x":{"a":1,"a":2},)");
  expect_refused(raw(nested), K::kMalformed, "duplicate");
  std::string siblings = good_claims().dump();
  siblings.insert(1, R"("x":{"a":1},"y":{"a":2},"z":[{"a":1},{"a":1}],)");
  EXPECT_TRUE(raw(siblings).ok());
  std::string deep = good_claims().dump();
  deep.insert(1, "\"x\":" + std::string(16, '[') + std::string(16, ']') + ",");
  expect_refused(raw(deep), K::kMalformed, "nested deeper");
}

TEST(JwtVerify, RefusesBadNumericDates) {
  const JwtVerifier v = verifier();
  auto r = [&](json claims) { return v.verify(token(Signer::kEd, claims), kNow); };
  expect_refused(r(without(good_claims(), "exp")), K::kInvalidClaim, "exp: missing");
  expect_refused(r(with(good_claims(), "exp", static_cast<double>(kNow + 300) + 0.5)),
                 K::kInvalidClaim, "exp is not an integer");
  expect_refused(r(with(good_claims(), "exp", 1.8e9 + 300)), K::kInvalidClaim, "not an integer");
  expect_refused(r(with(good_claims(), "exp", std::to_string(kNow + 300))), K::kInvalidClaim,
                 "exp is not a number");
  expect_refused(r(with(good_claims(), "exp", nullptr)), K::kInvalidClaim, "not a number");
  expect_refused(r(with(good_claims(), "exp", -1)), K::kInvalidClaim, "exp is negative");
  expect_refused(r(with(good_claims(), "exp", kJwtMaxNumericDate + 1)), K::kInvalidClaim,
                 "out of range");
  expect_refused(r(with(good_claims(), "exp", UINT64_MAX)), K::kInvalidClaim, "out of range");
  EXPECT_TRUE(r(with(good_claims(), "exp", kJwtMaxNumericDate)).ok());
  expect_refused(r(with(good_claims(), "nbf", 1.5)), K::kInvalidClaim, "nbf is not an integer");
  expect_refused(r(with(good_claims(), "iat", "now")), K::kInvalidClaim, "iat is not a number");
  expect_refused(r(with(good_claims(), "nbf", -5)), K::kInvalidClaim, "nbf is negative");
  // A huge integer literal beyond uint64 (parsed as a float) is not an integer either.
  auto huge = v.verify(
      sign_token(R"({"alg":"HS256"})", R"({"exp":123456789012345678901234567890})", Signer::kHS),
      kNow);
  expect_refused(huge, K::kInvalidClaim, "not an integer");
}

TEST(JwtVerify, RefusesWrongIssuerAndAudience) {
  const JwtVerifier v = verifier();
  auto r = [&](json claims) { return v.verify(token(Signer::kEd, claims), kNow); };
  expect_refused(r(without(good_claims(), "iss")), K::kWrongIssuer, "iss: missing");
  expect_refused(r(with(good_claims(), "iss", "https://evil.example")), K::kWrongIssuer,
                 "\"https://evil.example\" is not the configured issuer");
  expect_refused(r(with(good_claims(), "iss", "https://issuer.example/")), K::kWrongIssuer);
  expect_refused(r(with(good_claims(), "iss", 1)), K::kWrongIssuer, "not a string");
  expect_refused(r(without(good_claims(), "aud")), K::kWrongAudience, "aud: missing");
  expect_refused(r(with(good_claims(), "aud", "other")), K::kWrongAudience, "ritma-api");
  expect_refused(r(with(good_claims(), "aud", json::array())), K::kWrongAudience);
  expect_refused(r(with(good_claims(), "aud", {"a", "b"})), K::kWrongAudience);
  expect_refused(r(with(good_claims(), "aud", "RITMA-API")), K::kWrongAudience);
  expect_refused(r(with(good_claims(), "aud", json::array({kAudience, 3}))), K::kInvalidClaim,
                 "aud: an element is not a string");
  expect_refused(r(with(good_claims(), "aud", json::object({{"a", kAudience}}))), K::kInvalidClaim,
                 "aud: neither");
}

TEST(JwtVerify, RefusesBadTenantAndSubject) {
  const JwtVerifier v = verifier();
  auto r = [&](json claims) { return v.verify(token(Signer::kEd, claims), kNow); };
  expect_refused(r(without(good_claims(), "tenant")), K::kInvalidClaim, "tenant: missing");
  expect_refused(r(with(good_claims(), "tenant", 7)), K::kInvalidClaim, "tenant: not a string");
  for (const std::string& bad : std::vector<std::string>{"", "a/b", "a b", "ténant", "..", ".",
                                                         "a\nb", "x:y", std::string(65, 'a')}) {
    expect_refused(r(with(good_claims(), "tenant", bad)), K::kInvalidClaim,
                   "does not match [A-Za-z0-9._-]{1,64}");
  }
  for (const std::string& ok :
       std::vector<std::string>{"a", "A-b_c.9", "...", std::string(64, 'z')}) {
    auto res = r(with(good_claims(), "tenant", ok));
    ASSERT_TRUE(res.ok()) << ok << ": " << res.error().message;
    EXPECT_EQ(res->tenant, ok);
  }
  expect_refused(r(without(good_claims(), "sub")), K::kInvalidClaim, "sub: missing");
  expect_refused(r(with(good_claims(), "sub", 42)), K::kInvalidClaim, "sub: not a string");
  expect_refused(r(with(good_claims(), "sub", "")), K::kInvalidClaim, "sub: must be");
  expect_refused(r(with(good_claims(), "sub", "a\x1b[31mb")), K::kInvalidClaim, "sub: must be");
  expect_refused(r(with(good_claims(), "sub", std::string(257, 's'))), K::kInvalidClaim);
  EXPECT_TRUE(r(with(good_claims(), "sub", std::string(256, 's'))).ok());
  EXPECT_TRUE(r(with(good_claims(), "sub", "système")).ok());
}

TEST(JwtVerify, ErrorsHaveNamesAndConvert) {
  EXPECT_EQ(token_error_name(K::kMalformed), "malformed");
  EXPECT_EQ(token_error_name(K::kAlgNotAllowed), "alg_not_allowed");
  EXPECT_EQ(token_error_name(K::kUnknownKid), "unknown_kid");
  EXPECT_EQ(token_error_name(K::kBadSignature), "bad_signature");
  EXPECT_EQ(token_error_name(K::kExpired), "expired");
  EXPECT_EQ(token_error_name(K::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(token_error_name(K::kWrongIssuer), "wrong_issuer");
  EXPECT_EQ(token_error_name(K::kWrongAudience), "wrong_audience");
  EXPECT_EQ(token_error_name(K::kInvalidClaim), "invalid_claim");
  const JwtVerifier v = verifier();
  auto r = v.verify(token(Signer::kEd, with(good_claims(), "exp", kNow - 3600)), kNow);
  ASSERT_FALSE(r.ok());
  const Error e = r.error();
  EXPECT_EQ(e.message.rfind("expired: expired at", 0), 0u) << e.message;
  EXPECT_EQ(parse_jws_alg("EdDSA").value(), JwsAlg::kEdDSA);
  EXPECT_EQ(jws_alg_name(JwsAlg::kES256), "ES256");
  EXPECT_FALSE(parse_jws_alg("none").ok());
}

// ---- interop: PyJWT ------------------------------------------------------------------------

bool have_pyjwt() {
  return test::run_program({"/usr/bin/python3", "-c", "import jwt, cryptography"}).exit_code == 0;
}

TEST(JwtInterop, VerifiesTokensAndKeysMadeByPyJwt) {
  if (!have_pyjwt()) {
    if (test::in_ci()) {
      FAIL() << "python3-jwt is missing (apt-get install python3-jwt python3-cryptography)";
    }
    GTEST_SKIP() << "python3-jwt or python3-cryptography is missing (apt-get install "
                    "python3-jwt python3-cryptography); PyJWT interop "
                    "not checked";
  }
  test::TempDir dir;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto gen = test::run_program({"/usr/bin/python3", kScripts + "/pyjwt_tokens.py",
                                dir.path().string(), std::to_string(now)});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::ifstream tokens_in(dir / "tokens.json");
  std::stringstream ss;
  ss << tokens_in.rdbuf();
  const json tokens = json::parse(ss.str());

  // Keys from the secret file and the PEM files, no kids: chosen by alg.
  std::vector<JwtKey> keys;
  auto hs = JwtKey::hmac_secret_file(dir / "hs256.secret", "", {JwsAlg::kHS256});
  ASSERT_TRUE(hs.ok()) << hs.error().message;
  keys.push_back(*hs);
  auto ed = JwtKey::public_key_pem_file(dir / "ed25519.pem", "", {JwsAlg::kEdDSA});
  ASSERT_TRUE(ed.ok()) << ed.error().message;
  keys.push_back(*ed);
  auto es = JwtKey::public_key_pem_file(dir / "p256.pem", "", {JwsAlg::kES256});
  ASSERT_TRUE(es.ok()) << es.error().message;
  keys.push_back(*es);
  const JwtVerifier v = verifier(test_config(std::move(keys)));
  std::vector<std::string> names = {"hs256", "eddsa"};
  for (int i = 0; i < 16; ++i) names.push_back("es256_" + std::to_string(i));
  for (const std::string& name : names) {
    auto r = v.verify(tokens.at(name).get<std::string>(), now);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_EQ(r->tenant, "acme-prod");
    EXPECT_EQ(r->actor, "alice@example.com");
    EXPECT_EQ(r->exp, now + 300);
    EXPECT_EQ(r->claims.at("scope"), "runs:write");
  }
  expect_refused(v.verify(tokens.at("none").get<std::string>(), now), K::kAlgNotAllowed);
  // After expiry (+ leeway), before nbf (- leeway).
  expect_refused(v.verify(tokens.at("eddsa").get<std::string>(), now + 360), K::kExpired);
  expect_refused(v.verify(tokens.at("eddsa").get<std::string>(), now - 71), K::kNotYetValid);

  // The JWKS written by PyJWT's to_jwk: oct refused unless allowed, then every key works.
  const fs::path jwks_path = dir / "jwks.json";
  expect_error(load_jwks_file(jwks_path), "keys[2].kty: oct");
  JwksOptions opts;
  opts.allow_oct = true;
  opts.allowed = {JwsAlg::kHS256, JwsAlg::kEdDSA, JwsAlg::kES256};
  chmod(jwks_path.c_str(), 0600);
  auto set = load_jwks_file(jwks_path, opts);
  ASSERT_TRUE(set.ok()) << set.error().message;
  const JwtVerifier vj = verifier(test_config(*set));
  for (const char* name : {"hs256_kid", "eddsa_kid", "es256_kid"}) {
    auto r = vj.verify(tokens.at(name).get<std::string>(), now);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_FALSE(r->kid.empty());
  }
  expect_refused(vj.verify(tokens.at("expired").get<std::string>(), now), K::kExpired);
  expect_refused(vj.verify(tokens.at("wrong_aud").get<std::string>(), now), K::kWrongAudience);
  // Without kid, three keys: each alg has exactly one, so PyJWT's kid-less tokens verify too.
  EXPECT_TRUE(vj.verify(tokens.at("es256_3").get<std::string>(), now).ok());
  // Public keys only: the HS256 token no longer has a key.
  auto pub = load_jwks_file(jwks_path, JwksOptions{});
  expect_error(pub, "keys[2].kty");
}

}  // namespace
}  // namespace ritma::api
