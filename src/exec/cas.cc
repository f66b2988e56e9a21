// The content-addressed store: atomic writes, mmap reads, BLAKE3 verified on every read.
#include "exec/cas.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "core/blake3_hasher.h"
#include "core/durable_file.h"
#include "core/unique_fd.h"
#include "core/zstd_codec.h"

namespace ritma::exec {
namespace {

constexpr std::string_view kZstdSuffix = ".zst";
constexpr mode_t kObjectMode = 0444;  // objects are never rewritten
constexpr size_t kChunk = size_t{1} << 20;

Error errno_error(const std::string& what, const std::filesystem::path& p) {
  return make_error(what + " " + p.string() + ": " + std::strerror(errno));
}

Status write_all(int fd, ByteSpan data, const std::filesystem::path& p) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write", p);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

// Does `p` exist (without following a final symlink)?
Result<bool> path_exists(const std::filesystem::path& p) {
  struct stat st;
  if (lstat(p.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return errno_error("cannot stat", p);
}

struct CopyResult {
  std::string hash;
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
};

// Copies src (from its current offset) into dst, hashing the bytes read and, when `level` is
// set, writing them as one zstd frame.
Result<CopyResult> stream_copy(int src, const std::filesystem::path& src_path, int dst,
                               const std::filesystem::path& dst_path, const int* level) {
  using Cctx = std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)>;
  Cctx cctx(nullptr, ZSTD_freeCCtx);
  if (level != nullptr) {
    cctx.reset(ZSTD_createCCtx());
    if (!cctx) return make_error("zstd: out of memory");
    const size_t rc = ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, *level);
    if (ZSTD_isError(rc)) return make_error(std::string("zstd: ") + ZSTD_getErrorName(rc));
  }
  Bytes in(kChunk);
  Bytes out(level != nullptr ? ZSTD_CStreamOutSize() : 0);
  Blake3Hasher hasher;
  CopyResult r;
  auto compress_chunk = [&](ByteSpan chunk, ZSTD_EndDirective mode) -> Status {
    ZSTD_inBuffer ib{chunk.data(), chunk.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      const size_t left = ZSTD_compressStream2(cctx.get(), &ob, &ib, mode);
      if (ZSTD_isError(left)) {
        return make_error(std::string("zstd compress: ") + ZSTD_getErrorName(left));
      }
      RITMA_TRY(write_all(dst, ByteSpan(out.data(), ob.pos), dst_path));
      r.out_bytes += ob.pos;
      const bool done = mode == ZSTD_e_end ? left == 0 : ib.pos == ib.size;
      if (done) return {};
    }
  };
  for (;;) {
    const ssize_t n = read(src, in.data(), in.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read", src_path);
    }
    if (n == 0) break;
    const ByteSpan chunk(in.data(), static_cast<size_t>(n));
    hasher.update(chunk);
    r.in_bytes += chunk.size();
    if (level != nullptr) {
      RITMA_TRY(compress_chunk(chunk, ZSTD_e_continue));
    } else {
      RITMA_TRY(write_all(dst, chunk, dst_path));
      r.out_bytes += chunk.size();
    }
  }
  if (level != nullptr) RITMA_TRY(compress_chunk(ByteSpan(), ZSTD_e_end));
  r.hash = to_hex(hasher.finalize());
  return r;
}

// A fresh temp file in dir (mode 0600 until it is complete).
Result<std::pair<UniqueFd, std::filesystem::path>> make_temp(const std::filesystem::path& dir) {
  std::string tmpl = (dir / "put.XXXXXX").string();
  const int fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return errno_error("cannot create a temp file in", dir);
  return std::make_pair(UniqueFd(fd), std::filesystem::path(tmpl));
}

}  // namespace

Status check_cas_hash(std::string_view hash) {
  bool ok = hash.size() == 64;
  for (char c : hash) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (ok) return {};
  std::string shown;
  for (char c : hash.substr(0, 80)) {
    shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return make_error("invalid CAS hash \"" + shown + (hash.size() > 80 ? "...\"" : "\"") +
                    ": expected 64 lowercase hex digits (BLAKE3-256)");
}

CasBlob::~CasBlob() {
  reset();
}

CasBlob::CasBlob(CasBlob&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_size_(std::exchange(other.map_size_, 0)),
      owned_(std::move(other.owned_)) {}

CasBlob& CasBlob::operator=(CasBlob&& other) noexcept {
  if (this != &other) {
    reset();
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

void CasBlob::reset() {
  if (map_ != nullptr) munmap(const_cast<uint8_t*>(map_), map_size_);
  map_ = nullptr;
  map_size_ = 0;
  owned_.clear();
}

Cas::Cas(std::filesystem::path root, CasOptions options)
    : root_(std::move(root)), options_(options) {}

Result<std::filesystem::path> Cas::object_path(std::string_view hash) const {
  RITMA_TRY(check_cas_hash(hash));
  return objects_dir() / std::string(hash.substr(0, 2)) / std::string(hash.substr(2, 2)) /
         std::string(hash);
}

Result<bool> Cas::exists(std::string_view hash) const {
  RITMA_ASSIGN_OR_RETURN(const std::filesystem::path plain, object_path(hash));
  RITMA_ASSIGN_OR_RETURN(const bool has_plain, path_exists(plain));
  if (has_plain) return true;
  return path_exists(plain.string() + std::string(kZstdSuffix));
}

Result<std::filesystem::path> Cas::existing_object(std::string_view hash) const {
  RITMA_ASSIGN_OR_RETURN(const std::filesystem::path plain, object_path(hash));
  RITMA_ASSIGN_OR_RETURN(const bool has_plain, path_exists(plain));
  if (has_plain) return plain;
  const std::filesystem::path zst = plain.string() + std::string(kZstdSuffix);
  RITMA_ASSIGN_OR_RETURN(const bool has_zst, path_exists(zst));
  if (has_zst) return zst;
  return make_error("CAS object " + std::string(hash) + " is missing (no " + plain.string() +
                    " or .zst)");
}

Result<std::string> Cas::put(ByteSpan data) const {
  const std::string hash = to_hex(blake3(data));
  RITMA_ASSIGN_OR_RETURN(const bool present, exists(hash));
  if (present) return hash;
  RITMA_ASSIGN_OR_RETURN(const std::filesystem::path plain, object_path(hash));
  RITMA_TRY(make_directories(plain.parent_path()));
  if (options_.compress && !data.empty()) {
    RITMA_ASSIGN_OR_RETURN(const Bytes frame, zstd_compress(data, options_.zstd_level));
    if (frame.size() < data.size()) {
      RITMA_TRY(atomic_write_file(plain.string() + std::string(kZstdSuffix), frame, kObjectMode));
      return hash;
    }
  }
  RITMA_TRY(atomic_write_file(plain, data, kObjectMode));
  return hash;
}

Result<std::string> Cas::install_temp(const std::filesystem::path& tmp, const std::string& hash,
                                      bool compressed) const {
  auto fail = [&](Error e) -> Result<std::string> {
    unlink(tmp.c_str());
    return e;
  };
  auto plain = object_path(hash);
  if (!plain) return fail(plain.error());
  auto present = exists(hash);
  if (!present) return fail(present.error());
  if (*present) {  // deduplicated: someone stored the same content first
    unlink(tmp.c_str());
    return hash;
  }
  if (auto s = make_directories(plain->parent_path()); !s) return fail(s.error());
  const std::filesystem::path dest =
      compressed ? std::filesystem::path(plain->string() + std::string(kZstdSuffix)) : *plain;
  if (rename(tmp.c_str(), dest.c_str()) != 0) {
    return fail(errno_error("cannot rename " + tmp.string() + " onto", dest));
  }
  RITMA_TRY(fsync_directory(dest.parent_path()));
  return hash;
}

Result<std::string> Cas::put_file(const std::filesystem::path& path) const {
  UniqueFd src(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src.valid()) return errno_error("cannot open", path);
  struct stat st;
  if (fstat(src.get(), &st) != 0) return errno_error("cannot stat", path);
  if (S_ISDIR(st.st_mode)) return make_error(path.string() + " is a directory, not a file");
  const std::filesystem::path tmp_dir = root_ / "cas" / "tmp";
  RITMA_TRY(make_directories(tmp_dir));

  auto copy_once = [&](bool zstd_form) -> Result<std::pair<CopyResult, std::filesystem::path>> {
    RITMA_ASSIGN_OR_RETURN(auto temp, make_temp(tmp_dir));
    UniqueFd& fd = temp.first;
    const std::filesystem::path& tmp = temp.second;
    auto fail = [&](Error e) -> Result<std::pair<CopyResult, std::filesystem::path>> {
      fd.reset();
      unlink(tmp.c_str());
      return e;
    };
    auto copied =
        stream_copy(src.get(), path, fd.get(), tmp, zstd_form ? &options_.zstd_level : nullptr);
    if (!copied) return fail(copied.error());
    if (fchmod(fd.get(), kObjectMode) != 0) return fail(errno_error("cannot chmod", tmp));
    if (fsync(fd.get()) != 0) return fail(errno_error("cannot fsync", tmp));
    if (fd.reset() != 0) return fail(errno_error("cannot close", tmp));
    return std::make_pair(std::move(copied).value(), tmp);
  };

  RITMA_ASSIGN_OR_RETURN(auto first, copy_once(options_.compress));
  if (!options_.compress) return install_temp(first.second, first.first.hash, false);
  if (first.first.out_bytes < first.first.in_bytes) {
    return install_temp(first.second, first.first.hash, true);
  }
  // The frame is not smaller: store the plain form instead, when the source can be re-read.
  if (lseek(src.get(), 0, SEEK_SET) != 0) {
    return install_temp(first.second, first.first.hash, true);
  }
  unlink(first.second.c_str());
  RITMA_ASSIGN_OR_RETURN(auto second, copy_once(false));
  if (second.first.hash != first.first.hash) {
    unlink(second.second.c_str());
    return make_error(path.string() + " changed while it was being stored in the CAS");
  }
  return install_temp(second.second, second.first.hash, false);
}

Result<CasBlob> Cas::get(std::string_view hash) const {
  RITMA_ASSIGN_OR_RETURN(const std::filesystem::path p, existing_object(hash));
  const bool compressed = p.string().ends_with(kZstdSuffix);
  const std::string what = "CAS object " + std::string(hash);
  UniqueFd fd(open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errno_error(what + ": cannot open", p);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return errno_error(what + ": cannot stat", p);
  if (!S_ISREG(st.st_mode)) return make_error(what + ": " + p.string() + " is not a regular file");
  const size_t size = static_cast<size_t>(st.st_size);
  if (!compressed && size > options_.max_object_bytes) {
    return make_error(what + ": " + std::to_string(size) + " bytes is larger than the limit of " +
                      std::to_string(options_.max_object_bytes));
  }
  CasBlob blob;
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (map == MAP_FAILED) return errno_error(what + ": cannot map", p);
    madvise(map, size, MADV_SEQUENTIAL);
    blob.map_ = static_cast<const uint8_t*>(map);
    blob.map_size_ = size;
  }
  if (compressed) {
    auto content = zstd_decompress(blob.bytes(), options_.max_object_bytes);
    if (!content) {
      return make_error(what + " is corrupt: " + p.string() + ": " + content.error().message);
    }
    blob.reset();
    blob.owned_ = std::move(content).value();
  }
  const std::string actual = to_hex(blake3(blob.bytes()));
  if (actual != hash) {
    return make_error(what + " is corrupt: the content of " + p.string() + " hashes to " + actual);
  }
  return blob;
}

Result<Bytes> Cas::get_bytes(std::string_view hash) const {
  RITMA_ASSIGN_OR_RETURN(const CasBlob blob, get(hash));
  const ByteSpan b = blob.bytes();
  return Bytes(b.begin(), b.end());
}

Status Cas::get_to_file(std::string_view hash, const std::filesystem::path& dest,
                        mode_t mode) const {
  RITMA_ASSIGN_OR_RETURN(const CasBlob blob, get(hash));
  return atomic_write_file(dest, blob.bytes(), mode);
}

}  // namespace ritma::exec
