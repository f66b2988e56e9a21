// The ProofPack `ritma-pack@1` (docs/FORMAT.md §12): a self-contained, offline-verifiable
// export of a time range of the sealed store. It holds the windows that cover the range (their
// blocks, micro records and signatures), the micro records of the other windows of every
// complete hour it touches (so the hour roots can be recomputed), those hour roots and chain
// links, signed checkpoints of the window log with the consistency proofs that link them to the
// newest one and each window's inclusion path to that newest checkpoint, the store identity and
// keys, JSON views of the events, a README for the auditor, and a signed manifest listing every
// other file with its size and BLAKE3.
//
//   MANIFEST.cbor, MANIFEST.sig, README.txt, proof.cbor,
//   store/_meta/store.cbor, store/_meta/store.sig, store/_meta/keys/keys.cbor,
//   store/windows/YYYY/MM/DD/HH/{blocks,micro,proofs}/...,
//   events/events.jsonl, events/windows.json
//
// A pack is a directory or one `.tar.zst` file holding the same paths (under one top directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/bytes.h"
#include "core/key_file.h"
#include "core/merkle.h"
#include "core/result.h"
#include "seal/event_proof.h"
#include "seal/seal_format.h"
#include "seal/store_verifier.h"

namespace ritma::seal {

inline constexpr std::string_view kManifestTag = "ritma-pack@1";
inline constexpr std::string_view kPackProofTag = "ritma-packproof@1";
inline constexpr const char* kManifestFile = "MANIFEST.cbor";
inline constexpr const char* kManifestSigFile = "MANIFEST.sig";
inline constexpr const char* kPackProofFile = "proof.cbor";
inline constexpr const char* kPackReadmeFile = "README.txt";
inline constexpr const char* kPackStoreDir = "store/";  // prefix of the store's files

// Bounds for reading a pack (hostile input).
inline constexpr uint64_t kMaxPackFiles = 1u << 20;
inline constexpr uint64_t kMaxPackBytes = 16ull << 30;  // total of all files
inline constexpr uint64_t kMaxPackFileBytes = 1ull << 30;

struct ManifestEntry {
  std::string path;  // relative, '/'-separated, no "." or ".." parts
  uint64_t size = 0;
  Hash32 b3{};  // BLAKE3-256 of the file's bytes
};

struct Manifest {  // MANIFEST.cbor
  StoreId store_id{};
  std::string node_id;
  int64_t created_ns = 0;
  int64_t from_ns = 0;  // the range asked for: [from_ns, to_ns)
  int64_t to_ns = 0;
  std::vector<ManifestEntry> files;  // every file but MANIFEST.cbor and MANIFEST.sig, sorted
};

struct PackWindowRef {  // one window of proof.cbor
  uint64_t log_index = 0;
  std::string micro_file;   // its micro record, relative to store/ (windows/.../micro/<stem>.cbor)
  bool has_blocks = false;  // in range: its blocks are in the pack
  merkle::Proof log_path;   // PATH(log_index, window log[0:newest size])
};

struct PackProof {  // proof.cbor
  StoreId store_id{};
  std::vector<std::string> checkpoints;    // signed notes, ascending size; the last is newest
  std::vector<merkle::Proof> consistency;  // between checkpoints[i] and [i+1]
  std::vector<PackWindowRef> windows;      // ascending, contiguous log indexes
};

Bytes encode(const Manifest& m);
Result<Manifest> decode_manifest(ByteSpan b);
Bytes encode(const PackProof& p);
Result<PackProof> decode_pack_proof(ByteSpan b);

// The files of a pack, read whole into memory, keyed by their path relative to the pack's top.
struct PackFiles {
  std::map<std::string, Bytes> files;  // the evidence: MANIFEST.*, proof.cbor, store/...
  // Every other file (README.txt, the JSON views under events/, anything unexpected) is only
  // hashed as it is read, never kept: its size and BLAKE3, for the manifest check.
  struct Digest {
    uint64_t size = 0;
    Hash32 b3{};
  };
  std::map<std::string, Digest> digested;
  std::string source;    // what was opened (for messages)
  bool archive = false;  // read from a .tar.zst
};

// True for the paths a pack keeps in `files` (what the verifier parses).
bool pack_keeps_bytes(std::string_view path);

// Reads a pack directory or a .tar.zst archive. Refuses (an error) what cannot be a pack:
// unreadable, not a directory or archive, a truncated or corrupt archive, paths that are
// absolute, contain "..", or repeat, entries that are not regular files, more than the bounds.
// `damaged` (when given) is set when the input was read but is not a well-formed pack
// container (a corrupt or truncated archive, a path that escapes): tampering, not usage.
Result<PackFiles> load_pack(const std::filesystem::path& path, bool* damaged = nullptr);
// The same over an archive held in memory (the fuzzer's entry point).
Result<PackFiles> load_pack_archive(ByteSpan archive, const std::string& source);

// ---- exporting

struct ExportOptions {
  std::optional<int64_t> at_ns;                // --at: the windows holding this instant
  std::optional<int64_t> from_ns, to_ns;       // --from/--to: [from, to)
  std::filesystem::path out;                   // a directory, or a file ending in .tar.zst
  std::optional<NamedSigningKey> signing_key;  // signs the manifest: the current key
  // Writes the JSON view of one event (one line, no newline); the CLI's `ritma events` format.
  std::function<std::string(const capture::Event&, uint64_t log_index, uint64_t leaf_index)>
      event_json;
  std::function<void(const std::string&)> progress;  // one line per step
};

struct NearbyWindow {
  uint64_t log_index = 0;
  std::string window;  // stem path
  int64_t slot_start_ns = 0;
  uint64_t window_ns = 0;
  uint64_t event_count = 0;
  int64_t min_wall_ns = 0, max_wall_ns = 0;
};

struct ExportOutcome {
  enum class Failure { kNone, kNoWindow, kUnreadable, kInvalid, kUsage };
  Failure failure = Failure::kNone;
  std::string message;
  std::vector<NearbyWindow> nearest;  // kNoWindow: the sealed windows nearest the instant/range

  std::filesystem::path written;
  uint64_t windows = 0;          // windows with blocks
  uint64_t context_windows = 0;  // micro records only (complete hours)
  uint64_t events = 0;           // events in the windows with blocks
  uint64_t events_in_range = 0;  // of those, wall_ns in [from, to)
  uint64_t hours = 0;            // hour roots included
  uint64_t files = 0, bytes = 0;
  int64_t from_ns = 0, to_ns = 0;
};

ExportOutcome export_pack(const std::filesystem::path& out_dir, const ExportOptions& options);

// ---- verifying

struct PackReport {
  VerifyReport store;  // the evidence, checked as §10.14 over the pack's windows (file names
                       // in its problems are relative to the pack's top)
  std::string source;
  bool archive = false;
  int64_t created_ns = 0;
  int64_t from_ns = 0, to_ns = 0;  // the range the pack was made for
  uint64_t manifest_files = 0;
  uint64_t events_in_range = 0;  // verified events whose wall_ns lies in [from, to)
  uint64_t first_log_index = 0, last_log_index = 0;  // windows with blocks
  uint64_t newest_size = 0;                          // the newest checkpoint's tree size
  std::string newest_root;                           // hex
  bool ok() const { return store.ok(); }
};

// Everything §12.3 lists. An error only for a pin that is no key in any accepted form.
Result<PackReport> verify_pack(const PackFiles& pack, const std::string& pinned_key = "");

// ---- reading a pack (for the viewer): parsed, not verified

struct OpenedPackWindow {
  uint64_t log_index = 0;
  MicroRecord micro;
  Bytes micro_bytes;  // the record exactly (its window-log leaf data)
  bool has_blocks = false;
  merkle::Proof log_path;  // to the newest checkpoint
};

struct OpenedPack {
  Manifest manifest;
  PackProof proof;
  StoreRecord store;
  std::vector<OpenedPackWindow> windows;
  std::string newest_checkpoint;  // the note text
  uint64_t newest_size = 0;
  Hash32 newest_root{};
};

Result<OpenedPack> open_pack(const PackFiles& pack);
// The atoms (ritma-ev@1 bytes, the window's Merkle leaves) of a window with blocks, in order.
Result<std::vector<Bytes>> pack_window_atoms(const PackFiles& pack, const OpenedPackWindow& w);
// The inclusion proof (§11) of the leaf_index-th event of a window with blocks, against the
// pack's newest checkpoint, built from the pack's files (and, like any proof, to be verified
// with verify_event_proof before it is believed).
Result<EventProof> pack_event_proof(const PackFiles& pack, const OpenedPack& opened,
                                    const OpenedPackWindow& w, uint64_t leaf_index);

namespace detail {
// Implemented by the store verifier (store_verifier.cc): the pack's store evidence, checked as
// §10.14 over the pack's windows, its checkpoints and paths (§12.3 steps 3-8). Problems go
// into `report`.
void verify_pack_evidence(const PackFiles& pack, const Manifest& manifest, ByteSpan manifest_bytes,
                          const PackProof& proof, const std::optional<std::string>& pinned_fp,
                          VerifyReport& report);
}  // namespace detail

}  // namespace ritma::seal
