// Ed25519 signatures interoperate with PyNaCl in both directions.
#include <gtest/gtest.h>

#include <sstream>

#include "core/ed25519.h"
#include "test_util.h"

namespace ritma {
namespace {

const std::string kScript = std::string(RITMA_TEST_SCRIPTS_DIR) + "/nacl_interop.py";

TEST(NaclInterop, LibrarySignatureVerifiesInPyNaCl) {
  test::TempDir dir;
  const SigningKey key = SigningKey::generate();
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{100000}}) {
    Bytes msg(n);
    for (size_t i = 0; i < n; ++i) msg[i] = static_cast<uint8_t>(i * 13);
    test::write_file_bytes(dir / "msg", msg);
    const Signature sig = key.sign(msg);
    auto r = test::run_program({"/usr/bin/python3", kScript, "verify", to_hex(key.public_key()),
                                (dir / "msg").string(), to_hex(sig)});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // And a corrupted signature is rejected by PyNaCl too (the check can fail).
    Signature bad = sig;
    bad[0] ^= 1;
    r = test::run_program({"/usr/bin/python3", kScript, "verify", to_hex(key.public_key()),
                           (dir / "msg").string(), to_hex(bad)});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  }
}

TEST(NaclInterop, PyNaClSignatureVerifiesInLibrary) {
  test::TempDir dir;
  const std::string seed = "a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00";
  const std::string message = "ritma interop message \xe2\x80\x94 with bytes \x01\x02";
  test::write_file_bytes(dir / "msg", as_bytes(message));
  auto r = test::run_program({"/usr/bin/python3", kScript, "sign", seed, (dir / "msg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string pub_hex, sig_hex;
  in >> pub_hex >> sig_hex;
  auto pub = from_hex(pub_hex);
  auto sig = from_hex(sig_hex);
  ASSERT_TRUE(pub.ok() && sig.ok() && pub->size() == 32);
  PublicKey pk;
  std::copy(pub->begin(), pub->end(), pk.begin());
  EXPECT_TRUE(verify_signature(pk, as_bytes(message), *sig));
  EXPECT_FALSE(verify_signature(pk, as_bytes(message + "!"), *sig));
  // Same seed through libsodium gives the same key and the same (deterministic) signature.
  auto ours = SigningKey::from_seed(*from_hex(seed));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->public_key(), pk);
  EXPECT_EQ(to_hex(ours->sign(as_bytes(message))), sig_hex);
}

}  // namespace
}  // namespace ritma
