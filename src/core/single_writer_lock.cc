// flock-based single-writer lock.
#include "core/single_writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ritma {

Result<SingleWriterLock> SingleWriterLock::acquire(const std::filesystem::path& lock_file,
                                                   const std::string& what) {
  int fd = open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return make_error("cannot open lock file " + lock_file.string() + ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder = "unknown pid";
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
      long pid = std::strtol(buf, nullptr, 10);
      if (pid > 0) holder = "pid " + std::to_string(pid);
    }
    close(fd);
    if (err == EWOULDBLOCK) {
      return make_error(what + " already running (" + holder + "); lock held on " +
                        lock_file.string());
    }
    return make_error("cannot lock " + lock_file.string() + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    const int err = errno;
    close(fd);
    return make_error("cannot record pid in " + lock_file.string() + ": " + std::strerror(err));
  }
  return SingleWriterLock(fd, lock_file);
}

SingleWriterLock::SingleWriterLock(SingleWriterLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

SingleWriterLock& SingleWriterLock::operator=(SingleWriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

SingleWriterLock::~SingleWriterLock() {
  if (fd_ >= 0) close(fd_);  // the kernel drops the flock with the last descriptor
}

}  // namespace ritma
