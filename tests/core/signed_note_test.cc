// C2SP signed notes and checkpoints: the library's output is compared with a note assembled
// here by hand from the spec (SHA-256 key id, libsodium signature, OpenSSL base64).
#include "core/signed_note.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>

namespace ritma::note {
namespace {

std::string ossl_base64(const Bytes& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

NamedSigningKey rfc_key(const std::string& name) {
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  return NamedSigningKey{name, SigningKey::from_seed(*seed).value()};
}

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.origin = "ritma.example/node-a";
  c.size = 42;
  for (size_t i = 0; i < 32; ++i) c.root[i] = static_cast<uint8_t>(i * 7 + 1);
  return c;
}

TEST(SignedNote, MatchesHandBuiltVectorFromSpec) {
  const NamedSigningKey k = rfc_key("ritma.example/node-a");
  const Checkpoint c = sample_checkpoint();
  const std::string body =
      "ritma.example/node-a\n42\n" + ossl_base64(Bytes(c.root.begin(), c.root.end())) + "\n";
  ASSERT_EQ(checkpoint_body(c), body);

  // key id: SHA-256(name || 0x0A || 0x01 || public key)[0:4]
  Bytes id_input(k.name.begin(), k.name.end());
  id_input.push_back(0x0a);
  id_input.push_back(0x01);
  append(id_input, k.key.public_key());
  uint8_t digest[32];
  unsigned dlen = 0;
  EVP_Digest(id_input.data(), id_input.size(), digest, &dlen, EVP_sha256(), nullptr);
  uint8_t sk[64];
  uint8_t pk[32];
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  crypto_sign_seed_keypair(pk, sk, seed->data());
  uint8_t sig[64];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                       sk);
  Bytes blob(digest, digest + 4);
  blob.insert(blob.end(), sig, sig + 64);
  const std::string expected =
      body + "\n" + "\xe2\x80\x94 " + k.name + " " + ossl_base64(blob) + "\n";

  auto note = sign(body, {&k});
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(*note, expected);

  NamedPublicKey pub{k.name, k.key.public_key(), note_key_id(k.name, k.key.public_key())};
  auto opened = open(expected, {pub});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->body, body);
  ASSERT_EQ(opened->verified_by.size(), 1u);
  auto parsed = parse_checkpoint_body(opened->body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->origin, c.origin);
  EXPECT_EQ(parsed->size, c.size);
  EXPECT_EQ(parsed->root, c.root);
}

class SignedNoteTamper : public ::testing::Test {
 protected:
  NamedSigningKey key = rfc_key("ritma.example/node-a");
  NamedPublicKey pub{key.name, key.key.public_key(), 0};
  std::string note = *sign(checkpoint_body(sample_checkpoint()), {&key});

  bool verifies(const std::string& text) { return open(text, {pub}).ok(); }
  std::string replace(const std::string& from, const std::string& to) {
    std::string t = note;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos);
    t.replace(at, from.size(), to);
    return t;
  }
};

TEST_F(SignedNoteTamper, EditedSizeFails) {
  ASSERT_TRUE(verifies(note));
  EXPECT_FALSE(verifies(replace("\n42\n", "\n43\n")));
}

TEST_F(SignedNoteTamper, EditedRootFails) {
  Checkpoint c = sample_checkpoint();
  const std::string root = to_base64(c.root);
  c.root[31] ^= 1;
  EXPECT_FALSE(verifies(replace(root, to_base64(c.root))));
}

TEST_F(SignedNoteTamper, EditedOriginFails) {
  EXPECT_FALSE(verifies(replace("ritma.example/node-a\n42", "ritma.example/node-b\n42")));
}

TEST_F(SignedNoteTamper, FlippedSignatureFails) {
  const size_t last = note.size() - 3;
  std::string t = note;
  t[last] = t[last] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifies(t));
}

TEST(SignedNote, IgnoresUnknownSignersButNeedsOneKnown) {
  const NamedSigningKey a = rfc_key("log-a");
  const NamedSigningKey witness{"witness-w", SigningKey::generate()};
  const std::string body = checkpoint_body(sample_checkpoint());
  auto both = sign(body, {&a, &witness});
  ASSERT_TRUE(both.ok());
  NamedPublicKey pa{a.name, a.key.public_key(), 0};
  NamedPublicKey pw{witness.name, witness.key.public_key(), 0};
  auto only_a = open(*both, {pa});
  ASSERT_TRUE(only_a.ok()) << only_a.error().message;
  EXPECT_EQ(only_a->verified_by, std::vector<std::string>{"log-a"});
  EXPECT_EQ(only_a->unknown_signatures, 1u);
  auto both_known = open(*both, {pa, pw});
  ASSERT_TRUE(both_known.ok());
  EXPECT_EQ(both_known->verified_by.size(), 2u);
  // A key with the same name but a different public key is unknown (key id differs).
  NamedPublicKey impostor{a.name, witness.key.public_key(), 0};
  EXPECT_FALSE(open(*both, {impostor}).ok());
}

TEST(SignedNote, RejectsMalformedNotes) {
  const NamedSigningKey a = rfc_key("log-a");
  NamedPublicKey pa{a.name, a.key.public_key(), 0};
  const std::string good = *sign(checkpoint_body(sample_checkpoint()), {&a});
  for (const std::string& bad :
       {std::string(""), std::string("no signatures\n"), good.substr(0, good.size() - 1),
        std::string("body\n\n- log-a AAAA\n"), std::string("body\n\n\xe2\x80\x94 log-a\n"),
        std::string("bo\x01"
                    "dy\n\n\xe2\x80\x94 log-a AAAAAAA=\n"),
        std::string("body\xff\n\n\xe2\x80\x94 log-a AAAAAAA=\n")}) {
    EXPECT_FALSE(open(bad, {pa}).ok()) << bad;
  }
  EXPECT_FALSE(sign("no newline", {&a}).ok());
  EXPECT_FALSE(sign("a\n\nb\n", {&a}).ok());
}

TEST(Checkpoint, ParsesStrictly) {
  const std::string root = to_base64(sample_checkpoint().root);
  EXPECT_TRUE(parse_checkpoint_body("o\n0\n" + root + "\n").ok());
  auto ext = parse_checkpoint_body("o\n5\n" + root + "\nextra line\n");
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->extensions, std::vector<std::string>{"extra line"});
  for (const std::string& bad :
       {"o\n05\n" + root + "\n", "o\n-1\n" + root + "\n", "o\n1x\n" + root + "\n", "o\n1\n" + root,
        "\n1\n" + root + "\n", std::string("o\n1\nAAAA\n"), std::string("o\n1\n"),
        "o\n18446744073709551616\n" + root + "\n", "o\n1\n" + root + "\n\n"}) {
    EXPECT_FALSE(parse_checkpoint_body(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ritma::note
