// Ed25519: RFC 8032 §7.1 vectors, key files (format, permissions) and fingerprints.
#include "core/ed25519.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/key_file.h"
#include "test_util.h"

namespace ritma {
namespace {

struct Rfc8032Vector {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 §7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
const Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

TEST(Ed25519, Rfc8032Vectors) {
  for (const auto& v : kVectors) {
    auto seed = from_hex(v.secret);
    ASSERT_TRUE(seed.ok());
    auto key = SigningKey::from_seed(*seed);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(to_hex(key->public_key()), v.public_key);
    auto msg = from_hex(v.message);
    ASSERT_TRUE(msg.ok());
    const Signature sig = key->sign(*msg);
    EXPECT_EQ(to_hex(sig), v.signature);
    EXPECT_TRUE(verify_signature(key->public_key(), *msg, sig));
    Signature bad = sig;
    bad[10] ^= 1;
    EXPECT_FALSE(verify_signature(key->public_key(), *msg, bad));
    Bytes other = *msg;
    other.push_back(0);
    EXPECT_FALSE(verify_signature(key->public_key(), other, sig));
  }
}

TEST(Ed25519, RejectsWrongLengthSignatureAndSeed) {
  const SigningKey k = SigningKey::generate();
  const Signature sig = k.sign(as_bytes("m"));
  EXPECT_FALSE(verify_signature(k.public_key(), as_bytes("m"), ByteSpan(sig).first(63)));
  Bytes seed(31, 1);
  EXPECT_FALSE(SigningKey::from_seed(seed).ok());
}

TEST(Ed25519, FingerprintIsStableAndDomainTagged) {
  auto seed = from_hex(kVectors[0].secret);
  auto key = SigningKey::from_seed(*seed);
  const std::string fp = key_fingerprint(key->public_key());
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_EQ(fp, key_fingerprint(key->public_key()));
  EXPECT_NE(fp, kVectors[0].public_key);
}

TEST(KeyFile, RoundTripsPrivateAndPublicKeys) {
  test::TempDir dir;
  NamedSigningKey k{"ritma-node-test", SigningKey::generate()};
  ASSERT_TRUE(write_private_key_file(dir / "node.key", k).ok());
  ASSERT_TRUE(write_public_key_file(dir / "node.pub", k.name, k.key.public_key()).ok());
  struct stat st;
  ASSERT_EQ(stat((dir / "node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_private_key_file(dir / "node.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->name, k.name);
  EXPECT_EQ(loaded->key.public_key(), k.key.public_key());
  auto pub = load_public_key_file(dir / "node.pub");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(pub->key, k.key.public_key());
  EXPECT_EQ(pub->key_id, note_key_id(k.name, k.key.public_key()));
  // Refuses to overwrite.
  EXPECT_FALSE(write_private_key_file(dir / "node.key", k).ok());
}

TEST(KeyFile, RefusesGroupOrOtherReadablePrivateKey) {
  test::TempDir dir;
  NamedSigningKey k{"n", SigningKey::generate()};
  ASSERT_TRUE(write_private_key_file(dir / "node.key", k).ok());
  for (mode_t mode : {0640, 0604, 0644, 0660, 0602}) {
    ASSERT_EQ(chmod((dir / "node.key").c_str(), mode), 0);
    auto loaded = load_private_key_file(dir / "node.key");
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos)
        << loaded.error().message;
  }
  ASSERT_EQ(chmod((dir / "node.key").c_str(), 0400), 0);
  EXPECT_TRUE(load_private_key_file(dir / "node.key").ok());
}

TEST(KeyFile, KnownFormatAndKeyIdFromSpec) {
  // Key id = first 4 bytes of SHA-256(name || '\n' || 0x01 || pubkey), written as 8 hex digits.
  auto seed = from_hex(kVectors[0].secret);
  NamedSigningKey k{"example.com/log", SigningKey::from_seed(*seed).value()};
  const std::string pub = format_public_key(k.name, k.key.public_key());
  EXPECT_EQ(pub.substr(0, 16), "example.com/log+");
  auto parsed = parse_public_key(pub);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const std::string priv = format_private_key(k);
  EXPECT_EQ(priv.substr(0, 12), "PRIVATE+KEY+");
  auto p2 = parse_private_key(priv);
  ASSERT_TRUE(p2.ok()) << p2.error().message;
  EXPECT_EQ(p2->key.public_key(), k.key.public_key());
}

TEST(KeyFile, RejectsMalformedKeys) {
  for (const char* bad :
       {"", "PRIVATE+KEY+", "PRIVATE+KEY+name+0000+AQ==", "name+zzzzzzzz+AQ==",
        "na me+00000000+AQ==", "name+00000000", "+00000000+AQ==", "name+00000000+!!!!"}) {
    EXPECT_FALSE(parse_public_key(bad).ok()) << bad;
    EXPECT_FALSE(parse_private_key(bad).ok()) << bad;
  }
  // Right shape, wrong key id.
  NamedSigningKey k{"n", SigningKey::generate()};
  std::string pub = format_public_key(k.name, k.key.public_key());
  pub[2] = pub[2] == '0' ? '1' : '0';
  EXPECT_FALSE(parse_public_key(pub).ok());
}

}  // namespace
}  // namespace ritma
