// What `ritma serve` shows: the evidence of a sealed store (RITMA_OUT/) or of a ProofPack
// bundle, behind one small interface so the HTTP server does not care which. Read-only: a
// source never writes, and serves only files under its own root (see safe_artifact_path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "seal/event_proof.h"
#include "seal/seal_format.h"
#include "seal/store_verifier.h"

namespace ritma::viewer {

struct WindowView {
  seal::MicroRecord micro;
  Bytes micro_bytes;        // the record exactly (its window-log leaf data)
  bool sealed = false;      // covered by the newest checkpoint
  bool has_blocks = false;  // its events are at hand (a bundle's context windows have none)
};

struct Snapshot {
  seal::StoreRecord store;
  std::vector<WindowView> windows;  // ascending log index
  std::string newest_checkpoint;    // the note text ("" before the first window)
  uint64_t newest_size = 0;
  std::string newest_root;  // hex

  const WindowView* find(uint64_t log_index) const;
};

class EvidenceSource {
 public:
  virtual ~EvidenceSource() = default;
  virtual std::string kind() const = 0;  // "store" or "bundle"
  virtual std::string location() const = 0;
  // The windows and the newest checkpoint as they are now (a store grows while a sensor runs).
  virtual Result<std::shared_ptr<const Snapshot>> snapshot() = 0;
  // The atoms (Merkle leaf data) of a window with blocks, in order, checked against its record.
  virtual Result<std::vector<Bytes>> window_atoms(const WindowView& w) = 0;
  // The inclusion proof (§11) of the window's leaf_index-th event, against the newest checkpoint.
  virtual Result<seal::EventProof> event_proof(const Snapshot& s, const WindowView& w,
                                               uint64_t leaf_index) = 0;
  // The full verification report (seal::verify_store or seal::verify_pack) as JSON.
  virtual Result<nlohmann::json> report() = 0;
  // A file's bytes by its path relative to the root (already checked by safe_artifact_path).
  // An error when there is no such regular file inside the root.
  virtual Result<Bytes> artifact(const std::string& relative_path) = 0;
};

// A store's RITMA_OUT directory. An error when it holds no store (no _meta/store.cbor).
Result<std::unique_ptr<EvidenceSource>> open_store_source(const std::filesystem::path& out_dir);
// A ProofPack directory or .tar.zst, read whole into memory. An error when it is no readable
// pack.
Result<std::unique_ptr<EvidenceSource>> open_bundle_source(const std::filesystem::path& path);

// What kind of artifact a relative path names, when it is one the viewer serves.
enum class ArtifactKind { kCbor, kSignature, kCheckpoint, kCompressedCbor, kBlock };

// A request's artifact path (already URL-decoded once) when it is safe to look up under a root:
// relative, '/'-separated, no empty, "." or ".." parts, no backslash, '%', NUL or control
// characters, at most 512 bytes, and naming a known artifact kind. nullopt otherwise.
std::optional<ArtifactKind> safe_artifact_path(std::string_view path);

// The parts of a verification report the viewer shows.
nlohmann::json verify_report_json(const seal::VerifyReport& r);

}  // namespace ritma::viewer
