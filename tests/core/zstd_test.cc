// zstd round trips and bounded, strict decompression.
#include <gtest/gtest.h>

#include "core/zstd_codec.h"

namespace ritma {
namespace {

TEST(Zstd, RoundTrip) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{1} << 20}) {
    Bytes in(n);
    for (size_t i = 0; i < n; ++i) in[i] = static_cast<uint8_t>((i * i) >> 3);
    auto c = zstd_compress(in);
    ASSERT_TRUE(c.ok());
    auto d = zstd_decompress(*c, n);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(*d, in);
  }
}

TEST(Zstd, EnforcesOutputLimit) {
  Bytes in(1 << 20, 0);
  auto c = zstd_compress(in);
  ASSERT_TRUE(c.ok());
  EXPECT_LT(c->size(), 1000u);
  auto d = zstd_decompress(*c, (1 << 20) - 1);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(Zstd, RejectsCorruptTruncatedAndTrailing) {
  Bytes in(5000);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i % 251);
  auto c = zstd_compress(in);
  ASSERT_TRUE(c.ok());
  Bytes truncated(c->begin(), c->end() - 3);
  EXPECT_FALSE(zstd_decompress(truncated, 1 << 20).ok());
  Bytes garbage = *c;
  garbage.push_back(0x42);
  garbage.push_back(0x42);
  EXPECT_FALSE(zstd_decompress(garbage, 1 << 20).ok());
  EXPECT_FALSE(zstd_decompress(as_bytes("definitely not zstd"), 1 << 20).ok());
}

}  // namespace
}  // namespace ritma
