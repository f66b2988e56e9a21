// Hex and base64 codecs: RFC 4648 vectors and strict rejection.
#include "core/bytes.h"

#include <gtest/gtest.h>

namespace ritma {
namespace {

TEST(Bytes, HexRoundTripAndRejects) {
  EXPECT_EQ(to_hex(as_bytes("\x01\xab")), "01ab");
  EXPECT_EQ(*from_hex("01AB"), (Bytes{0x01, 0xab}));
  EXPECT_FALSE(from_hex("abc").ok());
  EXPECT_FALSE(from_hex("zz").ok());
  EXPECT_FALSE(from_hex("01 2").ok());
  EXPECT_FALSE(hash32_from_hex("00").ok());
}

TEST(Bytes, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""},
                                                   {"f", "Zg=="},
                                                   {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},
                                                   {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : v) {
    EXPECT_EQ(to_base64(as_bytes(plain)), enc);
    auto d = from_base64(enc);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(as_chars(*d), plain);
  }
  for (const char* bad :
       {"Zg", "Zg=", "Z===", "Zm9v\n", "Zm 9v", "Zm9v!", "Zg==Zg==", "Zh==", "Zm9=", "Zm\x99v"}) {
    EXPECT_FALSE(from_base64(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ritma
