// Reading events back from the sealed store (docs/FORMAT.md §10) for a time range, for when
// the hot index no longer holds it (rotated or pruned). Candidate windows come from the
// 10-second (ranges up to an hour) or 60-second time index (§10.10); when an hour has no index
// file, from the window log's records (their min/max event times). Every block read is checked
// against its micro record's BLAKE3 before it is decoded; a mismatch is an error, never silently
// skipped.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "capture/event.h"
#include "core/result.h"

namespace ritma::seal {

struct SealedRange {
  std::vector<capture::Event> events;  // wall_ns in [from, to), in seq order per window
  uint64_t windows_read = 0;
  bool used_time_index = false;  // false: every hour in range fell back to the log's records
};

// The wall time of the oldest sealed event, when the store has one (reads the window log up
// to the first record with events). No store: nullopt.
std::optional<int64_t> sealed_earliest_wall_ns(const std::filesystem::path& out_dir);

Result<SealedRange> read_sealed_events(const std::filesystem::path& out_dir,
                                       std::optional<int64_t> from_ns,
                                       std::optional<int64_t> to_ns);

}  // namespace ritma::seal
