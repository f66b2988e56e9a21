// in-toto Statement v1, DSSE envelopes, in-toto v0.9 links and securesystemslib canonical
// JSON, written from the specifications and securesystemslib's encode_canonical.
#include "exec/bundle.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "core/blake3_hasher.h"
#include "core/sha256.h"
#include "core/unique_fd.h"
#include "core/utf8.h"

namespace ritma::exec {
namespace {

using json = nlohmann::json;

bool is_lower_hex(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A short, printable rendering of an untrusted string for error messages.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > 64) out += "...";
  return "\"" + out + "\"";
}

const char* type_name(const json& v) {
  return v.type_name();
}

// ---- strict parsing ----

// Nesting depth of arrays and objects, scanning outside strings; refuses beyond max_depth
// before anything is built.
Status check_depth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return make_error("JSON nesting is deeper than " + std::to_string(max_depth) +
                          " levels at byte " + std::to_string(i));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

// ---- canonical JSON ----

void append_canonical_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

Status encode_canonical(const json& v, std::string& out, std::string& path, size_t depth,
                        size_t max_depth) {
  auto at = [&] { return path.empty() ? std::string("/") : path; };
  switch (v.type()) {
    case json::value_t::null:
      out += "null";
      return {};
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return {};
    case json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return {};
    case json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return {};
    case json::value_t::number_float:
      return make_error("canonical JSON: floating-point number at " + at() +
                        " (securesystemslib's canonical JSON allows integers only)");
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      if (auto bad = find_invalid_utf8(as_bytes(s))) {
        return make_error("canonical JSON: string at " + at() + " is not valid UTF-8 (" +
                          bad->reason + " at byte " + std::to_string(bad->index) + ")");
      }
      append_canonical_string(out, s);
      return {};
    }
    case json::value_t::array:
    case json::value_t::object: {
      if (depth >= max_depth) {
        return make_error("canonical JSON: nesting deeper than " + std::to_string(max_depth) +
                          " levels at " + at());
      }
      const size_t path_len = path.size();
      if (v.is_array()) {
        out += '[';
        size_t i = 0;
        for (const json& item : v) {
          if (i > 0) out += ',';
          path += "/" + std::to_string(i++);
          RITMA_TRY(encode_canonical(item, out, path, depth + 1, max_depth));
          path.resize(path_len);
        }
        out += ']';
        return {};
      }
      // Python sorts str keys by code point; for valid UTF-8 that is the unsigned byte order.
      std::vector<const std::string*> keys;
      keys.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(&it.key());
      std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) {
        return std::lexicographical_compare(
            a->begin(), a->end(), b->begin(), b->end(), [](char x, char y) {
              return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
            });
      });
      out += '{';
      bool first = true;
      for (const std::string* key : keys) {
        if (auto bad = find_invalid_utf8(as_bytes(*key))) {
          return make_error("canonical JSON: an object key at " + at() + " is not valid UTF-8 (" +
                            bad->reason + ")");
        }
        if (!first) out += ',';
        first = false;
        append_canonical_string(out, *key);
        out += ':';
        path += "/" + *key;
        RITMA_TRY(encode_canonical(v.at(*key), out, path, depth + 1, max_depth));
        path.resize(path_len);
      }
      out += '}';
      return {};
    }
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  return make_error(std::string("canonical JSON: cannot encode a ") + type_name(v) + " at " + at());
}

// ---- shape checks ----

Status check_digest_set(const json& d, const std::string& where, bool need_sha256) {
  if (!d.is_object() || d.empty()) {
    return make_error(where + " must be a non-empty object of algorithm -> hex digest");
  }
  for (auto it = d.begin(); it != d.end(); ++it) {
    if (!it.value().is_string() || !is_lower_hex(it.value().get_ref<const std::string&>())) {
      return make_error(where + "." + it.key() + " must be a lowercase hex string");
    }
    const size_t len = it.value().get_ref<const std::string&>().size();
    if ((it.key() == "sha256" || it.key() == "blake3") && len != 64) {
      return make_error(where + "." + it.key() + " must be 64 hex digits, not " +
                        std::to_string(len));
    }
  }
  if (need_sha256 && !d.contains("sha256")) return make_error(where + " has no sha256");
  return {};
}

Status check_link_name(std::string_view name) {
  if (name.empty()) return make_error("link name is empty");
  if (name.front() == '.' || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return make_error("link name " + shown(name) +
                      " must not start with '.' or contain '/' or NUL (it names a file)");
  }
  if (!is_valid_utf8(name)) return make_error("link name is not valid UTF-8");
  return {};
}

// obj[key], or `fallback` when the key is absent (obj is an object).
json field_or(const json& obj, const char* key, json fallback) {
  const auto it = obj.find(key);
  return it == obj.end() ? std::move(fallback) : *it;
}

json digest_json(const DigestSet& d) {
  json out = json::object();
  for (const auto& [alg, hex] : d) out[alg] = hex;
  return out;
}

}  // namespace

// ---- strict JSON ----

Result<json> parse_json_strict(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return make_error("JSON text of " + std::to_string(text.size()) +
                      " bytes is larger than the limit of " + std::to_string(limits.max_bytes));
  }
  RITMA_TRY(check_depth(text, limits.max_depth));
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool has_duplicate = false;
  const json::parser_callback_t track_keys = [&](int /*depth*/, json::parse_event_t event,
                                                 json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && parsed.is_string()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second && !has_duplicate) {
        has_duplicate = true;
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), track_keys, /*allow_exceptions=*/true,
                        /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    return make_error(std::string("invalid JSON: ") + e.what());
  }
  if (has_duplicate) return make_error("invalid JSON: duplicate object key " + shown(duplicate));
  return value;
}

// ---- canonical JSON ----

Result<std::string> canonical_json(const json& value, size_t max_depth) {
  std::string out;
  std::string path;
  RITMA_TRY(encode_canonical(value, out, path, 0, max_depth));
  return out;
}

// ---- digests ----

DigestSet digests_of(ByteSpan content) {
  return {{"blake3", to_hex(blake3(content))}, {"sha256", to_hex(sha256(content))}};
}

Result<DigestSet> digests_of_file(const std::filesystem::path& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open " + path.string() + ": " + std::strerror(errno));
  Blake3Hasher b3;
  Sha256 s256;
  Bytes buf(size_t{1} << 20);
  for (;;) {
    const ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot read " + path.string() + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    const ByteSpan chunk(buf.data(), static_cast<size_t>(n));
    b3.update(chunk);
    s256.update(chunk);
  }
  return DigestSet{{"blake3", to_hex(b3.finalize())}, {"sha256", to_hex(s256.finalize())}};
}

// ---- Statement ----

Status check_statement(const json& st) {
  if (!st.is_object()) return make_error("statement: not a JSON object");
  for (auto it = st.begin(); it != st.end(); ++it) {
    if (it.key() != "_type" && it.key() != "subject" && it.key() != "predicateType" &&
        it.key() != "predicate") {
      return make_error("statement: unknown field " + shown(it.key()));
    }
  }
  if (!st.contains("_type") || !st["_type"].is_string() ||
      st["_type"].get_ref<const std::string&>() != kStatementType) {
    return make_error("statement: _type must be \"" + std::string(kStatementType) + "\"");
  }
  if (!st.contains("subject") || !st["subject"].is_array() || st["subject"].empty()) {
    return make_error("statement: subject must be a non-empty array");
  }
  size_t i = 0;
  for (const json& s : st["subject"]) {
    const std::string where = "statement: subject[" + std::to_string(i++) + "]";
    if (!s.is_object()) return make_error(where + " is not an object");
    if (!s.contains("name") || !s["name"].is_string() ||
        s["name"].get_ref<const std::string&>().empty()) {
      return make_error(where + ".name must be a non-empty string");
    }
    if (!s.contains("digest")) return make_error(where + " has no digest");
    RITMA_TRY(check_digest_set(s["digest"], where + ".digest", /*need_sha256=*/true));
  }
  if (!st.contains("predicateType") || !st["predicateType"].is_string() ||
      st["predicateType"].get_ref<const std::string&>().empty()) {
    return make_error("statement: predicateType must be a non-empty string");
  }
  if (st.contains("predicate") && !st["predicate"].is_object()) {
    return make_error("statement: predicate must be an object");
  }
  return {};
}

Result<json> make_statement(const std::vector<Subject>& subjects, std::string_view predicate_type,
                            const json& predicate) {
  json subject = json::array();
  for (const Subject& s : subjects) {
    subject.push_back(json{{"name", s.name}, {"digest", digest_json(s.digest)}});
  }
  json st = {{"_type", std::string(kStatementType)},
             {"subject", std::move(subject)},
             {"predicateType", std::string(predicate_type)},
             {"predicate", predicate}};
  RITMA_TRY(check_statement(st));
  return st;
}

// ---- DSSE ----

Bytes dsse_pae(std::string_view payload_type, ByteSpan payload) {
  Bytes out;
  const std::string head = "DSSEv1 " + std::to_string(payload_type.size()) + " " +
                           std::string(payload_type) + " " + std::to_string(payload.size()) + " ";
  out.reserve(head.size() + payload.size());
  append(out, head);
  append(out, payload);
  return out;
}

Result<std::string> sign_envelope(const json& statement, const SigningKey& key) {
  RITMA_TRY(check_statement(statement));
  std::string payload;
  try {
    payload = statement.dump();  // compact, UTF-8; throws on invalid UTF-8
  } catch (const json::exception& e) {
    return make_error(std::string("statement cannot be serialized: ") + e.what());
  }
  const Signature sig = key.sign(dsse_pae(kDssePayloadType, as_bytes(payload)));
  const json envelope = {
      {"payload", to_base64(as_bytes(payload))},
      {"payloadType", std::string(kDssePayloadType)},
      {"signatures",
       json::array({{{"keyid", key_fingerprint(key.public_key())}, {"sig", to_base64(sig)}}})}};
  return envelope.dump() + "\n";
}

Result<VerifiedEnvelope> verify_envelope(std::string_view envelope_text,
                                         std::span<const PublicKey> pinned_keys,
                                         const JsonLimits& limits) {
  auto env_r = parse_json_strict(envelope_text, limits);
  if (!env_r) return make_error("envelope: " + env_r.error().message);
  const json& env = *env_r;
  if (!env.is_object()) return make_error("envelope: not a JSON object");
  for (auto it = env.begin(); it != env.end(); ++it) {
    if (it.key() != "payload" && it.key() != "payloadType" && it.key() != "signatures") {
      return make_error("envelope: unknown field " + shown(it.key()));
    }
  }
  if (!env.contains("payloadType") || !env["payloadType"].is_string()) {
    return make_error("envelope: payloadType is missing or not a string");
  }
  const std::string& type = env["payloadType"].get_ref<const std::string&>();
  if (type != kDssePayloadType) {
    return make_error("envelope: payloadType is " + shown(type) + ", expected \"" +
                      std::string(kDssePayloadType) + "\"");
  }
  if (!env.contains("payload") || !env["payload"].is_string()) {
    return make_error("envelope: payload is missing or not a string");
  }
  auto payload = from_base64(env["payload"].get_ref<const std::string&>());
  if (!payload)
    return make_error("envelope: payload is not valid base64: " + payload.error().message);
  if (!env.contains("signatures") || !env["signatures"].is_array() || env["signatures"].empty()) {
    return make_error("envelope: signatures must be a non-empty array");
  }
  if (pinned_keys.empty()) return make_error("envelope: no pinned key to verify it against");

  const Bytes pae = dsse_pae(type, *payload);
  VerifiedEnvelope out;
  bool verified = false;
  std::string carried;
  size_t i = 0;
  for (const json& s : env["signatures"]) {
    const std::string where = "envelope: signatures[" + std::to_string(i++) + "]";
    if (!s.is_object()) return make_error(where + " is not an object");
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it.key() != "keyid" && it.key() != "sig") {
        return make_error(where + ": unknown field " + shown(it.key()));
      }
    }
    if (s.contains("keyid") && !s["keyid"].is_string()) {
      return make_error(where + ".keyid is not a string");
    }
    if (!s.contains("sig") || !s["sig"].is_string()) {
      return make_error(where + ".sig is missing or not a string");
    }
    auto sig = from_base64(s["sig"].get_ref<const std::string&>());
    if (!sig) return make_error(where + ".sig is not valid base64: " + sig.error().message);
    if (sig->size() != 64) {
      return make_error(where + ".sig is " + std::to_string(sig->size()) +
                        " bytes, not a 64-byte Ed25519 signature");
    }
    const std::string keyid = s.contains("keyid") ? s["keyid"].get<std::string>() : std::string();
    carried += (carried.empty() ? "" : ", ") + (keyid.empty() ? std::string("(none)") : keyid);
    if (verified) continue;
    for (const PublicKey& k : pinned_keys) {
      if (verify_signature(k, pae, *sig)) {
        verified = true;
        out.key = k;
        out.keyid = keyid;
        break;
      }
    }
  }
  if (!verified) {
    std::string pinned;
    for (const PublicKey& k : pinned_keys) {
      pinned += (pinned.empty() ? "" : ", ") + key_fingerprint(k);
    }
    return make_error("envelope: signature does not verify: no signature (keyids " + carried +
                      ") is valid under the pinned key(s) " + pinned);
  }
  auto st = parse_json_strict(as_chars(*payload), limits);
  if (!st) return make_error("statement: payload " + st.error().message);
  RITMA_TRY(check_statement(*st));
  out.statement = std::move(st).value();
  out.payload = std::move(payload).value();
  return out;
}

// ---- in-toto link ----

json securesystemslib_public_key(const PublicKey& key) {
  return {{"keyid_hash_algorithms", json::array({"sha256", "sha512"})},
          {"keytype", "ed25519"},
          {"keyval", {{"public", to_hex(key)}}},
          {"scheme", "ed25519"}};
}

std::string securesystemslib_keyid(const PublicKey& key) {
  // Only strings and lists of strings: canonical_json cannot fail here.
  const auto canon = canonical_json(securesystemslib_public_key(key));
  return to_hex(sha256(as_bytes(canon.ok() ? *canon : std::string())));
}

Result<json> link_signed_object(const Link& link) {
  RITMA_TRY(check_link_name(link.name));
  if (!link.byproducts.is_object()) return make_error("link byproducts must be an object");
  if (!link.environment.is_object()) return make_error("link environment must be an object");
  auto artifacts = [](const std::map<std::string, DigestSet>& m, const char* what) -> Result<json> {
    json out = json::object();
    for (const auto& [path, digests] : m) {
      json d = digest_json(digests);
      RITMA_TRY(check_digest_set(d, std::string("link ") + what + " " + shown(path),
                                 /*need_sha256=*/false));
      out[path] = std::move(d);
    }
    return out;
  };
  RITMA_ASSIGN_OR_RETURN(json materials, artifacts(link.materials, "material"));
  RITMA_ASSIGN_OR_RETURN(json products, artifacts(link.products, "product"));
  return json{{"_type", "link"},
              {"name", link.name},
              {"command", link.command},
              {"materials", std::move(materials)},
              {"products", std::move(products)},
              {"byproducts", link.byproducts},
              {"environment", link.environment}};
}

Result<SignedLink> sign_link(const Link& link, const SigningKey& key) {
  RITMA_ASSIGN_OR_RETURN(json signed_obj, link_signed_object(link));
  RITMA_ASSIGN_OR_RETURN(const std::string canon, canonical_json(signed_obj));
  const Signature sig = key.sign(as_bytes(canon));
  SignedLink out;
  out.keyid = securesystemslib_keyid(key.public_key());
  out.file_name = link.name + "." + out.keyid.substr(0, 8) + ".link";
  const json doc = {{"signatures", json::array({{{"keyid", out.keyid}, {"sig", to_hex(sig)}}})},
                    {"signed", std::move(signed_obj)}};
  // Pure ASCII (non-ASCII escaped as \uXXXX): readable whatever the reader's locale. Strings
  // were checked as UTF-8 by canonical_json, so dump() cannot throw.
  out.text = doc.dump(1, ' ', /*ensure_ascii=*/true) + "\n";
  return out;
}

Result<json> verify_link(std::string_view link_text, const PublicKey& key,
                         const JsonLimits& limits) {
  auto doc_r = parse_json_strict(link_text, limits);
  if (!doc_r) return make_error("link: " + doc_r.error().message);
  const json& doc = *doc_r;
  if (!doc.is_object() || !doc.contains("signed") || !doc["signed"].is_object()) {
    return make_error("link: no \"signed\" object");
  }
  const json& signed_in = doc["signed"];
  if (!signed_in.contains("_type") || signed_in["_type"] != json("link"))
    return make_error("link: signed._type is not \"link\"");
  // in-toto rebuilds the signed object from exactly these fields (defaults when absent), and
  // verifies the signature over that.
  json rebuilt = {{"_type", "link"},
                  {"name", field_or(signed_in, "name", json())},
                  {"command", field_or(signed_in, "command", json::array())},
                  {"materials", field_or(signed_in, "materials", json::object())},
                  {"products", field_or(signed_in, "products", json::object())},
                  {"byproducts", field_or(signed_in, "byproducts", json::object())},
                  {"environment", field_or(signed_in, "environment", json::object())}};
  if (!rebuilt["name"].is_string()) return make_error("link: signed.name is not a string");
  if (!rebuilt["command"].is_array()) return make_error("link: signed.command is not a list");
  for (const char* f : {"materials", "products"}) {
    if (!rebuilt[f].is_object())
      return make_error(std::string("link: signed.") + f + " is not an object");
    for (auto it = rebuilt[f].begin(); it != rebuilt[f].end(); ++it) {
      RITMA_TRY(check_digest_set(it.value(),
                                 std::string("link: signed.") + f + " " + shown(it.key()), false));
    }
  }
  for (const char* f : {"byproducts", "environment"}) {
    if (!rebuilt[f].is_object())
      return make_error(std::string("link: signed.") + f + " is not an object");
  }
  if (!doc.contains("signatures") || !doc["signatures"].is_array()) {
    return make_error("link: signatures is not a list");
  }
  const std::string keyid = securesystemslib_keyid(key);
  const json* match = nullptr;
  for (const json& s : doc["signatures"]) {
    if (s.is_object() && s.contains("keyid") && s["keyid"] == json(keyid)) {
      match = &s;
      break;
    }
  }
  if (match == nullptr) return make_error("link: no signature with keyid " + keyid);
  if (!match->contains("sig") || !(*match)["sig"].is_string()) {
    return make_error("link: the signature of keyid " + keyid + " has no sig string");
  }
  auto sig = from_hex((*match)["sig"].get_ref<const std::string&>());
  if (!sig || sig->size() != 64) {
    return make_error("link: the sig of keyid " + keyid + " is not 128 hex digits");
  }
  auto canon = canonical_json(rebuilt, limits.max_depth);
  if (!canon) return make_error("link: " + canon.error().message);
  if (!verify_signature(key, as_bytes(*canon), *sig)) {
    return make_error("link: signature of keyid " + keyid + " does not verify");
  }
  return rebuilt;
}

// ---- the signing key ----

Result<NamedSigningKey> load_signing_key(const std::optional<std::filesystem::path>& key_flag) {
  std::filesystem::path path;
  std::string source;
  if (key_flag && !key_flag->empty()) {
    path = *key_flag;
    source = "--key";
  } else if (const char* env = std::getenv(kSigningKeyEnv); env != nullptr && *env != '\0') {
    path = env;
    source = kSigningKeyEnv;
  } else {
    return make_error(std::string("no signing key: pass --key FILE or set ") + kSigningKeyEnv +
                      " to a private key file (as written by `ritma keys init`)");
  }
  auto key = load_private_key_file(path);
  if (!key) return make_error("signing key from " + source + ": " + key.error().message);
  return key;
}

}  // namespace ritma::exec
