// Retention of sealed windows (docs/FORMAT.md §14): expiring old windows without breaking what
// the store proves. A pruned window's blocks (its events) are deleted; its micro record (in
// log/windows.log and its micro file) and signature stay, so the window log's Merkle tree, every
// checkpoint, every hour root and chain link still verify, and its hour can still be exported.
// Before anything is deleted a signed retention record `retention/<NNNNNN>.cbor` (+ `.sig`) lists
// what goes and the checkpoint that stays, and links to the previous record by BLAKE3; `ritma
// verify --store` accepts exactly the windows those records list as absent and reports the ranges
// as pruned by retention.
//
// Never pruned: a window not covered by the newest signed checkpoint (not sealed yet), the newest
// window of the log (the sealer re-reads it when it restarts), and any window a case froze
// (listed in a freeze, or overlapping a frozen range; src/seal/cases.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/key_file.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

// One pruned window, as the retention record lists it (copied from its micro record).
struct PrunedWindow {
  uint64_t log_index = 0;
  std::string stem_path;  // windows/YYYY/MM/DD/HH/micro/<stem>
  uint64_t first_seq = 0;
  uint64_t event_count = 0;
  Hash32 micro_root{};
  int64_t slot_start_ns = 0;
  int64_t min_wall_ns = 0;
  int64_t max_wall_ns = 0;
  uint64_t deleted_bytes = 0;  // bytes of its files when they were deleted
  bool operator==(const PrunedWindow&) const = default;
};

// retention/<NNNNNN>.cbor, §14.1.
struct RetentionRecord {
  uint64_t index = 0;  // NNNNNN: 0, 1, 2, ... with no gap
  StoreId store_id{};
  std::string node_id;
  int64_t time_ns = 0;       // when the windows were pruned
  Hash32 prev{};             // BLAKE3 of the previous record file's bytes; zeros for index 0
  std::string policy;        // what decided it, e.g. "max-age 30d"
  CheckpointRef checkpoint;  // the newest checkpoint when pruned: the roots that stay
  std::vector<PrunedWindow> windows;  // ascending log_index
};

Bytes encode(const RetentionRecord& r);
Result<RetentionRecord> decode_retention(ByteSpan b);
inline constexpr const char* kRetentionDir = "retention";
std::string retention_path(uint64_t index);      // retention/NNNNNN.cbor
std::string retention_sig_path(uint64_t index);  // retention/NNNNNN.sig

// A file the plan deletes, relative to RITMA_OUT.
struct PlannedFile {
  std::string rel;
  uint64_t bytes = 0;
};

struct PlannedPrune {
  PrunedWindow window;
  std::vector<PlannedFile> files;  // the ones present now (a crash may have left fewer)
};

struct KeptWindow {
  uint64_t log_index = 0;
  std::string stem_path;
  std::string why;  // "frozen by CASE_..", "newest window", ...
};

struct RetentionOptions {
  std::optional<int64_t> max_age_ns;  // unset: no window expires
  int64_t now_ns = 0;
  std::string policy;  // recorded in the record, e.g. "max-age 30d"
};

struct RetentionPlan {
  CheckpointRef checkpoint;         // the newest signed checkpoint
  uint64_t log_records = 0;         // records in the window log
  uint64_t already_pruned = 0;      // windows earlier records pruned
  std::vector<PlannedPrune> prune;  // ascending log index
  std::vector<KeptWindow> kept;     // expired by age but kept, with the reason
  // Files of windows an earlier record pruned that are still there (a run interrupted between
  // its record and its deletions): deleted without a new record.
  std::vector<PlannedFile> leftovers;
  uint64_t bytes() const;
};

// What a run would prune. Reads the keys, the newest checkpoint (its signature checked), the
// window log (its tree recomputed and compared with that checkpoint), the earlier retention
// records and every case's freezes; any of those it cannot read or check is an error, and
// nothing is pruned (a retention that guesses could delete evidence).
Result<RetentionPlan> plan_retention(const std::filesystem::path& out_dir,
                                     const RetentionOptions& options);

// Prunes what the plan lists: writes and signs the retention record, then deletes the files.
// Holds retention/.lock throughout. Returns the record written (nothing when the plan is empty).
Result<std::optional<RetentionRecord>> apply_retention(const std::filesystem::path& out_dir,
                                                       const RetentionPlan& plan,
                                                       const RetentionOptions& options,
                                                       const NamedSigningKey& key);

// Every retention record of the store, in order, without checking signatures (the verifier
// does). Stops with an error at a gap or a record that does not decode.
Result<std::vector<RetentionRecord>> read_retention_records(const std::filesystem::path& out_dir);

}  // namespace ritma::seal
