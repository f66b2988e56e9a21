// Key rotation for a sealed store (docs/FORMAT.md §10.9): a new node key takes over from the
// current one at a moment recorded in _meta/keys/keys.cbor, and the current key signs the
// hand-over, so a verifier who pinned the old key can follow the chain to the new one.
#pragma once

#include <filesystem>

#include "core/key_file.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

struct RotationResult {
  KeyEntry previous;  // with its valid_until_ns set
  KeyEntry current;   // the new key, with its hand-over
};

// Replaces the signing key at `private_key_file`/`public_key_file` (same key name) with a new
// one and records the hand-over in out_dir/_meta/keys/keys.cbor. The caller holds the node's
// single-writer lock, so no sensor signs while the key changes. Order: the new key is written
// next to the old one (".new"), keys.cbor is replaced, then the new files are renamed over the
// old ones; an interruption leaves either the old state or a ".new" file and a keys.cbor whose
// current key is the new one (the sensor then refuses to start and names the mismatch).
Result<RotationResult> rotate_store_key(const std::filesystem::path& out_dir,
                                        const std::filesystem::path& private_key_file,
                                        const std::filesystem::path& public_key_file,
                                        int64_t now_ns);

// Checks the hand-over signatures and validity ranges of a keys record: each key after the
// first is handed over by the key before it, ranges are contiguous, and only the last key is
// open-ended.
Status check_key_chain(const KeysRecord& keys);

}  // namespace ritma::seal
