// BLAKE3 and SHA-256 agree with implementations nobody here wrote: Debian's b3sum (the Rust
// reference crate) and coreutils' sha256sum, on inputs around the block and chunk boundaries.
#include <gtest/gtest.h>

#include "core/blake3_hasher.h"
#include "core/sha256.h"
#include "test_util.h"

namespace ritma {
namespace {

const size_t kSizes[] = {0, 1, 63, 64, 65, 1023, 1024, 1025, (1u << 20) + 1};

Bytes input_of(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i % 251);
  return b;
}

std::string first_field(const std::string& line) {
  return line.substr(0, line.find(' '));
}

TEST(HashInterop, Blake3EqualsB3sum) {
  test::TempDir dir;
  for (size_t n : kSizes) {
    const Bytes in = input_of(n);
    const auto path = dir / ("in-" + std::to_string(n));
    test::write_file_bytes(path, in);
    const auto r = test::run_program({"/usr/bin/b3sum", "--num-threads", "1", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string want = first_field(r.out);
    EXPECT_EQ(to_hex(blake3(in)), want) << "n=" << n;
    auto from_file = blake3_file(path);
    ASSERT_TRUE(from_file.ok());
    EXPECT_EQ(to_hex(*from_file), want) << "file n=" << n;
    // Streaming in odd-sized pieces gives the same digest.
    Blake3Hasher h;
    for (size_t off = 0; off < n; off += 7)
      h.update(ByteSpan(in).subspan(off, std::min<size_t>(7, n - off)));
    EXPECT_EQ(to_hex(h.finalize()), want) << "streamed n=" << n;
  }
}

TEST(HashInterop, Blake3KeyedEqualsB3sumKeyed) {
  test::TempDir dir;
  Hash32 key;
  for (size_t i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(200 - i);
  test::write_file_bytes(dir / "key", key);
  for (size_t n : {size_t{0}, size_t{1025}}) {
    const Bytes in = input_of(n);
    const auto path = dir / ("in-" + std::to_string(n));
    test::write_file_bytes(path, in);
    // b3sum reads the key from standard input; run it through a shell redirect.
    const auto r = test::run_program({"/bin/sh", "-c", "/usr/bin/b3sum --keyed \"$1\" < \"$2\"",
                                      "sh", path.string(), (dir / "key").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(to_hex(blake3_keyed(key, in)), first_field(r.out)) << "n=" << n;
  }
}

TEST(HashInterop, Sha256EqualsSha256sum) {
  test::TempDir dir;
  for (size_t n : kSizes) {
    const Bytes in = input_of(n);
    const auto path = dir / ("in-" + std::to_string(n));
    test::write_file_bytes(path, in);
    const auto r = test::run_program({"/usr/bin/sha256sum", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(to_hex(sha256(in)), first_field(r.out)) << "n=" << n;
    Sha256 h;
    for (size_t off = 0; off < n; off += 61)
      h.update(ByteSpan(in).subspan(off, std::min<size_t>(61, n - off)));
    EXPECT_EQ(to_hex(h.finalize()), first_field(r.out)) << "streamed n=" << n;
  }
}

TEST(HashInterop, Blake3FileReportsMissingFile) {
  auto r = blake3_file("/nonexistent/file");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/file"), std::string::npos);
}

}  // namespace
}  // namespace ritma
