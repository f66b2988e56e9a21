// The content-addressed store: round trip, dedup, verification on every read, compression,
// hostile hashes, concurrent puts.
#include "exec/cas.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "core/blake3_hasher.h"
#include "core/zstd_codec.h"
#include "test_util.h"

namespace ritma::exec {
namespace {

namespace fs = std::filesystem;

Bytes pattern(size_t n, uint8_t seed = 7) {
  Bytes b(n);
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    b[i] = static_cast<uint8_t>(x >> 24);
  }
  return b;
}

Bytes compressible(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>("requiem "[i % 8]);
  return b;
}

// Every object file (not temp files) under cas/b3.
std::vector<fs::path> object_files(const Cas& cas) {
  std::vector<fs::path> out;
  if (!fs::exists(cas.objects_dir())) return out;
  for (const auto& e : fs::recursive_directory_iterator(cas.objects_dir())) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

void flip_byte(const fs::path& p, size_t offset) {
  chmod(p.c_str(), 0644);
  Bytes b = test::read_file_bytes(p);
  ASSERT_LT(offset, b.size());
  b[offset] ^= 0x01;
  test::write_file_bytes(p, b);
}

TEST(Cas, RoundTripAndLayout) {
  test::TempDir dir;
  const Cas cas(dir.path());
  const Bytes data = pattern(100000);
  auto h = cas.put(data);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(*h, to_hex(blake3(data)));
  const fs::path expected = dir / "cas" / "b3" / h->substr(0, 2) / h->substr(2, 2) / *h;
  EXPECT_TRUE(fs::is_regular_file(expected));
  EXPECT_EQ(*cas.object_path(*h), expected);
  // The plain form is the content byte for byte, read-only.
  EXPECT_TRUE(test::read_file_bytes(expected) == data);
  struct stat st;
  ASSERT_EQ(stat(expected.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  auto back = cas.get_bytes(*h);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == data);
  EXPECT_TRUE(*cas.exists(*h));
}

TEST(Cas, EmptyObject) {
  test::TempDir dir;
  const Cas cas(dir.path());
  auto h = cas.put(Bytes{});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  auto blob = cas.get(*h);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(blob->size(), 0u);
}

TEST(Cas, DeduplicatesIdenticalContent) {
  test::TempDir dir;
  const Cas cas(dir.path());
  const Bytes data = pattern(5000);
  auto a = cas.put(data);
  auto b = cas.put(data);
  test::write_file_bytes(dir / "same", data);
  auto c = cas.put_file(dir / "same");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(object_files(cas).size(), 1u);
  // No temp file is left behind by the deduplicated put_file.
  EXPECT_TRUE(fs::is_empty(dir / "cas" / "tmp"));
  auto d = cas.put(pattern(5000, 8));
  ASSERT_TRUE(d.ok());
  EXPECT_NE(*a, *d);
  EXPECT_EQ(object_files(cas).size(), 2u);
}

TEST(Cas, PutFileStreamsLargeFiles) {
  test::TempDir dir;
  // 9 MiB + 3: several read chunks and a partial one.
  const Bytes data = pattern((size_t{9} << 20) + 3);
  test::write_file_bytes(dir / "big", data);
  for (bool compress : {false, true}) {
    const Cas cas(dir / (compress ? "z" : "p"), CasOptions{.compress = compress});
    auto h = cas.put_file(dir / "big");
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(*h, to_hex(blake3(data)));
    auto back = cas.get_bytes(*h);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == data);
  }
  // A missing file and a directory are refused by name.
  const Cas cas(dir.path());
  auto missing = cas.put_file(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  EXPECT_FALSE(cas.put_file(dir.path()).ok());
}

TEST(Cas, CorruptedObjectIsDetectedOnRead) {
  test::TempDir dir;
  const Cas cas(dir.path());
  const Bytes data = pattern(4096);
  auto h = cas.put(data);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(cas.get(*h).ok());
  flip_byte(*cas.object_path(*h), 1000);
  auto r = cas.get(*h);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CAS object " + *h + " is corrupt"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find(cas.object_path(*h)->string()), std::string::npos);
  EXPECT_FALSE(cas.get_bytes(*h).ok());
  EXPECT_FALSE(cas.get_to_file(*h, dir / "out").ok());
  EXPECT_FALSE(fs::exists(dir / "out"));
  // exists() only says the file is there; it is get() that verifies.
  EXPECT_TRUE(*cas.exists(*h));
}

TEST(Cas, TruncatedOrReplacedObjectIsDetected) {
  test::TempDir dir;
  const Cas cas(dir.path());
  auto h = cas.put(pattern(300));
  ASSERT_TRUE(h.ok());
  const fs::path p = *cas.object_path(*h);
  chmod(p.c_str(), 0644);
  fs::resize_file(p, 0);
  auto r = cas.get(*h);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(*h), std::string::npos);
  // A symlink in place of the object is not followed.
  fs::remove(p);
  test::write_file_bytes(dir / "elsewhere", pattern(300));
  fs::create_symlink(dir / "elsewhere", p);
  EXPECT_FALSE(cas.get(*h).ok());
}

TEST(Cas, MissingObjectIsNamed) {
  test::TempDir dir;
  const Cas cas(dir.path());
  const std::string h = to_hex(blake3(as_bytes(std::string_view("never stored"))));
  EXPECT_FALSE(*cas.exists(h));
  auto r = cas.get(h);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CAS object " + h + " is missing"), std::string::npos)
      << r.error().message;
}

TEST(Cas, RefusesHashesThatAreNotSixtyFourLowercaseHexDigits) {
  test::TempDir dir;
  const Cas cas(dir.path());
  const std::string good(64, 'a');
  EXPECT_TRUE(check_cas_hash(good).ok());
  const std::vector<std::string> bad = {
      "",
      std::string(63, 'a'),
      std::string(65, 'a'),
      std::string(64, 'A'),
      "../" + std::string(61, 'a'),
      "aa/" + std::string(61, 'a'),
      std::string(62, 'a') + "/.",
      std::string(63, 'a') + std::string(1, '\0'),
      std::string(63, 'a') + "g",
      "/etc/passwd",
  };
  for (const std::string& h : bad) {
    EXPECT_FALSE(check_cas_hash(h).ok()) << h;
    EXPECT_FALSE(cas.get(h).ok()) << h;
    EXPECT_FALSE(cas.exists(h).ok()) << h;
    EXPECT_FALSE(cas.object_path(h).ok()) << h;
  }
  auto r = cas.get("../../etc/passwd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("64 lowercase hex digits"), std::string::npos);
}

TEST(Cas, CompressionOnAndOff) {
  test::TempDir dir;
  const Bytes text = compressible(200000);
  const Bytes noise = pattern(200000);
  const Cas plain(dir / "plain", CasOptions{.compress = false});
  const Cas packed(dir / "packed", CasOptions{.compress = true});
  for (const Bytes* data : {&text, &noise}) {
    auto hp = plain.put(*data);
    auto hz = packed.put(*data);
    ASSERT_TRUE(hp.ok() && hz.ok());
    // The key is the BLAKE3 of the uncompressed content either way.
    EXPECT_EQ(*hp, *hz);
    EXPECT_EQ(*hp, to_hex(blake3(*data)));
    EXPECT_TRUE(fs::exists(*plain.object_path(*hp)));
    EXPECT_TRUE(*packed.get_bytes(*hz) == *data);
    // A store reads either form, whatever its own setting.
    const Cas reader(dir / "packed");
    EXPECT_TRUE(*reader.get_bytes(*hz) == *data);
  }
  const std::string ht = to_hex(blake3(text));
  const fs::path zst = packed.object_path(ht)->string() + ".zst";
  EXPECT_TRUE(fs::exists(zst));
  EXPECT_FALSE(fs::exists(*packed.object_path(ht)));
  EXPECT_LT(fs::file_size(zst), text.size() / 10);
  // Incompressible content is stored plain even with compression on.
  const std::string hn = to_hex(blake3(noise));
  EXPECT_TRUE(fs::exists(*packed.object_path(hn)));
  EXPECT_FALSE(fs::exists(packed.object_path(hn)->string() + ".zst"));

  // The same through put_file.
  test::write_file_bytes(dir / "text", text);
  test::write_file_bytes(dir / "noise", noise);
  const Cas packed_files(dir / "packed_files", CasOptions{.compress = true});
  ASSERT_TRUE(packed_files.put_file(dir / "text").ok());
  ASSERT_TRUE(packed_files.put_file(dir / "noise").ok());
  EXPECT_TRUE(fs::exists(packed_files.object_path(ht)->string() + ".zst"));
  EXPECT_TRUE(fs::exists(*packed_files.object_path(hn)));
  EXPECT_TRUE(fs::is_empty(dir / "packed_files" / "cas" / "tmp"));

  // A corrupted compressed object is named too: a bad frame, or a frame of other content.
  flip_byte(zst, fs::file_size(zst) / 2);
  auto r = packed.get(ht);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CAS object " + ht + " is corrupt"), std::string::npos)
      << r.error().message;
  fs::remove(zst);
  auto frame = zstd_compress(compressible(1000));
  ASSERT_TRUE(frame.ok());
  test::write_file_bytes(zst, *frame);
  r = packed.get(ht);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("hashes to " + to_hex(blake3(compressible(1000)))),
            std::string::npos)
      << r.error().message;
}

TEST(Cas, ConcurrentPutsOfTheSameObject) {
  test::TempDir dir;
  const Bytes data = pattern(1 << 20);
  test::write_file_bytes(dir / "src", data);
  const std::string expected = to_hex(blake3(data));
  for (bool compress : {false, true}) {
    const Cas cas(dir / (compress ? "z" : "p"), CasOptions{.compress = compress});
    std::vector<std::string> got(16);
    std::vector<std::string> errors(16);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
      threads.emplace_back([&, i] {
        auto h = i % 2 == 0 ? cas.put(data) : cas.put_file(dir / "src");
        if (h.ok()) {
          got[i] = *h;
        } else {
          errors[i] = h.error().message;
        }
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], expected) << errors[i];
    }
    EXPECT_EQ(object_files(cas).size(), 1u);
    EXPECT_TRUE(fs::is_empty(dir / (compress ? "z" : "p") / "cas" / "tmp"));
    auto back = cas.get_bytes(expected);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == data);
  }
}

}  // namespace
}  // namespace ritma::exec
