#include "api/jwt.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "core/strict_json.h"

namespace ritma::api {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxKidBytes = 256;
constexpr size_t kMaxSubBytes = 256;
constexpr size_t kMinHmacSecretBytes = 32;
constexpr size_t kMaxKeyFileBytes = 1 << 20;

// A value from a token, quoted for a message: JSON-escaped ASCII, cut at 64 bytes.
std::string quote(std::string_view s) {
  const bool cut = s.size() > 64;
  std::string q =
      json(std::string(s.substr(0, 64))).dump(-1, ' ', true, json::error_handler_t::replace);
  if (cut) q += "...";
  return q;
}

TokenError token_error(TokenErrorKind kind, std::string message) {
  return TokenError{kind, std::move(message)};
}

// ---- base64url -----------------------------------------------------------------------------

int b64url_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// ---- strict JSON ---------------------------------------------------------------------------

// A JSON object, refusing duplicate names, deep nesting and anything but an object.
Result<json> parse_strict_object(std::string_view text, int max_depth) {
  RITMA_ASSIGN_OR_RETURN(json doc, parse_strict_json(text, max_depth));
  if (!doc.is_object()) return make_error("not a JSON object");
  return doc;
}

// ---- files ---------------------------------------------------------------------------------

Result<Bytes> read_small_file(const std::filesystem::path& path, std::string_view what,
                              bool secret) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return make_error("cannot open " + std::string(what) + " " + path.string() + ": " +
                      std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return make_error(std::string(what) + " " + path.string() + " is not a regular file");
  }
  if (secret && (st.st_mode & 077) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error("refusing to load " + std::string(what) + " " + path.string() +
                      ": its mode " + mode + " lets group or others access it; run: chmod 600 " +
                      path.string());
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileBytes) {
    close(fd);
    return make_error(std::string(what) + " " + path.string() + " is larger than " +
                      std::to_string(kMaxKeyFileBytes) + " bytes");
  }
  Bytes data(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      close(fd);
      if (secret) sodium_memzero(data.data(), data.size());
      return make_error("cannot read " + std::string(what) + " " + path.string() +
                        (err ? std::string(": ") + std::strerror(err) : ": short read"));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return data;
}

// ---- algorithms ----------------------------------------------------------------------------

bool fits(JwtKey::Type type, JwsAlg alg) {
  switch (type) {
    case JwtKey::Type::kHmacSecret:
      return alg == JwsAlg::kHS256;
    case JwtKey::Type::kEd25519:
      return alg == JwsAlg::kEdDSA;
    case JwtKey::Type::kP256:
      return alg == JwsAlg::kES256;
  }
  return false;
}

std::string_view type_name(JwtKey::Type type) {
  switch (type) {
    case JwtKey::Type::kHmacSecret:
      return "HMAC secret";
    case JwtKey::Type::kEd25519:
      return "Ed25519";
    case JwtKey::Type::kP256:
      return "P-256";
  }
  return "?";
}

std::string alg_list(const std::vector<JwsAlg>& algs) {
  std::string out;
  for (JwsAlg a : algs) {
    if (!out.empty()) out += ",";
    out += jws_alg_name(a);
  }
  return out;
}

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The order n of P-256, big-endian.
constexpr std::array<uint8_t, 32> kP256Order = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// True when the 32-byte big-endian integer is in [1, n-1].
bool in_scalar_range(const uint8_t* v) {
  if (std::all_of(v, v + 32, [](uint8_t b) { return b == 0; })) return false;
  return std::lexicographical_compare(v, v + 32, kP256Order.begin(), kP256Order.end());
}

void der_integer(Bytes& out, const uint8_t* v) {
  size_t i = 0;
  while (i < 31 && v[i] == 0) ++i;
  const bool pad = (v[i] & 0x80) != 0;
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(32 - i + (pad ? 1 : 0)));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), v + i, v + 32);
}

// JWS's ES256 signature is r || s (RFC 7518 §3.4); OpenSSL wants an ASN.1 ECDSA-Sig-Value.
Bytes ecdsa_raw_to_der(ByteSpan raw) {
  Bytes body;
  der_integer(body, raw.data());
  der_integer(body, raw.data() + 32);
  Bytes der;
  der.push_back(0x30);
  der.push_back(static_cast<uint8_t>(body.size()));  // at most 70: short form
  append(der, body);
  return der;
}

Result<EvpPkeyPtr> p256_from_point(ByteSpan x, ByteSpan y) {
  if (x.size() != 32 || y.size() != 32) {
    return make_error("a P-256 coordinate must be 32 bytes (got " + std::to_string(x.size()) +
                      " and " + std::to_string(y.size()) + ")");
  }
  std::array<uint8_t, 65> point;
  point[0] = 0x04;
  std::copy(x.begin(), x.end(), point.begin() + 1);
  std::copy(y.begin(), y.end(), point.begin() + 33);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* raw = nullptr;
  const bool built = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                     EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  EvpPkeyPtr pkey(raw);
  bool valid = false;
  if (built && pkey) {
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr);
    valid = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
  }
  ERR_clear_error();
  if (!valid) return make_error("the point (x, y) is not on the P-256 curve");
  return pkey;
}

bool is_p256(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return false;
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) return false;
  const std::string_view n(name, std::min(len, sizeof name - 1));
  return n == "prime256v1" || n == "P-256" || n == "secp256r1";
}

Status check_kid(const std::string& kid) {
  if (kid.size() > kMaxKidBytes) {
    return make_error("a kid must be at most " + std::to_string(kMaxKidBytes) + " bytes");
  }
  return {};
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool valid_tenant(std::string_view t) {
  if (t.empty() || t.size() > 64 || t == "." || t == "..") return false;
  return std::all_of(t.begin(), t.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool acceptable_typ(std::string_view typ) {
  if (typ.size() > 12 && ieq(typ.substr(0, 12), "application/")) typ.remove_prefix(12);
  return ieq(typ, "JWT") || ieq(typ, "at+jwt");
}

// A NumericDate (RFC 7519 §2), here an integer in [0, kJwtMaxNumericDate].
Result<int64_t> numeric_date(const json& v, std::string_view name) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(kJwtMaxNumericDate)) {
      return make_error(std::string(name) + " is out of range (after year 9999)");
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return make_error(std::string(name) + " is negative");
  if (v.is_number_float()) return make_error(std::string(name) + " is not an integer");
  return make_error(std::string(name) + " is not a number");
}

}  // namespace

// ---- public helpers ------------------------------------------------------------------------

std::string_view jws_alg_name(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kHS256:
      return "HS256";
    case JwsAlg::kEdDSA:
      return "EdDSA";
    case JwsAlg::kES256:
      return "ES256";
  }
  return "?";
}

Result<JwsAlg> parse_jws_alg(std::string_view name) {
  if (name == "HS256") return JwsAlg::kHS256;
  if (name == "EdDSA") return JwsAlg::kEdDSA;
  if (name == "ES256") return JwsAlg::kES256;
  return make_error("alg " + quote(name) + " is not supported (HS256, EdDSA, ES256)");
}

std::string base64url_encode(ByteSpan data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return make_error("base64url: a length of " + std::to_string(text.size()) +
                      " characters is impossible");
  }
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = b64url_value(static_cast<unsigned char>(text[i]));
    if (v < 0) {
      return make_error("base64url: character " + std::to_string(i) +
                        " is outside the alphabet [A-Za-z0-9_-] (padding is not allowed)");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0 && acc != 0) {
    return make_error("base64url: not canonical (the last character has unused bits set)");
  }
  return out;
}

std::string_view token_error_name(TokenErrorKind kind) {
  switch (kind) {
    case TokenErrorKind::kMalformed:
      return "malformed";
    case TokenErrorKind::kAlgNotAllowed:
      return "alg_not_allowed";
    case TokenErrorKind::kUnknownKid:
      return "unknown_kid";
    case TokenErrorKind::kBadSignature:
      return "bad_signature";
    case TokenErrorKind::kExpired:
      return "expired";
    case TokenErrorKind::kNotYetValid:
      return "not_yet_valid";
    case TokenErrorKind::kWrongIssuer:
      return "wrong_issuer";
    case TokenErrorKind::kWrongAudience:
      return "wrong_audience";
    case TokenErrorKind::kInvalidClaim:
      return "invalid_claim";
  }
  return "?";
}

TokenError::operator Error() const {
  return make_error(std::string(token_error_name(kind)) + ": " + message);
}

// ---- keys ----------------------------------------------------------------------------------

struct JwtKey::Material {
  Bytes secret;  // HS256
  PublicKey ed25519{};
  EVP_PKEY* p256 = nullptr;

  Material() = default;
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;
  ~Material() {
    if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
    EVP_PKEY_free(p256);
  }
};

Result<JwtKey> JwtKey::make(std::shared_ptr<const Material> m, Type type, std::string kid,
                            std::vector<JwsAlg> allowed) {
  RITMA_TRY(check_kid(kid));
  if (allowed.empty()) {
    return make_error("the " + std::string(type_name(type)) + " key" +
                      (kid.empty() ? std::string() : " " + quote(kid)) +
                      " allows no algorithm (list them explicitly)");
  }
  std::vector<JwsAlg> unique;
  for (JwsAlg a : allowed) {
    if (!fits(type, a)) {
      return make_error("a " + std::string(type_name(type)) + " key cannot be used with " +
                        std::string(jws_alg_name(a)));
    }
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  JwtKey k;
  k.material_ = std::move(m);
  k.type_ = type;
  k.kid_ = std::move(kid);
  k.allowed_ = std::move(unique);
  return k;
}

bool JwtKey::allows(JwsAlg alg) const {
  return std::find(allowed_.begin(), allowed_.end(), alg) != allowed_.end();
}

Result<JwtKey> JwtKey::hmac_secret(ByteSpan secret, std::string kid, std::vector<JwsAlg> allowed) {
  if (secret.size() < kMinHmacSecretBytes) {
    return make_error("an HS256 secret must be at least " + std::to_string(kMinHmacSecretBytes) +
                      " bytes (got " + std::to_string(secret.size()) + ")");
  }
  ensure_sodium();
  auto m = std::make_shared<Material>();
  m->secret.assign(secret.begin(), secret.end());
  return make(std::move(m), Type::kHmacSecret, std::move(kid), std::move(allowed));
}

Result<JwtKey> JwtKey::hmac_secret_file(const std::filesystem::path& path, std::string kid,
                                        std::vector<JwsAlg> allowed) {
  RITMA_ASSIGN_OR_RETURN(Bytes secret, read_small_file(path, "HS256 secret file", true));
  auto key = hmac_secret(secret, std::move(kid), std::move(allowed));
  sodium_memzero(secret.data(), secret.size());
  if (!key.ok()) return make_error(path.string() + ": " + key.error().message);
  return key;
}

Result<JwtKey> JwtKey::ed25519(const PublicKey& key, std::string kid, std::vector<JwsAlg> allowed) {
  ensure_sodium();
  if (crypto_core_ed25519_is_valid_point(key.data()) != 1) {
    return make_error("not a valid Ed25519 public key (not a canonical point of the main group)");
  }
  auto m = std::make_shared<Material>();
  m->ed25519 = key;
  return make(std::move(m), Type::kEd25519, std::move(kid), std::move(allowed));
}

Result<JwtKey> JwtKey::p256(ByteSpan x, ByteSpan y, std::string kid, std::vector<JwsAlg> allowed) {
  RITMA_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, p256_from_point(x, y));
  auto m = std::make_shared<Material>();
  m->p256 = pkey.release();
  return make(std::move(m), Type::kP256, std::move(kid), std::move(allowed));
}

Result<JwtKey> JwtKey::public_key_pem(std::string_view pem, std::string kid,
                                      std::vector<JwsAlg> allowed) {
  if (pem.size() > kMaxKeyFileBytes) return make_error("PEM text too large");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return make_error("out of memory reading a PEM key");
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  ERR_clear_error();
  if (!pkey) {
    return make_error(
        "not a PEM public key (expected -----BEGIN PUBLIC KEY----- holding an "
        "Ed25519 or P-256 SubjectPublicKeyInfo)");
  }
  if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_ED25519) {
    PublicKey raw{};
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), raw.data(), &len) != 1 || len != raw.size()) {
      ERR_clear_error();
      return make_error("cannot read the Ed25519 public key from the PEM");
    }
    return ed25519(raw, std::move(kid), std::move(allowed));
  }
  if (is_p256(pkey.get())) {
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr);
    const bool valid = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    ERR_clear_error();
    if (!valid) return make_error("the PEM's P-256 point is not valid");
    auto m = std::make_shared<Material>();
    m->p256 = pkey.release();
    return make(std::move(m), Type::kP256, std::move(kid), std::move(allowed));
  }
  const char* type = EVP_PKEY_get0_type_name(pkey.get());
  return make_error(std::string("the PEM key is ") + (type ? type : "of an unknown type") +
                    (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_EC ? " on another curve" : "") +
                    "; only Ed25519 and P-256 keys are supported");
}

Result<JwtKey> JwtKey::public_key_pem_file(const std::filesystem::path& path, std::string kid,
                                           std::vector<JwsAlg> allowed) {
  RITMA_ASSIGN_OR_RETURN(Bytes pem, read_small_file(path, "public key file", false));
  auto key = public_key_pem(as_chars(pem), std::move(kid), std::move(allowed));
  if (!key.ok()) return make_error(path.string() + ": " + key.error().message);
  return key;
}

bool JwtKey::verify(JwsAlg alg, std::string_view signing_input, ByteSpan signature) const {
  if (!material_ || !allows(alg)) return false;
  const ByteSpan msg = as_bytes(signing_input);
  switch (alg) {
    case JwsAlg::kHS256: {
      if (signature.size() != crypto_auth_hmacsha256_BYTES || material_->secret.empty()) {
        return false;
      }
      crypto_auth_hmacsha256_state st;
      std::array<uint8_t, crypto_auth_hmacsha256_BYTES> mac;
      crypto_auth_hmacsha256_init(&st, material_->secret.data(), material_->secret.size());
      crypto_auth_hmacsha256_update(&st, msg.data(), msg.size());
      crypto_auth_hmacsha256_final(&st, mac.data());
      sodium_memzero(&st, sizeof st);
      return sodium_memcmp(mac.data(), signature.data(), mac.size()) == 0;
    }
    case JwsAlg::kEdDSA:
      return type_ == Type::kEd25519 && verify_signature(material_->ed25519, msg, signature);
    case JwsAlg::kES256: {
      if (material_->p256 == nullptr || signature.size() != 64) return false;
      if (!in_scalar_range(signature.data()) || !in_scalar_range(signature.data() + 32)) {
        return false;
      }
      const Bytes der = ecdsa_raw_to_der(signature);
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      const bool ok =
          ctx != nullptr &&
          EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, material_->p256) == 1 &&
          EVP_DigestVerify(ctx, der.data(), der.size(), msg.data(), msg.size()) == 1;
      EVP_MD_CTX_free(ctx);
      ERR_clear_error();
      return ok;
    }
  }
  return false;
}

// ---- JWKS ----------------------------------------------------------------------------------

namespace {

// An optional string member; an error naming `where.name` when it is there but not a string.
Result<std::optional<std::string>> optional_string(const json& obj, const std::string& where,
                                                   const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::optional<std::string>();
  if (!it->is_string()) return make_error(where + "." + name + ": must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> required_string(const json& obj, const std::string& where, const char* name) {
  RITMA_ASSIGN_OR_RETURN(auto v, optional_string(obj, where, name));
  if (!v) return make_error(where + "." + name + ": missing");
  return *v;
}

Result<Bytes> required_b64(const json& obj, const std::string& where, const char* name,
                           size_t exact_size) {
  RITMA_ASSIGN_OR_RETURN(std::string text, required_string(obj, where, name));
  auto bytes = base64url_decode(text);
  if (!bytes.ok()) return make_error(where + "." + name + ": " + bytes.error().message);
  if (exact_size != 0 && bytes->size() != exact_size) {
    return make_error(where + "." + name + ": must decode to " + std::to_string(exact_size) +
                      " bytes (got " + std::to_string(bytes->size()) + ")");
  }
  return std::move(bytes).value();
}

Result<JwtKey> parse_jwk(const json& jwk, const std::string& where, const JwksOptions& options) {
  if (!jwk.is_object()) return make_error(where + ": must be an object");
  RITMA_ASSIGN_OR_RETURN(std::string kty, required_string(jwk, where, "kty"));
  RITMA_ASSIGN_OR_RETURN(auto use, optional_string(jwk, where, "use"));
  if (use && *use != "sig") return make_error(where + ".use: " + quote(*use) + " is not \"sig\"");
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) return make_error(where + ".key_ops: must be an array of strings");
    bool verify = false;
    for (const json& op : *ops) {
      if (!op.is_string()) return make_error(where + ".key_ops: must be an array of strings");
      verify = verify || op.get<std::string>() == "verify";
    }
    if (!verify) return make_error(where + ".key_ops: does not include \"verify\"");
  }
  RITMA_ASSIGN_OR_RETURN(auto alg_name, optional_string(jwk, where, "alg"));
  std::optional<JwsAlg> alg;
  if (alg_name) {
    auto a = parse_jws_alg(*alg_name);
    if (!a.ok()) return make_error(where + ".alg: " + a.error().message);
    alg = *a;
  }
  RITMA_ASSIGN_OR_RETURN(auto kid, optional_string(jwk, where, "kid"));
  if (kid && kid->empty()) return make_error(where + ".kid: must not be empty");
  if (kid && kid->size() > kMaxKidBytes) {
    return make_error(where + ".kid: longer than " + std::to_string(kMaxKidBytes) + " bytes");
  }

  JwtKey::Type type;
  if (kty == "OKP" || kty == "EC") {
    if (jwk.contains("d")) {
      return make_error(where + ".d: a private key has no place in a verification key set");
    }
    RITMA_ASSIGN_OR_RETURN(std::string crv, required_string(jwk, where, "crv"));
    const char* want = kty == "OKP" ? "Ed25519" : "P-256";
    if (crv != want) {
      return make_error(where + ".crv: " + quote(crv) + " is not supported for kty " + kty +
                        " (only " + want + ")");
    }
    type = kty == "OKP" ? JwtKey::Type::kEd25519 : JwtKey::Type::kP256;
  } else if (kty == "oct") {
    if (!options.allow_oct) {
      return make_error(where + ".kty: oct (shared secret) keys are not allowed in this key set");
    }
    type = JwtKey::Type::kHmacSecret;
  } else {
    return make_error(where + ".kty: " + quote(kty) + " is not supported (OKP, EC, oct)");
  }

  if (alg && !fits(type, *alg)) {
    return make_error(where + ".alg: " + std::string(jws_alg_name(*alg)) + " does not fit kty " +
                      kty);
  }
  std::vector<JwsAlg> allowed;
  for (JwsAlg a : options.allowed) {
    if (fits(type, a) && (!alg || *alg == a)) allowed.push_back(a);
  }
  if (allowed.empty()) {
    return make_error(where + ": a " + std::string(type_name(type)) +
                      " key allows none of the configured algorithms (" +
                      alg_list(options.allowed) + ")");
  }

  Result<JwtKey> key = make_error("unreachable");
  switch (type) {
    case JwtKey::Type::kEd25519: {
      RITMA_ASSIGN_OR_RETURN(Bytes x, required_b64(jwk, where, "x", 32));
      PublicKey pk{};
      std::copy(x.begin(), x.end(), pk.begin());
      key = JwtKey::ed25519(pk, kid.value_or(""), allowed);
      break;
    }
    case JwtKey::Type::kP256: {
      RITMA_ASSIGN_OR_RETURN(Bytes x, required_b64(jwk, where, "x", 32));
      RITMA_ASSIGN_OR_RETURN(Bytes y, required_b64(jwk, where, "y", 32));
      key = JwtKey::p256(x, y, kid.value_or(""), allowed);
      break;
    }
    case JwtKey::Type::kHmacSecret: {
      RITMA_ASSIGN_OR_RETURN(Bytes k, required_b64(jwk, where, "k", 0));
      key = JwtKey::hmac_secret(k, kid.value_or(""), allowed);
      sodium_memzero(k.data(), k.size());
      break;
    }
  }
  if (!key.ok()) {
    const char* field = type == JwtKey::Type::kHmacSecret ? ".k" : ".x";
    return make_error(where + field + ": " + key.error().message);
  }
  return key;
}

}  // namespace

Result<std::vector<JwtKey>> parse_jwks(std::string_view text, const JwksOptions& options) {
  try {
    if (text.size() > kMaxKeyFileBytes) return make_error("JWKS: larger than 1 MiB");
    auto doc = parse_strict_object(text, kJwtMaxJsonDepth);
    if (!doc.ok()) return make_error("JWKS: " + doc.error().message);
    auto keys = doc->find("keys");
    if (keys == doc->end()) return make_error("JWKS: keys: missing");
    if (!keys->is_array()) return make_error("JWKS: keys: must be an array");
    if (keys->empty()) return make_error("JWKS: keys: empty");
    std::vector<JwtKey> out;
    std::set<std::string> kids;
    for (size_t i = 0; i < keys->size(); ++i) {
      const std::string where = "keys[" + std::to_string(i) + "]";
      auto key = parse_jwk((*keys)[i], where, options);
      if (!key.ok()) return make_error("JWKS: " + key.error().message);
      if (!key->kid().empty() && !kids.insert(key->kid()).second) {
        return make_error("JWKS: " + where + ".kid: " + quote(key->kid()) +
                          " is used by an earlier key");
      }
      out.push_back(std::move(key).value());
    }
    return out;
  } catch (const std::exception& e) {
    return make_error(std::string("JWKS: ") + e.what());
  }
}

Result<std::vector<JwtKey>> load_jwks_file(const std::filesystem::path& path,
                                           const JwksOptions& options) {
  RITMA_ASSIGN_OR_RETURN(Bytes text, read_small_file(path, "JWKS file", options.allow_oct));
  auto keys = parse_jwks(as_chars(text), options);
  if (options.allow_oct) sodium_memzero(text.data(), text.size());
  if (!keys.ok()) return make_error(path.string() + ": " + keys.error().message);
  return keys;
}

// ---- the verifier --------------------------------------------------------------------------

Result<JwtVerifier> JwtVerifier::create(JwtVerifierConfig config) {
  if (config.issuer.empty()) return make_error("token verifier: no issuer configured");
  if (config.audience.empty()) return make_error("token verifier: no audience configured");
  if (config.tenant_claim.empty()) return make_error("token verifier: empty tenant claim name");
  if (config.leeway_seconds < 0 || config.leeway_seconds > 3600) {
    return make_error("token verifier: leeway must be within [0, 3600] seconds");
  }
  if (config.max_token_bytes < 256 || config.max_token_bytes > 65536) {
    return make_error("token verifier: max token size must be within [256, 65536] bytes");
  }
  if (config.keys.empty()) return make_error("token verifier: no key configured");
  std::set<std::string> kids;
  for (const JwtKey& k : config.keys) {
    if (!k.kid().empty() && !kids.insert(k.kid()).second) {
      return make_error("token verifier: two keys have the kid " + quote(k.kid()));
    }
  }
  return JwtVerifier(std::move(config));
}

TokenResult JwtVerifier::verify(std::string_view token) const noexcept {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return verify(token, static_cast<int64_t>(now));
}

TokenResult JwtVerifier::verify(std::string_view token, int64_t now) const noexcept {
  try {
    return verify_impl(token, now);
  } catch (const std::exception& e) {
    try {
      return token_error(TokenErrorKind::kMalformed, std::string("unexpected: ") + e.what());
    } catch (...) {
      return TokenResult(TokenError{});
    }
  } catch (...) {
    return TokenResult(TokenError{});
  }
}

TokenResult JwtVerifier::verify_impl(std::string_view token, int64_t now) const {
  using K = TokenErrorKind;
  // 1. Shape, before decoding anything.
  if (token.empty()) return token_error(K::kMalformed, "empty token");
  if (token.size() > config_.max_token_bytes) {
    return token_error(K::kMalformed, "token is " + std::to_string(token.size()) +
                                          " bytes; the limit is " +
                                          std::to_string(config_.max_token_bytes));
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    const size_t n = static_cast<size_t>(std::count(token.begin(), token.end(), '.')) + 1;
    return token_error(K::kMalformed, "not a compact JWS: " + std::to_string(n) +
                                          " segment(s), expected 3 (header.payload.signature)");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);
  if (header_b64.empty()) return token_error(K::kMalformed, "empty header segment");
  if (payload_b64.empty()) return token_error(K::kMalformed, "empty payload segment");

  // 2. Header.
  auto header_bytes = base64url_decode(header_b64);
  if (!header_bytes.ok()) {
    return token_error(K::kMalformed, "header: " + header_bytes.error().message);
  }
  auto header = parse_strict_object(as_chars(*header_bytes), kJwtMaxJsonDepth);
  if (!header.ok()) return token_error(K::kMalformed, "header: " + header.error().message);
  if (header->contains("crit")) {
    return token_error(K::kMalformed, "header.crit: no JWS extension is understood here");
  }
  auto alg_it = header->find("alg");
  if (alg_it == header->end()) return token_error(K::kMalformed, "header.alg: missing");
  if (!alg_it->is_string()) return token_error(K::kMalformed, "header.alg: not a string");
  const std::string alg_name = alg_it->get<std::string>();
  if (ieq(alg_name, "none")) {
    return token_error(K::kAlgNotAllowed,
                       "alg " + quote(alg_name) + " (an unsecured JWS) is never accepted");
  }
  auto alg = parse_jws_alg(alg_name);
  if (!alg.ok()) return token_error(K::kAlgNotAllowed, alg.error().message);
  if (auto typ = header->find("typ"); typ != header->end()) {
    if (!typ->is_string()) return token_error(K::kMalformed, "header.typ: not a string");
    if (!acceptable_typ(typ->get<std::string>())) {
      return token_error(K::kMalformed, "header.typ: " + quote(typ->get<std::string>()) +
                                            " is not a JWT (JWT or at+jwt)");
    }
  }
  if (auto cty = header->find("cty"); cty != header->end()) {
    if (!cty->is_string()) return token_error(K::kMalformed, "header.cty: not a string");
    if (ieq(cty->get<std::string>(), "JWT")) {
      return token_error(K::kMalformed, "header.cty: nested JWTs are not accepted");
    }
  }
  std::string kid;
  if (auto kid_it = header->find("kid"); kid_it != header->end()) {
    if (!kid_it->is_string()) return token_error(K::kMalformed, "header.kid: not a string");
    kid = kid_it->get<std::string>();
    if (kid.empty()) return token_error(K::kMalformed, "header.kid: empty");
    if (kid.size() > kMaxKidBytes) {
      return token_error(K::kMalformed,
                         "header.kid: longer than " + std::to_string(kMaxKidBytes) + " bytes");
    }
  }

  // 3. The key, and whether it allows this alg.
  const JwtKey* key = nullptr;
  if (!kid.empty()) {
    for (const JwtKey& k : config_.keys) {
      if (k.kid() == kid) key = &k;
    }
    if (key == nullptr) return token_error(K::kUnknownKid, "no key has the kid " + quote(kid));
    if (!key->allows(*alg)) {
      return token_error(K::kAlgNotAllowed, "the key " + quote(kid) + " does not allow " +
                                                alg_name + " (it allows " +
                                                alg_list(key->allowed()) + ")");
    }
  } else {
    size_t candidates = 0;
    for (const JwtKey& k : config_.keys) {
      if (k.allows(*alg)) {
        key = &k;
        ++candidates;
      }
    }
    if (candidates == 0) return token_error(K::kAlgNotAllowed, "no key allows " + alg_name);
    if (candidates > 1) {
      return token_error(K::kUnknownKid, "the token has no kid and " + std::to_string(candidates) +
                                             " keys allow " + alg_name + "; it must name its key");
    }
  }

  // 4. Signature over the two first segments exactly as sent.
  auto sig = base64url_decode(sig_b64);
  if (!sig.ok()) return token_error(K::kMalformed, "signature: " + sig.error().message);
  if (sig->empty()) return token_error(K::kBadSignature, "the signature is empty");
  auto payload = base64url_decode(payload_b64);
  if (!payload.ok()) return token_error(K::kMalformed, "payload: " + payload.error().message);
  if (!key->verify(*alg, token.substr(0, dot2), *sig)) {
    return token_error(K::kBadSignature,
                       alg_name + " signature does not verify" +
                           (kid.empty() ? std::string() : " with the key " + quote(kid)));
  }

  // 5. Claims, now that they are authentic.
  auto claims = parse_strict_object(as_chars(*payload), kJwtMaxJsonDepth);
  if (!claims.ok()) return token_error(K::kMalformed, "claims: " + claims.error().message);
  const json& c = *claims;

  auto date = [&](const char* name) -> Result<std::optional<int64_t>> {
    auto it = c.find(name);
    if (it == c.end()) return std::optional<int64_t>();
    RITMA_ASSIGN_OR_RETURN(int64_t v, numeric_date(*it, name));
    return std::optional<int64_t>(v);
  };
  auto exp = date("exp");
  if (!exp.ok()) return token_error(K::kInvalidClaim, exp.error().message);
  if (!*exp) return token_error(K::kInvalidClaim, "exp: missing (tokens must expire)");
  auto nbf = date("nbf");
  if (!nbf.ok()) return token_error(K::kInvalidClaim, nbf.error().message);
  auto iat = date("iat");
  if (!iat.ok()) return token_error(K::kInvalidClaim, iat.error().message);
  const int64_t leeway = config_.leeway_seconds;
  if (now >= **exp + leeway) {
    return token_error(K::kExpired, "expired at " + std::to_string(**exp) + " (now " +
                                        std::to_string(now) + ", leeway " + std::to_string(leeway) +
                                        " s)");
  }
  if (*nbf && **nbf - leeway > now) {
    return token_error(K::kNotYetValid, "not valid before " + std::to_string(**nbf) + " (now " +
                                            std::to_string(now) + ", leeway " +
                                            std::to_string(leeway) + " s)");
  }
  if (*iat && **iat - leeway > now) {
    return token_error(K::kNotYetValid, "issued in the future (iat " + std::to_string(**iat) +
                                            ", now " + std::to_string(now) + ")");
  }

  auto iss = c.find("iss");
  if (iss == c.end()) return token_error(K::kWrongIssuer, "iss: missing");
  if (!iss->is_string() || iss->get<std::string>() != config_.issuer) {
    return token_error(K::kWrongIssuer, "iss " +
                                            (iss->is_string() ? quote(iss->get<std::string>())
                                                              : std::string("(not a string)")) +
                                            " is not the configured issuer");
  }

  auto aud = c.find("aud");
  if (aud == c.end()) return token_error(K::kWrongAudience, "aud: missing");
  bool audience_ok = false;
  if (aud->is_string()) {
    audience_ok = aud->get<std::string>() == config_.audience;
  } else if (aud->is_array()) {
    for (const json& a : *aud) {
      if (!a.is_string()) return token_error(K::kInvalidClaim, "aud: an element is not a string");
      audience_ok = audience_ok || a.get<std::string>() == config_.audience;
    }
  } else {
    return token_error(K::kInvalidClaim, "aud: neither a string nor an array of strings");
  }
  if (!audience_ok) {
    return token_error(K::kWrongAudience,
                       "aud does not include the configured audience " + quote(config_.audience));
  }

  const std::string& tname = config_.tenant_claim;
  auto tenant = c.find(tname);
  if (tenant == c.end()) return token_error(K::kInvalidClaim, tname + ": missing");
  if (!tenant->is_string()) return token_error(K::kInvalidClaim, tname + ": not a string");
  if (!valid_tenant(tenant->get<std::string>())) {
    return token_error(K::kInvalidClaim, tname + ": " + quote(tenant->get<std::string>()) +
                                             " does not match [A-Za-z0-9._-]{1,64}");
  }

  auto sub = c.find("sub");
  if (sub == c.end()) return token_error(K::kInvalidClaim, "sub: missing");
  if (!sub->is_string()) return token_error(K::kInvalidClaim, "sub: not a string");
  const std::string& actor = sub->get_ref<const std::string&>();
  if (actor.empty() || actor.size() > kMaxSubBytes ||
      std::any_of(actor.begin(), actor.end(),
                  [](char ch) { return is_control(static_cast<unsigned char>(ch)); })) {
    return token_error(K::kInvalidClaim, "sub: must be 1 to " + std::to_string(kMaxSubBytes) +
                                             " bytes without control characters");
  }

  VerifiedToken v;
  v.tenant = tenant->get<std::string>();
  v.actor = actor;
  v.alg = *alg;
  v.kid = kid;
  v.exp = **exp;
  v.claims = std::move(claims).value();
  return v;
}

}  // namespace ritma::api
