// Atomic, durable writes (temp + fsync + rename + fsync dir) and bounded reads.
#include "core/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "core/unique_fd.h"

namespace ritma {
namespace {

Error errno_error(const std::string& what, const std::filesystem::path& p) {
  return make_error(what + " " + p.string() + ": " + std::strerror(errno));
}

Status write_all(int fd, ByteSpan data, const std::filesystem::path& p) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write", p);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

std::string temp_name_for(const std::filesystem::path& target) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%d.%016llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(rng()));
  return "." + target.filename().string() + ".tmp" + suffix;
}

}  // namespace

Status fsync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno_error("cannot open directory", dir);
  if (fsync(fd.get()) != 0) return errno_error("cannot fsync directory", dir);
  return {};
}

Status atomic_write_file(const std::filesystem::path& path, ByteSpan data, mode_t mode,
                         const AtomicWriteHook& hook) {
  auto step = [&](AtomicWriteStep s) {
    if (hook) hook(s);
  };
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const std::filesystem::path tmp = dir / temp_name_for(path);
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return errno_error("cannot create", tmp);
  auto fail = [&](Error e) -> Status {
    fd.reset();
    unlink(tmp.c_str());
    return e;
  };
  step(AtomicWriteStep::kTempCreated);
  if (fchmod(fd.get(), mode) != 0) return fail(errno_error("cannot chmod", tmp));
  const size_t half = data.size() / 2;
  if (auto s = write_all(fd.get(), data.first(half), tmp); !s) return fail(s.error());
  step(AtomicWriteStep::kHalfWritten);
  if (auto s = write_all(fd.get(), data.subspan(half), tmp); !s) return fail(s.error());
  step(AtomicWriteStep::kWritten);
  if (fsync(fd.get()) != 0) return fail(errno_error("cannot fsync", tmp));
  if (fd.reset() != 0) return fail(errno_error("cannot close", tmp));
  step(AtomicWriteStep::kSynced);
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail(errno_error("cannot rename onto", path));
  step(AtomicWriteStep::kRenamed);
  RITMA_TRY(fsync_directory(dir));
  step(AtomicWriteStep::kDirSynced);
  return {};
}

Status write_new_file_synced(const std::filesystem::path& path, ByteSpan data, mode_t mode) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return errno_error("cannot create", path);
  auto fail = [&](Error e) -> Status {
    fd.reset();
    unlink(path.c_str());
    return e;
  };
  if (fchmod(fd.get(), mode) != 0) return fail(errno_error("cannot chmod", path));
  if (auto s = write_all(fd.get(), data, path); !s) return fail(s.error());
  if (fsync(fd.get()) != 0) return fail(errno_error("cannot fsync", path));
  if (fd.reset() != 0) return fail(errno_error("cannot close", path));
  return {};
}

Status make_directories(const std::filesystem::path& dir, mode_t mode) {
  std::filesystem::path cur;
  for (const auto& part : dir) {
    cur /= part;
    if (part.empty() || part == "/") continue;
    if (mkdir(cur.c_str(), mode) == 0) {
      RITMA_TRY(fsync_directory(cur.has_parent_path() ? cur.parent_path() : "."));
    } else if (errno != EEXIST) {
      return errno_error("cannot create directory", cur);
    } else {
      struct stat st;
      if (stat(cur.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return make_error("not a directory: " + cur.string());
      }
    }
  }
  return {};
}

Result<Bytes> read_file(const std::filesystem::path& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_error("cannot open", path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return errno_error("cannot stat", path);
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error(path.string() + ": " + std::to_string(st.st_size) +
                      " bytes is larger than the limit of " + std::to_string(max_bytes));
  }
  // Straight into the result (no bounce buffer): sized from fstat, grown if the file grows.
  Bytes out(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : 65536);
  size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes)
        return make_error(path.string() + ": larger than the limit of " +
                          std::to_string(max_bytes));
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes)
    return make_error(path.string() + ": larger than the limit of " + std::to_string(max_bytes));
  out.resize(got);
  return out;
}

}  // namespace ritma
