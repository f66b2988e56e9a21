// Hot index rotation: planning from one snapshot of the live index, copying into rotated files,
// deleting in short transactions beside the sensor's writer.
#include "seal/index_rotation.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#include "core/bytes.h"
#include "core/durable_file.h"
#include "core/frame_log.h"
#include "core/single_writer_lock.h"
#include "core/unique_fd.h"
#include "seal/seal_format.h"
#include "store/hot_index.h"
#include "store/sqlite_handles.h"

namespace ritma::seal {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDayNs = 86'400'000'000'000;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
// Event ids per delete transaction. Deleting a row touches the table and its five indexes;
// this many take tens of milliseconds, well inside the sensor's 5 s busy timeout.
constexpr int64_t kDeleteChunkIds = 5000;

constexpr const char* kRotatedPrefix = "index-";
constexpr const char* kRotatedSuffix = ".sqlite";

using store::DbPtr;
using store::StmtPtr;

// A SQLite connection with errors that name its file.
class Db {
 public:
  static Result<Db> open(const fs::path& path, int flags, int busy_timeout_ms) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Db db(path, DbPtr(raw));
    if (rc != SQLITE_OK) return db.error(rc, "opening");
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    return db;
  }

  sqlite3* get() const { return db_.get(); }
  const fs::path& path() const { return path_; }

  Error error(int rc, std::string_view what) const {
    const char* m = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    return make_error(path_.string() + ": " + std::string(what) + ": " +
                      (m != nullptr ? m : sqlite3_errstr(rc)));
  }

  Result<StmtPtr> prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &s, nullptr);
    if (rc != SQLITE_OK) return error(rc, "preparing \"" + sql + "\"");
    return StmtPtr(s);
  }

  Status exec(const std::string& sql, std::string_view what) {
    const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(rc, what);
    return {};
  }

  // A one-row, one-integer query (NULL reads as 0).
  Result<int64_t> query_int(const std::string& sql) {
    RITMA_ASSIGN_OR_RETURN(StmtPtr s, prepare(sql));
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return int64_t{0};
    if (rc != SQLITE_ROW) return error(rc, "reading \"" + sql + "\"");
    return static_cast<int64_t>(sqlite3_column_int64(s.get(), 0));
  }

  // Rolls back an open transaction, if any (after a failure).
  void rollback() {
    if (db_ && !sqlite3_get_autocommit(db_.get())) (void)exec("ROLLBACK", "rolling back");
  }

 private:
  Db(fs::path path, DbPtr db) : path_(std::move(path)), db_(std::move(db)) {}
  fs::path path_;
  DbPtr db_;
};

// The runs table of a hot index: run id -> boot id (hex).
Result<std::map<int64_t, std::string>> runs_of(Db& db, const std::string& schema) {
  RITMA_ASSIGN_OR_RETURN(StmtPtr st, db.prepare("SELECT run_id, boot_id FROM " + schema + ".runs"));
  std::map<int64_t, std::string> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    const auto* boot = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1));
    out[sqlite3_column_int64(st.get(), 0)] = boot != nullptr ? boot : "";
  }
  if (rc != SQLITE_DONE) return db.error(rc, "reading the runs");
  return out;
}

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::string utc_compact(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  std::tm tm{};
  char buf[32];
  if (gmtime_r(&t, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm) == 0)
    return "00000000T000000Z";
  return buf;
}

std::string utc_day(int64_t day) {
  const time_t t = static_cast<time_t>(day * 86'400);
  std::tm tm{};
  char buf[16];
  if (gmtime_r(&t, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm) == 0)
    return "day " + std::to_string(day);
  return buf;
}

// Unix seconds of "YYYYMMDDTHHMMSSZ", or nullopt when the text is not exactly such a time.
std::optional<int64_t> parse_utc_compact(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  const int64_t t = static_cast<int64_t>(timegm(&tm));
  // timegm normalizes (month 13, second 61); a real time formats back to the same text.
  if (utc_compact(t) != s) return std::nullopt;
  return t;
}

std::string rotated_name(const RotatedIndex& r) {
  std::string name =
      std::string(kRotatedPrefix) + utc_compact(r.first_s) + "--" + utc_compact(r.last_s);
  if (r.n != 0) name += "-" + std::to_string(r.n);
  return name + kRotatedSuffix;
}

std::optional<RotatedIndex> parse_rotated_name(const fs::path& file) {
  const std::string name = file.filename().string();
  const std::string_view prefix = kRotatedPrefix, suffix = kRotatedSuffix;
  if (name.size() < prefix.size() + 34 + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  const std::string_view core =
      std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (core.substr(16, 2) != "--") return std::nullopt;
  RotatedIndex r;
  r.path = file;
  const auto first = parse_utc_compact(core.substr(0, 16));
  const auto last = parse_utc_compact(core.substr(18, 16));
  if (!first || !last) return std::nullopt;
  r.first_s = *first;
  r.last_s = *last;
  const std::string_view rest = core.substr(34);
  if (!rest.empty()) {
    if (rest.size() < 2 || rest.size() > 6 || rest[0] != '-' || rest[1] == '0') return std::nullopt;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      r.n = r.n * 10 + static_cast<uint32_t>(c - '0');
    }
  }
  return r;
}

bool older(const RotatedIndex& a, const RotatedIndex& b) {
  return std::tie(a.first_s, a.last_s, a.n) < std::tie(b.first_s, b.last_s, b.n);
}

// The seq ranges [lo, hi) RITMA_OUT has sealed, per (run id, boot id in hex). A run id alone
// is not enough: a hot index moved aside (damaged) and created anew numbers its runs from 1
// again, and its run 1 must not pass for the sealed run 1 of the old index. The boot id tells
// them apart unless both were recorded in the same boot.
using SealedRuns =
    std::map<std::pair<int64_t, std::string>, std::vector<std::pair<uint64_t, uint64_t>>>;

// Like sealed_extent_by_run (seal/unsealed_tail.h), but with the boot id of each run, and as
// the ranges the readable window records cover: the seqs of a window whose record is damaged
// (or missing) do not count as sealed, even below the run's last sealed seq. Without a window
// log nothing is sealed.
Result<SealedRuns> read_sealed_runs(const fs::path& out_dir) {
  SealedRuns out;
  const fs::path log = out_dir / kWindowLogFile;
  std::error_code ec;
  if (!fs::exists(log, ec)) {
    if (ec) return make_error("cannot access " + log.string() + ": " + ec.message());
    return out;
  }
  RITMA_ASSIGN_OR_RETURN(Bytes data, read_file(log, size_t{1} << 34));
  for (ByteSpan f : scan_frames(data).frames) {
    auto r = decode_micro(f);
    if (!r.ok() || r->event_count == 0) continue;  // the verifier reports a damaged record
    out[{static_cast<int64_t>(r->run.run_id), to_hex(r->run.boot_id)}].emplace_back(r->first_seq,
                                                                                    r->end_seq());
  }
  for (auto& [run, ranges] : out) {
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (const auto& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    ranges = std::move(merged);
  }
  return out;
}

// Puts the sealed ranges of the runs of `db` (matched by run id and boot id) into the
// connection's temp.sealed, which kMovable and kUnsealed look up.
Status load_sealed(Db& db, const SealedRuns& sealed) {
  RITMA_ASSIGN_OR_RETURN(const auto runs, runs_of(db, "main"));
  RITMA_TRY(db.exec(
      "PRAGMA temp_store=MEMORY; CREATE TEMP TABLE sealed(run_id INTEGER NOT NULL, lo INTEGER"
      " NOT NULL, hi INTEGER NOT NULL); CREATE INDEX temp.sealed_run ON sealed(run_id, lo)",
      "creating a temporary table"));
  RITMA_ASSIGN_OR_RETURN(StmtPtr ins, db.prepare("INSERT INTO temp.sealed VALUES (?1, ?2, ?3)"));
  for (const auto& [run, boot] : runs) {
    const auto it = sealed.find({run, boot});
    if (it == sealed.end()) continue;
    for (const auto& [lo, hi] : it->second) {
      sqlite3_bind_int64(ins.get(), 1, run);
      sqlite3_bind_int64(ins.get(), 2, static_cast<int64_t>(lo));
      sqlite3_bind_int64(ins.get(), 3, static_cast<int64_t>(hi));
      const int rc = sqlite3_step(ins.get());
      sqlite3_reset(ins.get());
      if (rc != SQLITE_DONE) return db.error(rc, "filling a temporary table");
    }
  }
  return {};
}

// Events with a sealed seq (under load_sealed), of one rotation; binds ?1 max_id, ?2 from_wall,
// ?3 to_wall.
constexpr const char* kMovable =
    "events.id < ?1 AND events.wall_ns BETWEEN ?2 AND ?3 AND EXISTS (SELECT 1 FROM temp.sealed"
    " AS s WHERE s.run_id = events.run_id AND s.lo <= events.seq AND events.seq < s.hi)";
// The first event RITMA_OUT has not sealed.
constexpr const char* kUnsealed =
    "SELECT run_id, seq FROM events WHERE NOT EXISTS (SELECT 1 FROM temp.sealed AS s WHERE"
    " s.run_id = events.run_id AND s.lo <= events.seq AND events.seq < s.hi) LIMIT 1";

std::string rotated_advice(const fs::path& file) {
  return "; it is named like a rotated hot index, so retention will not go on until it is moved "
         "out of " +
         file.parent_path().string();
}

// What a rotated file holds, checked before anything is deleted.
struct RotatedInfo {
  uint64_t bytes = 0;
  uint64_t events = 0;
};

// Opens a rotated file, checking that it is a hot index of this schema version.
Result<Db> open_rotated(const fs::path& file) {
  const std::string advice = rotated_advice(file);
  auto db = Db::open(file, SQLITE_OPEN_READONLY, 1000);
  if (!db) return make_error("cannot open rotated hot index " + db.error().message + advice);
  auto app = db->query_int("PRAGMA application_id");
  auto version = db->query_int("PRAGMA user_version");
  if (!app || !version) {
    const char* why = sqlite3_errmsg(db->get());
    return make_error(file.string() + " is not a SQLite database, or is damaged (" +
                      (why != nullptr ? why : "unreadable") + ")" + advice);
  }
  if (*app != store::kHotIndexApplicationId || *version != store::kHotIndexSchemaVersion) {
    return make_error(file.string() + " is not a Ritma hot index of schema version " +
                      std::to_string(store::kHotIndexSchemaVersion) + " (application_id " +
                      std::to_string(*app) + ", user_version " + std::to_string(*version) + ")" +
                      advice);
  }
  return db;
}

Result<RotatedInfo> inspect_rotated(const fs::path& file) {
  RotatedInfo info;
  std::error_code ec;
  info.bytes = fs::file_size(file, ec);
  if (ec) return make_error("cannot read rotated hot index " + file.string() + ": " + ec.message());
  RITMA_ASSIGN_OR_RETURN(Db db, open_rotated(file));
  auto events = db.query_int("SELECT count(*) FROM events");
  if (!events) return make_error(events.error().message + rotated_advice(file));
  info.events = static_cast<uint64_t>(*events);
  return info;
}

// Why the rotated file may not be deleted, or "" when every event in it is sealed.
Result<std::string> unsealed_in(const fs::path& file, const SealedRuns& sealed) {
  RITMA_ASSIGN_OR_RETURN(Db db, open_rotated(file));
  RITMA_TRY(load_sealed(db, sealed));
  RITMA_ASSIGN_OR_RETURN(StmtPtr st, db.prepare(kUnsealed));
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return db.error(rc, "checking that its events are sealed");
  return "it holds event seq " + std::to_string(sqlite3_column_int64(st.get(), 1)) + " of run " +
         std::to_string(sqlite3_column_int64(st.get(), 0)) +
         ", which RITMA_OUT has not sealed (no readable window record of that run and boot "
         "covers it)";
}

// One planned rotation: the events of the live index with id < max_id whose seq is sealed and
// whose wall time is in [from_wall, to_wall]. The live index only ever gains rows with larger
// ids, so the same condition selects the same rows when copying and when deleting.
struct Rotation {
  int64_t from_wall = kMin;
  int64_t to_wall = kMax;
  uint64_t events = 0;
  int64_t min_wall = 0;
  int64_t max_wall = 0;
  int64_t min_id = 0;
  uint64_t est_bytes = 0;
  RotatedIndex file;
  std::string reason;
};

class LiveIndex {
 public:
  static Result<LiveIndex> open(const fs::path& path, bool writable, int busy_timeout_ms,
                                const SealedRuns& sealed) {
    RITMA_ASSIGN_OR_RETURN(
        Db db,
        Db::open(path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, busy_timeout_ms));
    // Keep -wal and -shm when this is the last connection to close (the sensor stopped):
    // unprivileged readers cannot create them (see store/hot_index.h).
    int persist = 1;
    sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    LiveIndex live(std::move(db));
    auto app = live.db_.query_int("PRAGMA application_id");
    auto version = live.db_.query_int("PRAGMA user_version");
    if (!app || !version) {
      return make_error("hot index " + (app ? version.error() : app.error()).message);
    }
    live.empty_schema_ = *app == 0 && *version == 0;
    if (!live.empty_schema_ &&
        (*app != store::kHotIndexApplicationId || *version != store::kHotIndexSchemaVersion)) {
      return make_error(path.string() + " is not a Ritma hot index of schema version " +
                        std::to_string(store::kHotIndexSchemaVersion) + " (application_id " +
                        std::to_string(*app) + ", user_version " + std::to_string(*version) +
                        "); not rotating it");
    }
    if (live.empty_schema_) return live;
    RITMA_TRY(load_sealed(live.db_, sealed));
    return live;
  }

  bool empty_schema() const { return empty_schema_; }
  Db& db() { return db_; }

  // Figures of one snapshot; the plan is made from it.
  struct Snapshot {
    int64_t max_id = 0;  // the newest row; it stays (the sensor continues its seq from it)
    int64_t rows = 0;
    uint64_t used_bytes = 0;       // (page_count - freelist_count) * page_size
    uint64_t file_bytes = 0;       // page_count * page_size
    std::vector<Rotation> days;    // movable events per completed UTC day
    std::optional<Rotation> rest;  // movable events from today_start on (or all of them)
  };

  Result<Snapshot> snapshot(const IndexRetentionOptions& opts) {
    RITMA_TRY(db_.exec("BEGIN", "starting a read"));
    auto s = read_snapshot(opts);
    db_.rollback();
    return s;
  }

  // The rows of `r` in this snapshot: count, wall range, smallest id.
  Result<std::optional<Rotation>> select(int64_t max_id, int64_t from_wall, int64_t to_wall) {
    RITMA_ASSIGN_OR_RETURN(
        StmtPtr st, db_.prepare(std::string("SELECT count(*), min(wall_ns), max(wall_ns), min(id)"
                                            " FROM events WHERE ") +
                                kMovable));
    bind_range(st.get(), max_id, from_wall, to_wall);
    const int rc = sqlite3_step(st.get());
    if (rc != SQLITE_ROW) return db_.error(rc, "selecting sealed events");
    Rotation r;
    r.from_wall = from_wall;
    r.to_wall = to_wall;
    r.events = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
    if (r.events == 0) return std::optional<Rotation>();
    r.min_wall = sqlite3_column_int64(st.get(), 1);
    r.max_wall = sqlite3_column_int64(st.get(), 2);
    r.min_id = sqlite3_column_int64(st.get(), 3);
    return std::optional<Rotation>(r);
  }

  static void bind_range(sqlite3_stmt* st, int64_t max_id, int64_t from_wall, int64_t to_wall) {
    sqlite3_bind_int64(st, 1, max_id);
    sqlite3_bind_int64(st, 2, from_wall);
    sqlite3_bind_int64(st, 3, to_wall);
  }

 private:
  explicit LiveIndex(Db db) : db_(std::move(db)) {}

  Result<Snapshot> read_snapshot(const IndexRetentionOptions& opts) {
    Snapshot snap;
    RITMA_ASSIGN_OR_RETURN(snap.max_id, db_.query_int("SELECT max(id) FROM events"));
    RITMA_ASSIGN_OR_RETURN(snap.rows, db_.query_int("SELECT count(*) FROM events"));
    RITMA_ASSIGN_OR_RETURN(const int64_t pages, db_.query_int("PRAGMA page_count"));
    RITMA_ASSIGN_OR_RETURN(const int64_t free_pages, db_.query_int("PRAGMA freelist_count"));
    RITMA_ASSIGN_OR_RETURN(const int64_t page_size, db_.query_int("PRAGMA page_size"));
    snap.file_bytes = static_cast<uint64_t>(pages * page_size);
    snap.used_bytes = static_cast<uint64_t>((pages - free_pages) * page_size);
    const int64_t today = floor_div(opts.now_ns, kDayNs);
    const int64_t today_start = today > floor_div(kMin, kDayNs) ? today * kDayNs : kMin;
    if (opts.rotate_daily && today_start != kMin) {
      // The days that have movable events, then each day's rows.
      RITMA_ASSIGN_OR_RETURN(
          StmtPtr st,
          db_.prepare(std::string("SELECT DISTINCT CASE WHEN wall_ns >= 0 THEN wall_ns / ") +
                      std::to_string(kDayNs) + " ELSE (wall_ns + 1) / " + std::to_string(kDayNs) +
                      " - 1 END AS day FROM events WHERE " + kMovable + " ORDER BY day"));
      bind_range(st.get(), snap.max_id, kMin, today_start - 1);
      std::vector<int64_t> days;
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW)
        days.push_back(sqlite3_column_int64(st.get(), 0));
      if (rc != SQLITE_DONE) return db_.error(rc, "reading the days of sealed events");
      for (int64_t day : days) {
        // The first day of int64 time starts before kMin: clamp it.
        const int64_t from = day > floor_div(kMin, kDayNs) ? day * kDayNs : kMin;
        const int64_t to = std::min(today_start - 1, from + (kDayNs - 1));
        RITMA_ASSIGN_OR_RETURN(auto r, select(snap.max_id, from, to));
        if (!r) continue;
        r->reason = "UTC day " + utc_day(day) + " is complete: its sealed events";
        snap.days.push_back(std::move(*r));
      }
    }
    if (opts.max_size_bytes && snap.used_bytes > *opts.max_size_bytes) {
      const int64_t from = opts.rotate_daily ? today_start : kMin;
      RITMA_ASSIGN_OR_RETURN(snap.rest, select(snap.max_id, from, kMax));
      if (snap.rest) {
        snap.rest->reason = "the live index uses " + std::to_string(snap.used_bytes) +
                            " bytes of pages, over the maximum of " +
                            std::to_string(*opts.max_size_bytes) +
                            "; moving all its sealed events" +
                            (opts.rotate_daily ? " of today" : "") + " (the newest event stays)";
      }
    }
    return snap;
  }

  Db db_;
  bool empty_schema_ = false;
};

// Creates `file` (which must not exist) with the live index's mode and group, so the readers
// of the live index can read the rotated file too.
Status create_like(const fs::path& file, const fs::path& like) {
  struct stat st {};
  if (::stat(like.c_str(), &st) != 0) {
    return make_error("cannot stat " + like.string() + ": " + std::strerror(errno));
  }
  const mode_t mode = st.st_mode & 0666;
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid())
    return make_error("cannot create " + file.string() + ": " + std::strerror(errno));
  if (::fchmod(fd.get(), mode) != 0) {
    return make_error("cannot set the mode of " + file.string() + ": " + std::strerror(errno));
  }
  struct stat mine {};
  if (::fstat(fd.get(), &mine) == 0 && mine.st_gid != st.st_gid &&
      ::fchown(fd.get(), static_cast<uid_t>(-1), st.st_gid) != 0) {
    return make_error("cannot give " + file.string() + " the group of " + like.string() + " (gid " +
                      std::to_string(st.st_gid) + "): " + std::strerror(errno));
  }
  return {};
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

// The live index's schema statements, in creation order (tables before their indexes).
Result<std::vector<std::string>> schema_of(Db& live) {
  RITMA_ASSIGN_OR_RETURN(StmtPtr st,
                         live.prepare("SELECT sql FROM main.sqlite_schema WHERE sql IS NOT NULL"
                                      " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)));
  }
  if (rc != SQLITE_DONE) return live.error(rc, "reading the schema");
  return out;
}

// Step 1 of a rotation: the rows into a complete, durable rotated file at r.file.path.
Status write_rotated(LiveIndex& live, const fs::path& index_db, int64_t max_id, const Rotation& r,
                     const std::vector<std::string>& schema) {
  const fs::path& target = r.file.path;
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp");
  remove_quietly(tmp);
  remove_quietly(tmp.string() + "-journal");
  RITMA_TRY(create_like(tmp, index_db));
  auto fail = [&](Error e) -> Status {
    live.db().rollback();
    (void)live.db().exec("DETACH DATABASE rot", "detaching");
    remove_quietly(tmp);
    remove_quietly(tmp.string() + "-journal");
    return e;
  };
  {
    auto out = Db::open(tmp, SQLITE_OPEN_READWRITE, 1000);
    if (!out) return fail(out.error());
    Status s = out->exec("PRAGMA page_size=8192; BEGIN", "creating the schema");
    for (size_t i = 0; s.ok() && i < schema.size(); ++i)
      s = out->exec(schema[i], "creating the schema");
    if (s.ok()) {
      s = out->exec("PRAGMA application_id=" + std::to_string(store::kHotIndexApplicationId) +
                        "; PRAGMA user_version=" + std::to_string(store::kHotIndexSchemaVersion) +
                        "; COMMIT",
                    "tagging the schema");
    }
    if (!s) return fail(s.error());
  }
  Db& db = live.db();
  {
    RITMA_ASSIGN_OR_RETURN(StmtPtr attach, db.prepare("ATTACH DATABASE ?1 AS rot"));
    sqlite3_bind_text(attach.get(), 1, tmp.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(attach.get());
    if (rc != SQLITE_DONE) return fail(db.error(rc, "attaching " + tmp.string()));
  }
  // A rollback journal, synced at commit: once COMMIT returns, the file is complete on disk.
  if (auto s = db.exec("PRAGMA rot.synchronous=FULL; PRAGMA rot.journal_mode=DELETE; BEGIN",
                       "starting the copy");
      !s)
    return fail(s.error());
  if (auto s = db.exec("INSERT INTO rot.runs SELECT * FROM main.runs", "copying the runs"); !s)
    return fail(s.error());
  {
    auto st = db.prepare(std::string("INSERT INTO rot.events SELECT * FROM main.events WHERE ") +
                         kMovable);
    if (!st) return fail(st.error());
    LiveIndex::bind_range(st->get(), max_id, r.from_wall, r.to_wall);
    const int rc = sqlite3_step(st->get());
    const auto copied = static_cast<uint64_t>(sqlite3_changes64(db.get()));
    sqlite3_reset(st->get());  // a statement in progress would keep `rot` from detaching
    if (rc != SQLITE_DONE) return fail(db.error(rc, "copying events into " + tmp.string()));
    if (copied != r.events) {
      return fail(make_error(index_db.string() + ": planned to move " + std::to_string(r.events) +
                             " events, found " + std::to_string(copied) +
                             " (was the index changed by something other than the sensor?)"));
    }
  }
  if (auto s = db.exec("INSERT INTO rot.contexts SELECT * FROM main.contexts WHERE ctx IN"
                       " (SELECT ctx FROM rot.events);"
                       " INSERT INTO rot.paths SELECT * FROM main.paths WHERE path_id IN"
                       " (SELECT path_id FROM rot.events WHERE path_id IS NOT NULL); COMMIT",
                       "copying contexts and paths");
      !s)
    return fail(s.error());
  if (auto s = db.exec("DETACH DATABASE rot", "detaching " + tmp.string()); !s)
    return fail(s.error());
  // link() does not replace an existing file, where rename() would.
  if (::link(tmp.c_str(), target.c_str()) != 0) {
    return fail(make_error("cannot create " + target.string() + ": " + std::strerror(errno)));
  }
  remove_quietly(tmp);
  return fsync_directory(target.parent_path());
}

// Step 2 of a rotation: the same rows out of the live index, a chunk of ids per transaction.
Status delete_moved(LiveIndex& live, int64_t max_id, const Rotation& r) {
  Db& db = live.db();
  RITMA_ASSIGN_OR_RETURN(
      StmtPtr st,
      db.prepare(std::string("DELETE FROM main.events WHERE events.id >= ?4 AND events.id < ?5"
                             " AND ") +
                 kMovable));
  uint64_t deleted = 0;
  for (int64_t lo = r.min_id; lo < max_id; lo += std::min(kDeleteChunkIds, max_id - lo)) {
    LiveIndex::bind_range(st.get(), max_id, r.from_wall, r.to_wall);
    sqlite3_bind_int64(st.get(), 4, lo);
    sqlite3_bind_int64(st.get(), 5, lo + std::min(kDeleteChunkIds, max_id - lo));
    RITMA_TRY(db.exec("BEGIN IMMEDIATE", "starting a delete"));
    const int rc = sqlite3_step(st.get());
    sqlite3_reset(st.get());
    if (rc != SQLITE_DONE) {
      db.rollback();
      return db.error(rc, "deleting rotated events (they are in " + r.file.path.string() + ")");
    }
    deleted += static_cast<uint64_t>(sqlite3_changes64(db.get()));
    if (auto s = db.exec("COMMIT", "committing a delete"); !s) {
      db.rollback();
      return s;
    }
  }
  if (deleted != r.events) {
    return make_error(db.path().string() + ": deleted " + std::to_string(deleted) + " of the " +
                      std::to_string(r.events) + " events copied to " + r.file.path.string() +
                      " (was the index changed by something other than the sensor?)");
  }
  return {};
}

}  // namespace

fs::path rotated_index_dir(const fs::path& index_db) {
  return fs::path(index_db.string() + ".rotated");
}

Result<LiveIndexSize> measure_live_index(const fs::path& index_db) {
  RITMA_ASSIGN_OR_RETURN(Db db, Db::open(index_db, SQLITE_OPEN_READONLY, 5000));
  LiveIndexSize size;
  // One read transaction: the three figures of one snapshot.
  RITMA_TRY(db.exec("BEGIN", "starting a read"));
  auto pages = db.query_int("PRAGMA page_count");
  auto free_pages = db.query_int("PRAGMA freelist_count");
  auto page_size = db.query_int("PRAGMA page_size");
  db.rollback();
  if (!pages || !free_pages || !page_size) {
    return (!pages ? pages : !free_pages ? free_pages : page_size).error();
  }
  size.file_bytes = static_cast<uint64_t>(*pages * *page_size);
  size.used_bytes = static_cast<uint64_t>((*pages - *free_pages) * *page_size);
  std::error_code ec;
  const auto wal = fs::file_size(index_db.string() + "-wal", ec);
  if (!ec) size.wal_bytes = wal;
  return size;
}

Result<std::vector<RotatedIndex>> list_rotated_indexes(const fs::path& index_db) {
  const fs::path dir = rotated_index_dir(index_db);
  std::vector<RotatedIndex> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (ec) return make_error("cannot access " + dir.string() + ": " + ec.message());
    return out;
  }
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (auto r = parse_rotated_name(it->path())) out.push_back(std::move(*r));
  }
  if (ec) return make_error("cannot list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), older);
  return out;
}

Result<std::vector<IndexRetentionAction>> run_index_retention(const store::StorePaths& paths,
                                                              const IndexRetentionOptions& opts) {
  if (opts.rotate_daily && opts.now_ns <= 0) {
    return make_error("hot index rotation by day needs the current time (now_ns)");
  }
  std::optional<SingleWriterLock> lock;
  if (opts.apply) {
    RITMA_TRY(make_directories(paths.lock_dir, 0755));
    RITMA_ASSIGN_OR_RETURN(lock,
                           SingleWriterLock::acquire(paths.lock_dir / "ritma-index-rotation.lock",
                                                     "hot index rotation"));
  }
  std::error_code ec;
  // What RITMA_OUT has sealed. Without a window log nothing is sealed, so nothing moves.
  RITMA_ASSIGN_OR_RETURN(const SealedRuns sealed, read_sealed_runs(paths.out_dir));

  // Every rotated file must be a readable hot index before anything is done.
  RITMA_ASSIGN_OR_RETURN(std::vector<RotatedIndex> existing, list_rotated_indexes(paths.index_db));
  std::map<fs::path, RotatedInfo> infos;
  for (const RotatedIndex& r : existing) {
    RITMA_ASSIGN_OR_RETURN(infos[r.path], inspect_rotated(r.path));
  }

  // The plan of rotations, from one snapshot of the live index.
  std::optional<LiveIndex> live;
  LiveIndex::Snapshot snap;
  std::vector<Rotation> rotations;
  if (fs::exists(paths.index_db, ec)) {
    RITMA_ASSIGN_OR_RETURN(
        live, LiveIndex::open(paths.index_db, opts.apply, opts.busy_timeout_ms, sealed));
    if (!live->empty_schema()) {
      RITMA_ASSIGN_OR_RETURN(snap, live->snapshot(opts));
      rotations = snap.days;
      if (snap.rest) rotations.push_back(*snap.rest);
    }
  } else if (ec) {
    return make_error("cannot access hot index " + paths.index_db.string() + ": " + ec.message());
  }
  const fs::path dir = rotated_index_dir(paths.index_db);
  std::vector<RotatedIndex> all = existing;
  for (Rotation& r : rotations) {
    r.file.first_s = floor_div(r.min_wall, 1'000'000'000);
    r.file.last_s = floor_div(r.max_wall, 1'000'000'000);
    auto taken = [&](uint32_t n) {
      return std::any_of(all.begin(), all.end(), [&](const RotatedIndex& o) {
        return o.first_s == r.file.first_s && o.last_s == r.file.last_s && o.n == n;
      });
    };
    while (taken(r.file.n)) ++r.file.n;
    r.file.path = dir / rotated_name(r.file);
    if (snap.rows > 0) {
      r.est_bytes = static_cast<uint64_t>(static_cast<long double>(snap.used_bytes) *
                                          static_cast<long double>(r.events) /
                                          static_cast<long double>(snap.rows));
    }
    all.push_back(r.file);
  }
  std::vector<IndexRetentionAction> actions;
  for (const Rotation& r : rotations) {
    actions.push_back({"rotate", r.file.path, r.est_bytes, r.events, r.reason, false});
  }

  // Deletions: the oldest rotated files beyond `keep`, counting the new ones.
  std::sort(all.begin(), all.end(), older);
  const size_t n_delete = opts.keep && all.size() > *opts.keep ? all.size() - *opts.keep : 0;
  for (size_t i = 0; i < n_delete; ++i) {
    IndexRetentionAction a;
    a.kind = "delete";
    a.path = all[i].path;
    const auto info = infos.find(a.path);
    if (info != infos.end()) {
      // Written sealed-only by a rotation; checked again, since nothing unsealed may go.
      RITMA_ASSIGN_OR_RETURN(const std::string why, unsealed_in(a.path, sealed));
      if (!why.empty()) {
        return make_error("refusing to delete rotated hot index " + a.path.string() + ": " + why +
                          "; nothing was changed (move the file out of " + dir.string() +
                          " to let retention go on)");
      }
      a.bytes = info->second.bytes;
      a.events = info->second.events;
    } else {
      for (const Rotation& r : rotations) {
        if (r.file.path == a.path) {
          a.bytes = r.est_bytes;
          a.events = r.events;
        }
      }
    }
    a.reason = "beyond --keep " + std::to_string(*opts.keep) + ": one of the " +
               std::to_string(n_delete) + " oldest of " + std::to_string(all.size()) +
               " rotated files; all its events are sealed";
    actions.push_back(std::move(a));
  }
  if (!opts.apply) return actions;

  if (!rotations.empty()) {
    RITMA_TRY(make_directories(dir, 0755));
    // Temporary files of a rotation that crashed (we hold the lock: none is in progress).
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.starts_with(std::string(".") + kRotatedPrefix) &&
          (name.ends_with(".tmp") || name.ends_with(".tmp-journal")))
        remove_quietly(it->path());
    }
    RITMA_ASSIGN_OR_RETURN(const std::vector<std::string> schema, schema_of(live->db()));
    for (size_t i = 0; i < rotations.size(); ++i) {
      RITMA_TRY(write_rotated(*live, paths.index_db, snap.max_id, rotations[i], schema));
      RITMA_TRY(delete_moved(*live, snap.max_id, rotations[i]));
      actions[i].done = true;
    }
  }
  for (size_t i = rotations.size(); i < actions.size(); ++i) {
    const fs::path& p = actions[i].path;
    if (!fs::remove(p, ec) || ec) {
      return make_error("cannot delete rotated hot index " + p.string() + ": " +
                        (ec ? ec.message() : std::string("it is gone")));
    }
    for (const char* leftover : {"-journal", "-wal", "-shm"}) remove_quietly(p.string() + leftover);
    actions[i].done = true;
  }
  if (n_delete != 0) RITMA_TRY(fsync_directory(dir));
  return actions;
}

}  // namespace ritma::seal
