// The signed result bundle: canonical JSON against securesystemslib's encode_canonical, the
// in-toto Statement, DSSE (checked by PyNaCl with no project code), the in-toto link (checked
// by Debian's stock in-toto-verify), strict parsing and the signing-key loader.
#include "exec/bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/durable_file.h"
#include "test_util.h"

namespace ritma::exec {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kScripts = RITMA_EXEC_TEST_SCRIPTS_DIR;
constexpr const char* kInTotoVerify = "/usr/bin/in-toto-verify";

SigningKey test_key(uint8_t fill = 0x42) {
  Bytes seed(32, fill);
  return std::move(SigningKey::from_seed(seed)).value();
}

json sample_statement() {
  auto st = make_statement(
      {{"out/result.txt", digests_of(as_bytes(std::string_view("a\nb\n")))},
       {"stdout", digests_of(as_bytes(std::string_view("hello\n")))}},
      kRequiemPredicateType,
      {{"exit", {{"code", 0}}}, {"note", "ünïcödé \"quoted\" \\ \x01"}, {"count", 3}});
  EXPECT_TRUE(st.ok()) << st.error().message;
  return std::move(st).value();
}

// ---- canonical JSON: vectors from securesystemslib.formats.encode_canonical (0.26.0) ----

struct CanonVector {
  const char* input;  // JSON text (as Python's json.dumps wrote it)
  const char* hex;    // encode_canonical(json.loads(input)).encode("utf-8").hex()
};

TEST(CanonicalJson, MatchesSecuresystemslibVectors) {
  const CanonVector vectors[] = {
      {R"("plain")", "22706c61696e22"},
      {R"("quote \" and backslash \\ end")",
       "2271756f7465205c2220616e64206261636b736c617368205c5c20656e6422"},
      {R"("ctl \u0000\u0001\u001f\u007f tab\tnl\n")", "2263746c2000011f7f20746162096e6c0a22"},
      {R"("unicode \u00e9 \u00fc \u65e5\u672c \ud83d\ude00")",
       "22756e69636f646520c3a920c3bc20e697a5e69cac20f09f988022"},
      {R"({"b": 1, "a": [true, false, null], "A": {"z": "", "y": -5}})",
       "7b2241223a7b2279223a2d352c227a223a22227d2c2261223a5b747275652c66616c73652c6e756c6c5d2c22"
       "62223a317d"},
      {R"({"\u00e9": 1, "e": 2, "z": 3, "\ud83d\ude00": 4, "\uffff": 5, "": 6})",
       "7b22223a362c2265223a322c227a223a332c22c3a9223a312c22efbfbf223a352c22f09f9880223a347d"},
      {R"([18446744073709551615, -9223372036854775808, 0])",
       "5b31383434363734343037333730393535313631352c2d393232333337323033363835343737353830382c"
       "305d"},
  };
  for (const auto& v : vectors) {
    auto parsed = parse_json_strict(v.input);
    ASSERT_TRUE(parsed.ok()) << v.input << ": " << parsed.error().message;
    auto canon = canonical_json(*parsed);
    ASSERT_TRUE(canon.ok()) << v.input << ": " << canon.error().message;
    EXPECT_EQ(to_hex(as_bytes(*canon)), v.hex) << v.input;
  }
}

TEST(CanonicalJson, RefusesFloatsInvalidUtf8AndDeepNesting) {
  auto f = canonical_json(json{{"x", {{"y", 1.5}}}});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("floating-point number at /x/y"), std::string::npos)
      << f.error().message;
  EXPECT_FALSE(canonical_json(json(0.0)).ok());
  auto u = canonical_json(json::array({"ok", std::string("\xff\xfe")}));
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("/1"), std::string::npos) << u.error().message;
  json key_bad = json::object();
  key_bad[std::string("\xc0\x80")] = 1;
  EXPECT_FALSE(canonical_json(key_bad).ok());
  EXPECT_FALSE(canonical_json(json::binary({1, 2})).ok());
  json deep = json::array();
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  EXPECT_FALSE(canonical_json(deep).ok());
  EXPECT_TRUE(canonical_json(deep, 200).ok());
}

TEST(CanonicalJson, SecuresystemslibKeyId) {
  // securesystemslib.keys.format_metadata_to_key({"keytype": "ed25519", "scheme": "ed25519",
  // "keyval": {"public": <RFC 8032 test 1 public key>}})[0]["keyid"]
  auto pub = from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  ASSERT_TRUE(pub.ok());
  PublicKey key;
  std::copy(pub->begin(), pub->end(), key.begin());
  EXPECT_EQ(*canonical_json(securesystemslib_public_key(key)),
            R"({"keyid_hash_algorithms":["sha256","sha512"],"keytype":"ed25519","keyval":)"
            R"({"public":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"},)"
            R"("scheme":"ed25519"})");
  EXPECT_EQ(securesystemslib_keyid(key),
            "01e8764eedab63b3593451765fc337b2cc6d2c66923845da255f448c19e2afc5");
}

// ---- strict JSON ----

TEST(StrictJson, RefusesWhatALenientParserWouldAccept) {
  EXPECT_TRUE(parse_json_strict(R"({"a": [1, 2, {"b": null}]})").ok());
  const char* bad[] = {
      "",
      "{",
      R"({"a": 1} x)",
      R"({"a": 1, "a": 2})",
      R"({"o": {"k": 1, "k": 1}})",
      "// c\n{}",
      R"({"a": 1,})",
      "[1] [2]",
      "\"\xff\"",
      R"("\ud800")",
      "{'a': 1}",
      "NaN",
  };
  for (const char* text : bad) EXPECT_FALSE(parse_json_strict(text).ok()) << text;
  auto dup = parse_json_strict(R"({"x": {"y": 1, "y": 2}})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("duplicate object key \"y\""), std::string::npos);
  // The same key in different objects is fine.
  EXPECT_TRUE(parse_json_strict(R"({"y": {"y": 1}, "z": {"y": 2}})").ok());

  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto d = parse_json_strict(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("deeper than 64"), std::string::npos);
  EXPECT_TRUE(parse_json_strict(deep, JsonLimits{.max_depth = 100}).ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(parse_json_strict("\"" + std::string(1000, '[') + "\\\"\"").ok());
  auto big = parse_json_strict(std::string(100, ' ') + "1", JsonLimits{.max_bytes = 50});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("larger than the limit of 50"), std::string::npos);
}

// ---- Statement and DSSE ----

TEST(Statement, ShapeAndRefusals) {
  const json st = sample_statement();
  EXPECT_EQ(st["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(st["predicateType"], "https://ritma.dev/requiem/result/v1");
  ASSERT_EQ(st["subject"].size(), 2u);
  EXPECT_EQ(st["subject"][0]["name"], "out/result.txt");
  // sha256sum and b3sum of "a\nb\n".
  EXPECT_EQ(st["subject"][0]["digest"],
            json({{"sha256", "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2"},
                  {"blake3", "41153ec5e22e7e1d208eec929ef45dcd31fd71283799b0615bb8753491715e5b"}}));

  EXPECT_FALSE(make_statement({}, kRequiemPredicateType, json::object()).ok());
  EXPECT_FALSE(make_statement({{"", digests_of({})}}, kRequiemPredicateType, json::object()).ok());
  EXPECT_FALSE(make_statement({{"x", {{"blake3", std::string(64, 'a')}}}}, kRequiemPredicateType,
                              json::object())
                   .ok());  // no sha256
  EXPECT_FALSE(make_statement({{"x", {{"sha256", std::string(64, 'A')}}}}, kRequiemPredicateType,
                              json::object())
                   .ok());  // not lowercase
  EXPECT_FALSE(make_statement({{"x", digests_of({})}}, kRequiemPredicateType, json::array()).ok());
  EXPECT_FALSE(make_statement({{"x", digests_of({})}}, "", json::object()).ok());
}

TEST(Dsse, PaeIsTheSpecsEncoding) {
  const Bytes pae = dsse_pae("application/vnd.in-toto+json", as_bytes(std::string_view("{}")));
  EXPECT_EQ(std::string(as_chars(pae)), "DSSEv1 28 application/vnd.in-toto+json 2 {}");
  // The DSSE spec's own example.
  EXPECT_EQ(std::string(as_chars(dsse_pae("http://example.com/HelloWorld",
                                          as_bytes(std::string_view("hello world"))))),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(Dsse, SignAndVerifyRoundTrip) {
  const SigningKey key = test_key();
  auto env = sign_envelope(sample_statement(), key);
  ASSERT_TRUE(env.ok()) << env.error().message;
  const json parsed = json::parse(*env);
  EXPECT_EQ(parsed["payloadType"], "application/vnd.in-toto+json");
  EXPECT_EQ(parsed["signatures"][0]["keyid"], key_fingerprint(key.public_key()));

  const PublicKey pinned[] = {test_key(1).public_key(), key.public_key()};
  auto v = verify_envelope(*env, pinned);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->statement, sample_statement());
  EXPECT_EQ(v->key, key.public_key());
  EXPECT_EQ(v->keyid, key_fingerprint(key.public_key()));
  EXPECT_EQ(std::string(as_chars(v->payload)), sample_statement().dump());
}

// Each failure names what failed.
TEST(Dsse, VerifyNamesWhatFailed) {
  const SigningKey key = test_key();
  const PublicKey pinned[] = {key.public_key()};
  const std::string good = *sign_envelope(sample_statement(), key);
  const json env = json::parse(good);
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    auto r = verify_envelope(text, pinned);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  // Wrong key.
  const PublicKey other[] = {test_key(7).public_key()};
  auto wrong = verify_envelope(good, other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("signature does not verify"), std::string::npos);
  EXPECT_FALSE(verify_envelope(good, std::span<const PublicKey>()).ok());

  expect_error("{\"payload\": ", "envelope: invalid JSON");
  expect_error("[]", "not a JSON object");
  json e = env;
  e["payloadType"] = "text/plain";
  expect_error(e.dump(), "payloadType is \"text/plain\"");
  e = env;
  e["payload"] = "not base64!";
  expect_error(e.dump(), "payload is not valid base64");
  e = env;
  e["signatures"][0]["sig"] = "%%%";
  expect_error(e.dump(), "signatures[0].sig is not valid base64");
  e = env;
  e["signatures"][0]["sig"] = to_base64(Bytes(10, 1));
  expect_error(e.dump(), "not a 64-byte Ed25519 signature");
  e = env;
  e["signatures"] = json::array();
  expect_error(e.dump(), "signatures must be a non-empty array");
  e = env;
  e["extra"] = 1;
  expect_error(e.dump(), "unknown field \"extra\"");
  // A payload changed by one byte (re-encoded so the base64 is valid) fails the signature.
  Bytes payload = *from_base64(env["payload"].get<std::string>());
  payload[payload.size() / 2] ^= 0x01;
  e = env;
  e["payload"] = to_base64(payload);
  expect_error(e.dump(), "signature does not verify");
  // Signed, but not a Statement: the statement is what is named.
  const std::string not_statement = json{{"_type", "something-else"}}.dump();
  const Signature sig = key.sign(dsse_pae(kDssePayloadType, as_bytes(not_statement)));
  const json forged = {{"payload", to_base64(as_bytes(not_statement))},
                       {"payloadType", std::string(kDssePayloadType)},
                       {"signatures", json::array({{{"sig", to_base64(sig)}}})}};
  expect_error(forged.dump(), "statement: _type must be");
  const std::string bad_json = "{\"a\":";
  const Signature sig2 = key.sign(dsse_pae(kDssePayloadType, as_bytes(bad_json)));
  const json forged2 = {{"payload", to_base64(as_bytes(bad_json))},
                        {"payloadType", std::string(kDssePayloadType)},
                        {"signatures", json::array({{{"sig", to_base64(sig2)}}})}};
  expect_error(forged2.dump(), "statement: payload invalid JSON");
}

// PyNaCl, with no project code, recomputes PAE and verifies; a tampered payload fails there.
TEST(Dsse, VerifiesWithPyNaClAlone) {
  test::TempDir dir;
  const SigningKey key = test_key();
  auto env = sign_envelope(sample_statement(), key);
  ASSERT_TRUE(env.ok());
  test::write_file_bytes(dir / "bundle.dsse.json", as_bytes(*env));
  const std::string pub = to_hex(key.public_key());
  const std::string script = kScripts + "/dsse_verify.py";
  auto r =
      test::run_program({"/usr/bin/python3", script, (dir / "bundle.dsse.json").string(), pub});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "OK out/result.txt stdout\n");

  json e = json::parse(*env);
  Bytes payload = *from_base64(e["payload"].get<std::string>());
  payload[10] ^= 0x20;
  e["payload"] = to_base64(payload);
  test::write_file_bytes(dir / "tampered.json", as_bytes(e.dump()));
  r = test::run_program({"/usr/bin/python3", script, (dir / "tampered.json").string(), pub});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "BAD SIGNATURE\n");
  // And under another key.
  r = test::run_program({"/usr/bin/python3", script, (dir / "bundle.dsse.json").string(),
                         to_hex(test_key(9).public_key())});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

// ---- in-toto link ----

Link sample_link() {
  Link link;
  link.name = "requiem-run";
  link.command = {"sort", "input.txt"};
  link.materials["input.txt"] = digests_of(as_bytes(std::string_view("b\na\n")));
  link.products["output.txt"] = digests_of(as_bytes(std::string_view("a\nb\n")));
  link.byproducts = {
      {"stdout", "q\"uote\\ ünï \x01\x1f tab\t"}, {"stderr", ""}, {"return-value", 0}};
  link.environment = {{"requiem", {{"version", "0.1"}, {"trace_events", 3}}}};
  return link;
}

TEST(Link, SignsTheCanonicalSignedObject) {
  const SigningKey key = test_key();
  auto signed_link = sign_link(sample_link(), key);
  ASSERT_TRUE(signed_link.ok()) << signed_link.error().message;
  EXPECT_EQ(signed_link->keyid, securesystemslib_keyid(key.public_key()));
  EXPECT_EQ(signed_link->file_name, "requiem-run." + signed_link->keyid.substr(0, 8) + ".link");
  // Pure ASCII text.
  for (char c : signed_link->text) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  const json doc = json::parse(signed_link->text);
  EXPECT_EQ(doc["signed"]["_type"], "link");
  EXPECT_EQ(doc["signed"].size(), 7u);
  EXPECT_EQ(doc["signatures"][0]["sig"].get<std::string>().size(), 128u);
  auto v = verify_link(signed_link->text, key.public_key());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, doc["signed"]);
  EXPECT_FALSE(verify_link(signed_link->text, test_key(3).public_key()).ok());
  std::string tampered = signed_link->text;
  tampered[tampered.find("requiem-run") + 1] = 'x';
  auto t = verify_link(tampered, key.public_key());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("does not verify"), std::string::npos) << t.error().message;

  Link bad = sample_link();
  bad.name = "../evil";
  EXPECT_FALSE(sign_link(bad, key).ok());
  bad = sample_link();
  bad.byproducts["cpu_seconds"] = 0.25;
  auto f = sign_link(bad, key);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/byproducts/cpu_seconds"), std::string::npos);
}

// Debian's stock in-toto-verify accepts the link under a layout written with the in-toto
// Python API, and refuses it once one byte changes.
TEST(Link, VerifiesWithDebianInTotoVerify) {
  if (access(kInTotoVerify, X_OK) != 0) {
    if (test::in_ci()) FAIL() << kInTotoVerify << " is missing (apt-get install in-toto)";
    GTEST_SKIP() << kInTotoVerify << " is missing (apt-get install in-toto); link not checked";
  }
  test::TempDir dir;
  const SigningKey key = test_key();
  auto signed_link = sign_link(sample_link(), key);
  ASSERT_TRUE(signed_link.ok()) << signed_link.error().message;
  fs::create_directory(dir / "links");
  const fs::path link_path = dir / "links" / signed_link->file_name;
  test::write_file_bytes(link_path, as_bytes(signed_link->text));

  auto layout = test::run_program({"/usr/bin/python3", kScripts + "/intoto_layout.py",
                                   dir.path().string(), to_hex(key.public_key()), "requiem-run",
                                   "input.txt", "output.txt", "sort", "input.txt"});
  ASSERT_EQ(layout.exit_code, 0) << layout.out << layout.err;
  // The layout's own (securesystemslib) key id for our key is the one we computed.
  EXPECT_EQ(layout.out, signed_link->keyid + "\n");

  const std::vector<std::string> verify = {kInTotoVerify,
                                           "--layout",
                                           (dir / "root.layout").string(),
                                           "--layout-keys",
                                           (dir / "owner.pub").string(),
                                           "--key-types",
                                           "ed25519",
                                           "--link-dir",
                                           (dir / "links").string()};
  auto r = test::run_program(verify);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // One byte of the signed content changed: the stdout byproduct's first letter.
  std::string tampered = signed_link->text;
  const size_t at = tampered.find("\"q\\\"uote");
  ASSERT_NE(at, std::string::npos);
  tampered[at + 1] = 'Q';
  test::write_file_bytes(link_path, as_bytes(tampered));
  r = test::run_program(verify);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("ThresholdVerificationError"), std::string::npos)
      << r.out << r.err;

  // And a product digest changed by one hex digit.
  tampered = signed_link->text;
  const std::string sha = sample_link().products["output.txt"]["sha256"];
  const size_t d = tampered.find(sha);
  ASSERT_NE(d, std::string::npos);
  tampered[d] = tampered[d] == '0' ? '1' : '0';
  test::write_file_bytes(link_path, as_bytes(tampered));
  r = test::run_program(verify);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
}

// ---- signing key ----

TEST(SigningKeyFile, LoadsFromFlagOrEnvironment) {
  test::TempDir dir;
  const fs::path path = dir / "requiem.key";
  NamedSigningKey k{"requiem-test", test_key()};
  ASSERT_TRUE(write_private_key_file(path, k).ok());

  unsetenv(kSigningKeyEnv);
  auto none = load_signing_key(std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("REQUIEM_SIGNING_KEY"), std::string::npos);

  auto by_flag = load_signing_key(path);
  ASSERT_TRUE(by_flag.ok()) << by_flag.error().message;
  EXPECT_EQ(by_flag->key.public_key(), test_key().public_key());
  EXPECT_EQ(by_flag->name, "requiem-test");

  setenv(kSigningKeyEnv, path.c_str(), 1);
  auto by_env = load_signing_key(std::nullopt);
  ASSERT_TRUE(by_env.ok()) << by_env.error().message;
  EXPECT_EQ(by_env->key.public_key(), test_key().public_key());
  // --key wins over the environment.
  auto missing = load_signing_key(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("--key"), std::string::npos);
  unsetenv(kSigningKeyEnv);

  // A group-readable key is refused (core/key_file.h's rule).
  chmod(path.c_str(), 0640);
  EXPECT_FALSE(load_signing_key(path).ok());
}

}  // namespace
}  // namespace ritma::exec
