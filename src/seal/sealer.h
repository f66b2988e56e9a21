// The sealer: turns the sensor's event stream into the sealed store (docs/FORMAT.md §10).
// Events are added in sequence order; every window_ns the open window is sealed: blocks
// (zstd CBOR sequences of atoms), the micro record and its signature, one frame of the window
// log, and a signed checkpoint. When a window of a later hour is sealed, the previous hour's
// root and chain link are written first. Runs inside the sensor: no second daemon.
//
// Commit order per window (a crash between any two steps loses at most that window, and the
// next open() says what it found): blocks -> micro record + signature -> window-log frame ->
// checkpoint frame -> log/checkpoint -> derived files.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/key_file.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

class DerivedWriter;

struct SealerOptions {
  std::filesystem::path out_dir;  // RITMA_OUT
  std::string node_id;
  uint64_t window_ns = kDefaultWindowNs;  // used when the store is created; then the store's
  std::string privacy = "raw";            // "raw" | "hash-only" (recorded per window)
  RunIdentity run;
  int zstd_level = 3;
  bool derived_files = true;  // time index, catalog, accounting
  // Wall clock in Unix ns; tests replace it to cross windows and hours without waiting.
  std::function<int64_t()> clock;
};

// What open() found and did about the previous run's leftovers.
struct RecoveryReport {
  uint64_t log_records = 0;                    // window-log records already present
  uint64_t torn_log_bytes = 0;                 // bytes cut off a torn window-log tail
  uint64_t torn_checkpoint_bytes = 0;          // bytes cut off a torn checkpoint-log tail
  uint64_t checkpoints_completed = 0;          // checkpoints signed for records that had none
  uint64_t hours_closed = 0;                   // hour roots/chain links written for ended hours
  std::vector<std::string> moved_to_unsealed;  // leftover files moved under unsealed/
  std::optional<uint64_t> last_sealed_seq;     // last seq covered by a checkpoint, if any
  std::optional<RunIdentity> last_run;         // run of the last sealed window
  bool created = false;                        // the store was created by this open
  std::vector<std::string> notes() const;      // human-readable lines
};

struct SealStats {
  uint64_t windows = 0;
  uint64_t events = 0;
  uint64_t sealed_bytes = 0;  // bytes written to block/micro/sig files and log frames
  int64_t last_lag_ns = 0;    // slot end -> checkpoint written, for the last window
  int64_t max_lag_ns = 0;
  uint64_t derived_errors = 0;     // windows whose derived files (index, catalog) failed
  std::string last_derived_error;  // the last such failure
};

class Sealer {
 public:
  // Opens (creating when needed) the store at opts.out_dir, with `key` as the signing key (it
  // must be the current key of _meta/keys/keys.cbor; a new store records it there). Recovers
  // what a crash left: torn log tails, missing checkpoints, unclosed ended hours, and leftover
  // window files no record names (moved to unsealed/, never deleted).
  static Result<std::unique_ptr<Sealer>> open(SealerOptions opts, NamedSigningKey key);
  ~Sealer();

  const RecoveryReport& recovery() const { return recovery_; }
  const StoreRecord& store() const { return store_; }

  // Sets the seq this run's first event will carry, right after open(): an empty window sealed
  // before that event records it as its first_seq (otherwise the end of what the store sealed
  // before, which a run that starts later in the boot's sequence does not continue), and every
  // event must then continue the run's sequence from it. Refuses a seq before the end of what
  // the same boot already sealed.
  Status start_run_at(uint64_t first_seq);
  // Appends events (seq-assigned, in seq order, strings already privacy-transformed) to the
  // open window. Seals the open window first if its slot has ended.
  Status add(std::span<const capture::Event> events);
  // Seals the open window if its slot has ended (call at least every few hundred ms).
  Status tick();
  // Seals the open window now, whatever the clock (at stop).
  Status flush_window();

  const SealStats& stats() const { return stats_; }
  uint64_t log_size() const { return log_size_; }
  // Newest checkpoint text (empty before the first window).
  const std::string& last_checkpoint() const { return last_checkpoint_; }

 private:
  struct Impl;
  explicit Sealer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  StoreRecord store_;
  RecoveryReport recovery_;
  SealStats stats_;
  uint64_t log_size_ = 0;
  std::string last_checkpoint_;
};

// Hash-only privacy (§10.13): replaces every non-empty string field of `e` by
// "k:" + hex(B3_keyed(secret, "ritma-priv@1" || 0x00 || s)[0:16]).
void apply_hash_only(const Hash32& secret, capture::Event& e);
// Loads _meta/keys/privacy.secret, creating it (0600) when absent.
Result<Hash32> load_or_create_privacy_secret(const std::filesystem::path& out_dir);

}  // namespace ritma::seal
