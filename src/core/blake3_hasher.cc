// BLAKE3 wrappers and mmap-based file hashing.
#include "core/blake3_hasher.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace ritma {

Blake3Hasher::Blake3Hasher() {
  blake3_hasher_init(&state_);
}

Blake3Hasher Blake3Hasher::keyed(const Hash32& key) {
  Blake3Hasher h;
  blake3_hasher_init_keyed(&h.state_, key.data());
  return h;
}

void Blake3Hasher::update(ByteSpan data) {
  blake3_hasher_update(&state_, data.data(), data.size());
}

Hash32 Blake3Hasher::finalize() const {
  Hash32 out;
  blake3_hasher_finalize(&state_, out.data(), out.size());
  return out;
}

Hash32 blake3(ByteSpan data) {
  Blake3Hasher h;
  h.update(data);
  return h.finalize();
}

Hash32 blake3_keyed(const Hash32& key, ByteSpan data) {
  Blake3Hasher h = Blake3Hasher::keyed(key);
  h.update(data);
  return h.finalize();
}

namespace {

Error file_error(const std::filesystem::path& path, const char* what) {
  return make_error(path.string() + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<Hash32> blake3_file(const std::filesystem::path& path) {
  UniqueFd f(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.get() < 0) return file_error(path, "cannot open");
  struct stat st;
  if (fstat(f.get(), &st) != 0) return file_error(path, "cannot stat");
  Blake3Hasher h;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, f.get(), 0);
    if (map != MAP_FAILED) {
      madvise(map, size, MADV_SEQUENTIAL);
      h.update(ByteSpan(static_cast<const uint8_t*>(map), size));
      munmap(map, size);
      return h.finalize();
    }
    // Fall back to reading (e.g. filesystems without mmap support).
  }
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    ssize_t n = read(f.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return file_error(path, "read failed");
    }
    if (n == 0) break;
    h.update(ByteSpan(buf.data(), static_cast<size_t>(n)));
  }
  return h.finalize();
}

}  // namespace ritma
