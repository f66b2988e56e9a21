// The hot index: a SQLite database of thin event rows for fast questions ("what did pid 1234
// open between 03:12 and 03:13?"). It is a convenience, not evidence: the sealed windows in
// RITMA_OUT/ are the record, and the hot index may be rotated away.
//
// One writer (the sensor, which holds the store's single-writer lock) appends events in
// batches; any number of readers (the `ritma` CLI, unprivileged) query it at the same time.
// The database is in WAL mode with synchronous=NORMAL: a power loss may lose the last
// committed batches, never corrupt the file. The schema is versioned with PRAGMA user_version
// and tagged with PRAGMA application_id; a file from a newer build is refused, not guessed at.
//
// Permissions for unprivileged readers. A WAL reader needs read access to the database file
// and to its -wal and -shm files, and search (x) access to the directory; it cannot create
// the -wal/-shm files itself in a root-owned directory. Therefore the writer
//   - creates the database file with `file_mode` (default 0640: readers in the file's group;
//     0644 for everyone), which SQLite copies to the -wal and -shm files it creates, and
//   - keeps the -wal and -shm files after the last connection closes (persistent WAL), so a
//     reader can open the index while the sensor is stopped.
// The sensor must put the database in a directory readers can search (e.g. 0755 or 0750 with
// the readers' group) and give the file the readers' group when file_mode is 0640.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/event.h"
#include "core/result.h"

namespace ritma::store {

// The schema version this build writes and reads (PRAGMA user_version).
inline constexpr int kHotIndexSchemaVersion = 1;
// PRAGMA application_id of a Ritma hot index: "RItx".
inline constexpr int32_t kHotIndexApplicationId = 0x52497478;

// Filters for HotIndex::query. Unset filters match everything; set ones are ANDed.
struct EventQuery {
  std::optional<int64_t> from_wall_ns;  // inclusive
  std::optional<int64_t> to_wall_ns;    // exclusive
  std::vector<std::string> names;       // event_name()s ("exec", "open", ...); any of them
  std::optional<uint32_t> pid;
  std::string actor_hex_prefix;      // 1..32 hex digits of the actor id
  std::string container_prefix;      // a container id or a prefix of one (as `docker ps` prints)
  std::string path_prefix;           // byte prefix of `path`; no wildcards
  std::optional<uint64_t> start_ns;  // process start time (with pid: one process of a boot)
  size_t limit = 1000;               // 0 means no limit
  bool newest_first = false;         // default: ascending by wall time, then seq
};

struct HotIndexStats {
  int64_t rows = 0;
  std::optional<int64_t> min_wall_ns;  // unset when there are no rows
  std::optional<int64_t> max_wall_ns;
  std::optional<uint64_t> last_seq;    // seq of the most recently appended row
  std::optional<int64_t> last_run_id;  // run of that row
  int64_t db_bytes = 0;                // page_count * page_size (includes committed WAL frames)
  int64_t wal_bytes = 0;               // size of the -wal file on disk
};

// A sensor run: from start to stop of one ritma-sensor process.
struct RunStart {
  std::string boot_id;  // hex (dashes of /proc/sys/kernel/random/boot_id removed)
  std::string node_id;
  int64_t started_wall_ns = 0;
  std::string sensor_version;
  std::string config_digest;  // hex; may be empty when the sensor has no config
};

struct RunRecord {
  int64_t run_id = 0;
  std::string boot_id;
  std::string node_id;
  int64_t started_wall_ns = 0;
  std::string sensor_version;
  std::string config_digest;
  std::optional<int64_t> ended_wall_ns;  // unset while running, or if the run never ended cleanly
  std::string end_reason;
};

class HotIndex {
 public:
  struct WriterOptions {
    mode_t file_mode = 0640;  // for a newly created database (not subject to umask)
    int busy_timeout_ms = 5000;
    int64_t journal_size_limit = 64LL << 20;  // bytes the -wal file is truncated to
    int wal_autocheckpoint_pages = 8192;      // checkpoint when the WAL reaches 32 MiB
    int cache_kib = 32 * 1024;
  };

  // Opens or creates the index at `path` for writing and creates or checks the schema. There
  // must be one writer per file (the sensor's single-writer lock guarantees it). Fails with a
  // clear message on a file that is not a hot index, is corrupt, or has a newer schema.
  static Result<HotIndex> open_writer(const std::filesystem::path& path);
  static Result<HotIndex> open_writer(const std::filesystem::path& path,
                                      const WriterOptions& options);
  // Opens an existing index read-only (SQLITE_OPEN_READONLY); never creates or changes it.
  static Result<HotIndex> open_reader(const std::filesystem::path& path);

  HotIndex(HotIndex&&) noexcept;
  HotIndex& operator=(HotIndex&&) noexcept;
  HotIndex(const HotIndex&) = delete;
  HotIndex& operator=(const HotIndex&) = delete;
  ~HotIndex();

  // Records a sensor run and makes it the run that append() attributes rows to.
  Result<int64_t> begin_run(const RunStart& run);
  // Marks a run ended (reason e.g. "stopped", "unclean").
  Status end_run(int64_t run_id, int64_t ended_wall_ns, std::string_view reason);
  // The run with the highest id, if any.
  Result<std::optional<RunRecord>> last_run();
  // Per run that has events: (run_id, smallest seq, largest seq, event count), by run id.
  struct RunSeqRange {
    int64_t run_id = 0;
    uint64_t min_seq = 0;
    uint64_t max_seq = 0;
    uint64_t events = 0;
    bool ended = false;  // the run record says it stopped (cleanly)
  };
  Result<std::vector<RunSeqRange>> run_seq_ranges();

  // Appends `events` to the current run (begin_run first) in one transaction: all or none.
  // Fails if a (run, seq) pair is already present.
  Status append(std::span<const capture::Event> events);

  // Events matching `q`, ordered by wall time then seq (or the reverse), at most q.limit.
  // Fields the index does not keep come back zero/empty; a NetAddress comes back parsed from
  // its text form, and argv strings that were not valid UTF-8 have U+FFFD replacements.
  Result<std::vector<capture::Event>> query(const EventQuery& q);

  // Distinct actor ids that start with `hex_prefix` (1..32 hex digits), most recently first
  // seen first, at most `limit`. For resolving a short actor id a person typed.
  Result<std::vector<capture::ActorId>> find_actors(std::string_view hex_prefix, size_t limit);

  // Figures of one snapshot. Counting rows reads the smallest index, so it takes time in
  // proportion to the number of rows (measured: ~20 million rows/s from a warm page cache).
  Result<HotIndexStats> stats();

  const std::filesystem::path& path() const { return path_; }
  bool writable() const { return writable_; }

 private:
  struct Impl;
  explicit HotIndex(std::unique_ptr<Impl> impl, std::filesystem::path path, bool writable);

  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  bool writable_ = false;
};

// The smallest string greater than every string that starts with `prefix` (bytewise), or
// nullopt when there is none (empty prefix or all 0xff). Used for prefix ranges on indexes.
std::optional<std::string> prefix_successor(std::string_view prefix);

}  // namespace ritma::store
