// One writer per node: an exclusive flock(2) on a lock file (in RITMA_SIDECAR_LOCK_DIR). The
// holder's pid is written into the file so a second instance can say who holds it. The lock is
// released by the kernel when the holder exits, however it exits.
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"

namespace ritma {

class SingleWriterLock {
 public:
  // Takes the lock without waiting. When another process holds it, fails with
  // "<what> already running (pid N); lock held on PATH".
  static Result<SingleWriterLock> acquire(const std::filesystem::path& lock_file,
                                          const std::string& what);

  SingleWriterLock(SingleWriterLock&& other) noexcept;
  SingleWriterLock& operator=(SingleWriterLock&& other) noexcept;
  SingleWriterLock(const SingleWriterLock&) = delete;
  SingleWriterLock& operator=(const SingleWriterLock&) = delete;
  ~SingleWriterLock();

  const std::filesystem::path& path() const { return path_; }

 private:
  SingleWriterLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace ritma
