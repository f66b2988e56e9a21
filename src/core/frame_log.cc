// Framed append-only files.
#include "core/frame_log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/durable_file.h"

namespace ritma {

FrameScan scan_frames(ByteSpan data, uint32_t max_frame) {
  FrameScan scan;
  uint64_t pos = 0;
  while (pos < data.size()) {
    const uint64_t left = data.size() - pos;
    if (left < 4) {
      scan.torn = "torn tail at offset " + std::to_string(pos) + ": " + std::to_string(left) +
                  " byte(s) of a 4-byte frame length";
      break;
    }
    const uint32_t len = uint32_t{data[pos]} | (uint32_t{data[pos + 1]} << 8) |
                         (uint32_t{data[pos + 2]} << 16) | (uint32_t{data[pos + 3]} << 24);
    if (len > max_frame) {
      scan.torn = "corrupt frame at offset " + std::to_string(pos) + ": declares " +
                  std::to_string(len) + " bytes, more than the limit of " +
                  std::to_string(max_frame);
      break;
    }
    if (left - 4 < len) {
      scan.torn = "torn tail at offset " + std::to_string(pos) + ": frame declares " +
                  std::to_string(len) + " bytes, " + std::to_string(left - 4) + " present";
      break;
    }
    scan.offsets.push_back(pos);
    scan.frames.push_back(data.subspan(pos + 4, len));
    pos += 4 + len;
  }
  scan.valid_end = pos;
  return scan;
}

Result<FrameWriter> FrameWriter::open(const std::filesystem::path& path, TornTail policy) {
  uint64_t valid_end = 0;
  uint64_t truncated = 0;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    RITMA_ASSIGN_OR_RETURN(Bytes existing, read_file(path, uint64_t{1} << 40));
    FrameScan scan = scan_frames(existing);
    valid_end = scan.valid_end;
    if (scan.torn) {
      if (policy == TornTail::kRefuse) return make_error(path.string() + ": " + *scan.torn);
      truncated = existing.size() - valid_end;
      if (truncate(path.c_str(), static_cast<off_t>(valid_end)) != 0) {
        return make_error("cannot truncate torn tail of " + path.string() + ": " +
                          std::strerror(errno));
      }
    }
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return make_error("cannot open " + path.string() + ": " + std::strerror(errno));
  if (valid_end == 0 && truncated == 0) {
    // A new file: make its directory entry durable.
    RITMA_TRY(fsync_directory(path.has_parent_path() ? path.parent_path() : "."));
  }
  return FrameWriter(fd, path, valid_end, truncated);
}

FrameWriter::FrameWriter(FrameWriter&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      size_(other.size_),
      truncated_(other.truncated_) {
  other.fd_ = -1;
}

FrameWriter::~FrameWriter() {
  if (fd_ >= 0) close(fd_);
}

Status FrameWriter::append(ByteSpan payload) {
  if (payload.size() > kMaxFrameBytes) return make_error("frame larger than the 64 MiB limit");
  const uint32_t len = static_cast<uint32_t>(payload.size());
  uint8_t prefix[4] = {uint8_t(len), uint8_t(len >> 8), uint8_t(len >> 16), uint8_t(len >> 24)};
  iovec iov[2] = {{prefix, 4}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
  size_t total = 4 + payload.size();
  size_t done = 0;
  while (done < total) {
    ssize_t n = writev(fd_, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot append to " + path_.string() + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
    // Advance the iovecs past what was written (short writes are rare but legal).
    size_t skip = static_cast<size_t>(n);
    for (auto& v : iov) {
      const size_t k = std::min(skip, v.iov_len);
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + k;
      v.iov_len -= k;
      skip -= k;
    }
  }
  size_ += total;
  return {};
}

Status FrameWriter::sync() {
  if (fdatasync(fd_) != 0) {
    return make_error("cannot fsync " + path_.string() + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace ritma
