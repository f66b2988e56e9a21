// Requiem's content-addressed store (CAS): immutable objects named by the BLAKE3 of their
// content, under <root>/cas/b3/<h[0:2]>/<h[2:4]>/<h>, where <h> is the 64 lowercase hex digits
// of the BLAKE3-256 digest of the object's uncompressed bytes.
//
// An object is stored in exactly one of two forms (docs/REQUIEM.md Part C.1):
//   <h>      the content itself, byte for byte (so `b3sum <h>` prints <h>);
//   <h>.zst  one zstd frame whose decompression is the content (`zstd -d` restores it).
// The key is always the BLAKE3 of the uncompressed content. Objects are written atomically
// (temp file, fsync, rename, fsync of the directory), read by mmap, and their BLAKE3 is
// recomputed on every read: a read never returns bytes that do not match their name.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma::exec {

// Refuses anything but exactly 64 lowercase hex digits, so a caller's hash can never name a
// path outside the store ("../", "/", NUL, upper case, short or long strings).
Status check_cas_hash(std::string_view hash);

struct CasOptions {
  // Store new objects compressed (<h>.zst), but only when the frame is smaller than the
  // content; otherwise the plain form is written.
  bool compress = false;
  int zstd_level = 3;
  // get() refuses objects larger than this once decompressed (hostile frames, memory).
  size_t max_object_bytes = size_t{1} << 32;
};

// An object's verified content. For a plain object the bytes are a read-only mapping of the
// file; for a compressed one they are the decompressed buffer.
class CasBlob {
 public:
  CasBlob() = default;
  ~CasBlob();
  CasBlob(CasBlob&& other) noexcept;
  CasBlob& operator=(CasBlob&& other) noexcept;
  CasBlob(const CasBlob&) = delete;
  CasBlob& operator=(const CasBlob&) = delete;

  ByteSpan bytes() const { return map_ ? ByteSpan(map_, map_size_) : ByteSpan(owned_); }
  size_t size() const { return bytes().size(); }

 private:
  friend class Cas;
  void reset();
  const uint8_t* map_ = nullptr;  // mmap'ed plain object, or null
  size_t map_size_ = 0;
  Bytes owned_;  // decompressed object (or an empty plain object)
};

class Cas {
 public:
  // `root` is the directory that holds cas/ (e.g. RITMA_OUT); nothing is created until a put.
  explicit Cas(std::filesystem::path root, CasOptions options = {});

  const std::filesystem::path& root() const { return root_; }
  // <root>/cas/b3
  std::filesystem::path objects_dir() const { return root_ / "cas" / "b3"; }

  // Stores `data` (if not already present) and returns its hash (64 lowercase hex digits).
  Result<std::string> put(ByteSpan data) const;
  // Streams a file of any size into the store: hashed (and compressed) while it is copied into
  // a temp file under <root>/cas/tmp/, which is then renamed into place. The hash is of the
  // bytes actually copied, so a file that changes meanwhile still yields a consistent object.
  Result<std::string> put_file(const std::filesystem::path& path) const;

  // The verified content; fails naming the object when it is missing, unreadable, not a
  // regular file, fails to decompress, or does not hash to its name.
  Result<CasBlob> get(std::string_view hash) const;
  Result<Bytes> get_bytes(std::string_view hash) const;
  // Writes the verified content of an object to `dest` atomically, with mode `mode`.
  Status get_to_file(std::string_view hash, const std::filesystem::path& dest,
                     mode_t mode = 0644) const;

  // Whether an object file (plain or .zst) exists. Does not read it: only get() verifies.
  Result<bool> exists(std::string_view hash) const;
  // Where the plain form of an object lives (whether or not it exists).
  Result<std::filesystem::path> object_path(std::string_view hash) const;

 private:
  Result<std::filesystem::path> existing_object(std::string_view hash) const;
  Result<std::string> install_temp(const std::filesystem::path& tmp, const std::string& hash,
                                   bool compressed) const;

  std::filesystem::path root_;
  CasOptions options_;
};

}  // namespace ritma::exec
