// Append-only framed files: a sequence of frames `u32 little-endian length || payload`. A crash
// can leave a torn tail (a partial length or a payload shorter than its length); the reader
// detects it and reports the offset where the valid prefix ends, and the writer refuses to
// append after a torn tail unless asked to cut it off.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma {

constexpr uint32_t kMaxFrameBytes = 64u << 20;

struct FrameScan {
  std::vector<ByteSpan> frames;     // views into the scanned buffer
  std::vector<uint64_t> offsets;    // offset of each frame's length prefix
  uint64_t valid_end = 0;           // bytes covered by complete frames
  std::optional<std::string> torn;  // what is wrong after valid_end, if anything
};

// Splits `data` into frames. Never fails: damage after the last complete frame is reported in
// `torn` (e.g. "torn tail at offset 1234: frame declares 500 bytes, 17 present").
FrameScan scan_frames(ByteSpan data, uint32_t max_frame = kMaxFrameBytes);

// Appends frames to a file opened with O_APPEND. Each append is one write(2) of prefix and
// payload; sync() makes everything appended so far durable.
class FrameWriter {
 public:
  enum class TornTail { kRefuse, kTruncate };
  // Opens (creating if needed) for appending. When the existing file ends in a torn frame,
  // kRefuse fails naming the offset; kTruncate cuts the file back to the last complete frame
  // and reports the number of bytes removed in truncated_bytes().
  static Result<FrameWriter> open(const std::filesystem::path& path, TornTail policy);

  FrameWriter(FrameWriter&& other) noexcept;
  FrameWriter& operator=(FrameWriter&&) = delete;
  FrameWriter(const FrameWriter&) = delete;
  ~FrameWriter();

  Status append(ByteSpan payload);
  Status sync();
  uint64_t size() const { return size_; }
  uint64_t truncated_bytes() const { return truncated_; }

 private:
  FrameWriter(int fd, std::filesystem::path path, uint64_t size, uint64_t truncated)
      : fd_(fd), path_(std::move(path)), size_(size), truncated_(truncated) {}
  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t size_ = 0;
  uint64_t truncated_ = 0;
};

}  // namespace ritma
