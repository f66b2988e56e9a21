// The verifier of the sealed store RITMA_OUT/ (docs/FORMAT.md §10.14): recomputes every hash
// and checks every signature from the evidence itself (blocks, micro records, the window log,
// checkpoints, hour roots and chain links, keys), compares the derived files, and reports every
// mismatch with the file, the window and, for an event, its seq.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace ritma::seal {

struct VerifyProgress {
  uint64_t log_records = 0;  // records of the window log read so far
  uint64_t windows = 0;      // windows whose blocks were verified so far
  uint64_t events = 0;
};

struct VerifyOptions {
  // Empty: not pinned (the store's first key is trusted as found). Otherwise a key fingerprint
  // (64 hex digits, §4.2), a C2SP verifier key string (name+keyid+base64), or the path of a
  // public key file; it must be one of the store's keys, and it vouches for itself and the keys
  // it handed over to (§10.9).
  std::string pinned_key;
  // Only windows whose [min_wall_ns, max_wall_ns] or slot overlaps [from_ns, to_ns) have their
  // blocks, micro files and checkpoint signatures checked (the log tree is still recomputed in
  // full, from the records).
  std::optional<int64_t> from_ns;
  std::optional<int64_t> to_ns;
  bool check_derived = true;  // compare the time index, catalog and accounting (§10.10-10.11)
  // Called about every progress_interval while blocks are verified.
  std::function<void(const VerifyProgress&)> progress;
  std::chrono::milliseconds progress_interval{1000};
  size_t max_problems = 1000;  // kept in the report; the rest are only counted
};

struct VerifyProblem {
  std::string file;    // relative to RITMA_OUT ("" when none applies)
  std::string window;  // stem path windows/YYYY/MM/DD/HH/micro/<stem>, or ""
  std::optional<uint64_t> log_index;
  std::optional<uint64_t> seq;  // for a problem with one event
  std::string message;

  // "<file>: window <stem> (log index N): seq S: <message>"
  std::string to_string() const;
};

struct VerifyKey {
  std::string name;
  std::string fingerprint;
  int64_t valid_from_ns = 0;
  std::optional<int64_t> valid_until_ns;
  bool trusted = false;  // pinned, or vouched for (by hand-overs) from the pinned/first key
  bool pinned = false;
  uint64_t signatures = 0;  // detached signatures and checkpoints it verified
};

// Something a crash (or a sensor that is recording now) left outside the sealed evidence:
// named, never counted as sealed, and not a failure (§10.6).
struct UnsealedItem {
  // "record": the last window-log record has no checkpoint yet; "torn": a partial frame after
  // a log's last complete frame; "checkpoint": log/checkpoint one behind; "file": a window's
  // file after the last record; "moved": a file under unsealed/; "events": events recorded
  // (in the hot index) but never sealed.
  std::string kind;
  std::string file;                             // relative to RITMA_OUT, when one file is meant
  std::string window;                           // stem path, when known
  std::optional<uint64_t> run_id;               // for "events": the run that recorded them
  std::optional<uint64_t> first_seq, last_seq;  // for "events"
  std::string message;
};

// Consecutive windows (by log index) one retention record (§14) pruned, as far as the
// verified range goes.
struct PrunedRange {
  std::string record;  // retention/NNNNNN.cbor
  int64_t time_ns = 0;
  std::string policy;
  uint64_t windows = 0;
  uint64_t events = 0;
  uint64_t first_log_index = 0, last_log_index = 0;
  std::optional<int64_t> from_ns, to_ns;  // the windows' slots and events, [from, to)
  uint64_t deleted_bytes = 0;
};

struct VerifyReport {
  std::filesystem::path out_dir;
  std::string node_id;
  std::string store_id;  // hex
  uint64_t window_ns = 0;

  std::vector<VerifyKey> keys;
  std::string signer_name;  // the store's current key (last of keys.cbor)
  std::string signer_fingerprint;
  bool pinned = false;             // --key given and matched one of the store's keys
  std::string pinned_fingerprint;  // as given (fingerprint form)

  bool range_limited = false;
  std::optional<int64_t> from_ns, to_ns;

  uint64_t log_records = 0;  // window-log records (all of them)
  uint64_t windows = 0;      // windows verified (in range)
  uint64_t empty_windows = 0;
  uint64_t blocks = 0;
  uint64_t zstd_bytes = 0;
  uint64_t raw_bytes = 0;
  uint64_t events = 0;
  uint64_t loss_events = 0;       // type 100 atoms
  uint64_t lost_records = 0;      // sum of their counts (micro loss_count)
  uint64_t filtered_records = 0;  // sum of type 101 counts
  uint64_t events_in_range = 0;   // verified events whose wall_ns lies in [from_ns, to_ns)
  std::optional<uint64_t> first_seq, last_seq;
  std::optional<int64_t> min_wall_ns, max_wall_ns;
  uint64_t checkpoints = 0;             // frames of checkpoints.log verified
  bool checkpoints_consistent = false;  // all match one recomputed tree (so pairwise consistent)
  uint64_t hours_closed = 0;            // hours whose hour root and chain link verified
  bool unsealed_tail = false;           // last record without its checkpoint (crash remains)
  std::vector<UnsealedItem> unsealed;
  // Windows whose files retention deleted, each listed by a signed retention record: their
  // micro records still verify in the window log, their events are not counted above.
  uint64_t pruned_windows = 0;
  uint64_t pruned_events = 0;
  std::vector<PrunedRange> pruned;

  // The newest window-log record (whole log, whatever the range): for comparing with the hot
  // index, which may hold events not sealed yet.
  std::optional<uint64_t> last_run_id;
  std::string last_boot_id;                // hex
  std::optional<uint64_t> sealed_end_seq;  // one past the newest record's last seq

  double elapsed_seconds = 0;
  double events_per_second = 0;

  std::vector<VerifyProblem> problems;
  uint64_t problems_omitted = 0;  // beyond options.max_problems
  std::vector<std::string> notes;

  bool ok() const { return problems.empty() && problems_omitted == 0; }
};

// Verifies the store at out_dir (RITMA_OUT). Fails (an error, not a report) only when there is
// no store to verify (no directory, no _meta/store.cbor, unreadable) or pinned_key is not a key
// in any accepted form; everything wrong inside a store is a problem in the report.
Result<VerifyReport> verify_store(const std::filesystem::path& out_dir,
                                  const VerifyOptions& options = {});

}  // namespace ritma::seal
