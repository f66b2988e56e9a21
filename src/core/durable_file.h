// Durable file I/O. A sealed file is written once, atomically: a temporary file in the same
// directory is written and fsynced, renamed over the target, and the directory is fsynced, so
// after a crash at any point the target holds either its old content or the new one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>

#include "core/bytes.h"
#include "core/result.h"

namespace ritma {

// Points inside atomic_write_file, reported to a hook so tests can crash the writer there.
enum class AtomicWriteStep {
  kTempCreated,  // temp file exists, empty
  kHalfWritten,  // first half of the content written to the temp file
  kWritten,      // all content written, not yet fsynced
  kSynced,       // temp file fsynced and closed
  kRenamed,      // renamed over the target, directory not yet fsynced
  kDirSynced,    // done
};
using AtomicWriteHook = std::function<void(AtomicWriteStep)>;

// Replaces `path` with `data`; the file gets permission bits `mode` (not subject to umask).
// On failure the target is unchanged and the temp file removed.
Status atomic_write_file(const std::filesystem::path& path, ByteSpan data, mode_t mode = 0644,
                         const AtomicWriteHook& hook = nullptr);

// Creates `path` (which must not exist) with `data` and permission bits `mode`, and fsyncs it;
// the directory is not fsynced (for files staged in a directory that is published later by
// one rename). On failure the partial file is removed.
Status write_new_file_synced(const std::filesystem::path& path, ByteSpan data, mode_t mode = 0644);

// fsync of a directory, making renames and creations in it durable.
Status fsync_directory(const std::filesystem::path& dir);

// mkdir -p with `mode` for each directory created; fsyncs the parent of each one it creates.
Status make_directories(const std::filesystem::path& dir, mode_t mode = 0755);

// Reads a whole file, refusing files larger than max_bytes (hostile or corrupt input).
Result<Bytes> read_file(const std::filesystem::path& path, size_t max_bytes = 64u << 20);

}  // namespace ritma
