// Retention of the hot index: rotation of its sealed events into rotated files, and deletion
// of the oldest rotated files. The hot index is a query convenience and RITMA_OUT is the
// evidence, so only events the sealed store already holds ever leave the live index, and a
// rotated file is deleted only when every event in it is sealed.
//
// It runs beside a recording sensor (a daily timer), which holds the live index open in WAL
// mode and commits a batch about every second. The live file is therefore never renamed or
// replaced; a rotation
//   1. copies the events to move (with the runs, and the contexts and paths they reference)
//      into a new SQLite file with the live index's schema, `<index_db>.rotated/.NAME.tmp`,
//      commits it with synchronous=FULL, renames it to NAME and fsyncs the directory, then
//   2. deletes those events from the live index in short transactions (a few thousand rows
//      each), so the sensor's writer, which waits up to 5 s for a lock, is never held up long.
// A crash between 1 and 2 leaves the events in both files (a duplicate, never a loss); a crash
// in 1 leaves a temporary file, removed by the next rotation.
//
// What moves: sealed events, i.e. those whose seq lies in a readable window record of
// RITMA_OUT's window log for their run (matched by run id and boot id, so the runs of a hot
// index created anew, whose ids start again at 1, are not taken for the old ones):
//   - by day: those of completed UTC days, one rotated file per day;
//   - by size: when the live index's used pages exceed max_size_bytes, all of them (of today
//     only, with rotation by day).
// Always kept in the live index: the runs table, the contexts and paths rows (the running
// sensor caches their ids and keeps referring to them), and the newest event row (the sensor
// continues its per-boot sequence from it on restart).
//
// Size is measured as used pages, (page_count - freelist_count) * page_size: SQLite does not
// shrink the file when rows are deleted, it reuses the freed pages for new rows. Nothing here
// runs VACUUM: it rewrites the whole file under the write lock and would stall the sensor.
//
// Rotated files are named `index-<first event>--<last event>[-N].sqlite` (UTC, to the second,
// e.g. index-20261129T000003Z--20261129T235958Z.sqlite) and are ordered by those times; each
// is a complete hot index that HotIndex::open_reader (`ritma events --db FILE`) can read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store_layout.h"

namespace ritma::seal {

struct IndexRetentionOptions {
  std::optional<uint64_t> max_size_bytes;  // rotate when the used pages exceed this
  bool rotate_daily = true;                // rotate the sealed events of completed UTC days
  std::optional<uint32_t> keep;            // rotated files to keep (oldest deleted); unset: all
  bool apply = false;                      // false: a dry run, which only lists the actions
  int64_t now_ns = 0;  // wall clock, Unix ns: which UTC days are complete (needed when daily)
  int busy_timeout_ms = 10'000;  // wait for the sensor's write transactions
};

struct IndexRetentionAction {
  std::string kind;            // "rotate" (events into a new rotated file) or "delete" (a file)
  std::filesystem::path path;  // the rotated file written or deleted
  uint64_t bytes = 0;          // rotate: estimated bytes of the live index's pages the events
                               // use (the same in a dry run); delete: the file's size
  uint64_t events = 0;         // events moved, or held by the deleted file
  std::string reason;
  bool done = false;  // false in a dry run
};

// A file in the rotated directory named like a rotated index.
struct RotatedIndex {
  std::filesystem::path path;
  int64_t first_s = 0;  // Unix seconds of the name's first and last event
  int64_t last_s = 0;
  uint32_t n = 0;  // the -N suffix (0: none), for two rotations with the same times
};

// The live index's size. After a rotation the file keeps its size: the freed pages are on the
// free list, and the sensor's next rows go there before the file grows again.
struct LiveIndexSize {
  uint64_t file_bytes = 0;  // page_count * page_size (committed pages, including the WAL's)
  uint64_t used_bytes = 0;  // (page_count - freelist_count) * page_size: what max_size_bytes
                            // is compared with
  uint64_t wal_bytes = 0;   // the -wal file on disk (reset at checkpoints; capped by the sensor)
};
Result<LiveIndexSize> measure_live_index(const std::filesystem::path& index_db);

// `<index_db>.rotated`: where the rotated files of `index_db` live.
std::filesystem::path rotated_index_dir(const std::filesystem::path& index_db);

// The rotated files of `index_db`, oldest first (by first event, last event, N). Files not
// named like one (and temporary files of a rotation in progress) are not listed.
Result<std::vector<RotatedIndex>> list_rotated_indexes(const std::filesystem::path& index_db);

// Plans the rotation of paths.index_db (sealed extents read from paths.out_dir) and the
// deletion of rotated files beyond opts.keep, and with opts.apply carries it out (holding
// the lock file paths.lock_dir/ritma-index-rotation.lock against a second rotation). Returns
// the actions in the order they are (or would be) done: rotations, then deletions. Fails,
// before changing anything, on a live index or rotated file that is not a readable hot index,
// and on a rotated file to delete that holds an event RITMA_OUT has not sealed.
Result<std::vector<IndexRetentionAction>> run_index_retention(const store::StorePaths& paths,
                                                              const IndexRetentionOptions& opts);

}  // namespace ritma::seal
