// Framed append-only files: round trip, and every way the tail can be torn.
#include "core/frame_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "test_util.h"

namespace ritma {
namespace {

std::vector<Bytes> sample_frames() {
  return {Bytes{}, Bytes{1}, Bytes(300, 7), Bytes(70000, 9), Bytes{0xff, 0}};
}

TEST(FrameLog, RoundTrip) {
  test::TempDir dir;
  {
    auto w = FrameWriter::open(dir / "log", FrameWriter::TornTail::kRefuse);
    ASSERT_TRUE(w.ok()) << w.error().message;
    for (const auto& f : sample_frames()) ASSERT_TRUE(w->append(f).ok());
    ASSERT_TRUE(w->sync().ok());
  }
  const Bytes data = test::read_file_bytes(dir / "log");
  const FrameScan scan = scan_frames(data);
  EXPECT_FALSE(scan.torn);
  ASSERT_EQ(scan.frames.size(), sample_frames().size());
  for (size_t i = 0; i < scan.frames.size(); ++i) {
    EXPECT_EQ(Bytes(scan.frames[i].begin(), scan.frames[i].end()), sample_frames()[i]);
  }
  EXPECT_EQ(scan.valid_end, data.size());
  EXPECT_EQ(data[0], 0);  // empty frame: length 0 little-endian
  EXPECT_EQ(data[4], 1);  // next frame length 1
  EXPECT_EQ(data[5], 0);
}

TEST(FrameLog, DetectsTornTailAtEveryCut) {
  Bytes full;
  std::vector<uint64_t> boundaries{0};
  for (const auto& f : sample_frames()) {
    const uint32_t n = static_cast<uint32_t>(f.size());
    full.insert(full.end(), {uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)});
    append(full, f);
    boundaries.push_back(full.size());
  }
  for (uint64_t cut = 0; cut <= full.size(); cut += (cut < 400 ? 1 : 997)) {
    const FrameScan scan = scan_frames(ByteSpan(full).first(cut));
    uint64_t expected_end = 0;
    size_t expected_frames = 0;
    for (size_t i = 0; i < boundaries.size(); ++i) {
      if (boundaries[i] <= cut) {
        expected_end = boundaries[i];
        expected_frames = i;
      }
    }
    EXPECT_EQ(scan.valid_end, expected_end) << "cut " << cut;
    EXPECT_EQ(scan.frames.size(), expected_frames) << "cut " << cut;
    EXPECT_EQ(scan.torn.has_value(), cut != expected_end) << "cut " << cut;
    if (scan.torn) {
      EXPECT_NE(scan.torn->find("offset " + std::to_string(expected_end)), std::string::npos)
          << *scan.torn;
    }
  }
}

TEST(FrameLog, RejectsAbsurdLength) {
  const Bytes data{0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
  const FrameScan scan = scan_frames(data);
  ASSERT_TRUE(scan.torn);
  EXPECT_NE(scan.torn->find("corrupt frame at offset 0"), std::string::npos);
}

TEST(FrameLog, WriterRefusesOrTruncatesTornTail) {
  test::TempDir dir;
  {
    auto w = FrameWriter::open(dir / "log", FrameWriter::TornTail::kRefuse);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->append(as_bytes("first")).ok());
    ASSERT_TRUE(w->append(as_bytes("second")).ok());
  }
  const auto size = std::filesystem::file_size(dir / "log");
  ASSERT_EQ(truncate((dir / "log").c_str(), static_cast<off_t>(size - 2)), 0);
  auto refused = FrameWriter::open(dir / "log", FrameWriter::TornTail::kRefuse);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("torn tail at offset 9"), std::string::npos)
      << refused.error().message;
  {
    auto w = FrameWriter::open(dir / "log", FrameWriter::TornTail::kTruncate);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->truncated_bytes(), 8u);
    EXPECT_EQ(w->size(), 9u);
    ASSERT_TRUE(w->append(as_bytes("third")).ok());
  }
  const Bytes data = test::read_file_bytes(dir / "log");
  const FrameScan scan = scan_frames(data);
  EXPECT_FALSE(scan.torn);
  ASSERT_EQ(scan.frames.size(), 2u);
  EXPECT_EQ(as_chars(scan.frames[1]), "third");
}

}  // namespace
}  // namespace ritma
