// Derived files of the sealed store (docs/FORMAT.md §10.10-10.11): the time indexes
// index/t_{1,10,60}s, the daily catalog and the daily accounting ledger. They are summaries
// that the sealer writes after each window and that a verifier recomputes from the blocks and
// compares; they are never the evidence themselves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "capture/event.h"
#include "core/result.h"
#include "seal/seal_format.h"

namespace ritma::seal {

// What both the writer and the checker know of one sealed event, without decoding it fully.
struct EventFacts {
  uint64_t type = 0;
  int64_t wall_ns = 0;
  uint32_t atom_bytes = 0;  // size of its encoding
  uint32_t block = 0;       // block number within the window
  uint32_t index_in_block = 0;
};

// The decoded forms of the catalog and accounting files (§10.11). Kernel strings in the sketches
// (exe, file path) are held as bytes: encoded as CBOR text when valid UTF-8, else as a byte
// string (as in the event atom, §9).
struct CatalogWindow {
  uint64_t log_index = 0;
  std::string stem_path;  // windows/YYYY/MM/DD/HH/micro/<stem>
  uint64_t first_seq = 0;
  uint64_t event_count = 0;
  uint64_t loss_count = 0;
  Hash32 micro_root{};
  int64_t min_wall_ns = 0;
  int64_t max_wall_ns = 0;
  bool retention_lock = false;
  std::vector<std::string> case_ids;
  bool operator==(const CatalogWindow&) const = default;
};

struct CatalogSketches {  // each list: count descending, ties by the smaller key
  std::vector<std::pair<std::string, uint64_t>> top_processes;
  std::vector<std::pair<std::string, uint64_t>> top_outbound_ips;
  std::vector<std::pair<std::string, uint64_t>> top_files;
  std::vector<std::pair<uint64_t, uint64_t>> top_users;
  std::vector<std::pair<uint64_t, uint64_t>> type_counts;
  bool operator==(const CatalogSketches&) const = default;
};

struct Catalog {  // catalog/YYYY/MM/DD/day.cbor.zst
  StoreId store_id{};
  std::string node_id;
  std::string day;  // YYYY-MM-DD
  std::vector<CatalogWindow> windows;
  CatalogSketches sketches;
  bool operator==(const Catalog&) const = default;
};

struct AccountRow {
  uint64_t type = 0;
  uint64_t events = 0;
  uint64_t raw_bytes = 0;
  uint64_t zstd_bytes = 0;
  bool operator==(const AccountRow&) const = default;
};

struct AccountTotals {
  uint64_t windows = 0;
  uint64_t events = 0;
  uint64_t raw_bytes = 0;
  uint64_t zstd_bytes = 0;
  uint64_t sealed_bytes = 0;
  bool operator==(const AccountTotals&) const = default;
};

struct Account {  // accounting/YYYY/MM/DD/account.cbor.zst
  StoreId store_id{};
  std::string node_id;
  std::string day;
  std::vector<AccountRow> per_type;  // ascending type, events > 0
  AccountTotals totals;
  bool operator==(const Account&) const = default;
};

// Canonical CBOR of the two files (before zstd) and strict decoders.
Bytes encode(const Catalog& c);
Bytes encode(const Account& a);
Result<Catalog> decode_catalog(ByteSpan b);
Result<Account> decode_account(ByteSpan b);
// Reads one file: a zstd frame (bounded) of the CBOR above, decoded strictly.
Result<Catalog> read_catalog_file(const std::filesystem::path& path);
Result<Account> read_account_file(const std::filesystem::path& path);

// The writer, run by the sealer after each window is sealed (checkpoint written). It keeps the
// current day's catalog and accounting in memory (reloading them from disk when the sealer
// opens in the middle of a day) and rewrites both files atomically after every window; time
// index entries are appended.
class DerivedWriter {
 public:
  DerivedWriter(std::filesystem::path out_dir, StoreId store_id, std::string node_id);
  ~DerivedWriter();
  // `events` are the window's events (same order as `facts`); used for the sketches.
  Status on_window(const MicroRecord& r, std::span<const EventFacts> facts,
                   std::span<const capture::Event> events);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The checker, run by the verifier: fed every verified window (with the facts it computed
// from the blocks), then asked for the differences between what is on disk and what it
// computed. Each problem names the file and, where it applies, the window (stem path and log
// index).
class DerivedChecker {
 public:
  DerivedChecker(std::filesystem::path out_dir, StoreId store_id, std::string node_id);
  ~DerivedChecker();
  void add_window(const MicroRecord& r, std::span<const EventFacts> facts);
  // A window retention pruned (§14): its events are gone, so its time-index entries (present or
  // not) are not checked and its day's accounting is not recomputed; its catalog entry is still
  // compared with the micro record.
  void add_pruned_window(const MicroRecord& r);
  // The derived files are written after a window's checkpoint, so a crash can leave them
  // without (some of) the newest window's entries until the sensor starts again and rewrites
  // them. Call before add_window(): for window `log_index`, missing trailing time-index
  // entries, a torn index tail, a catalog that does not list it and an accounting that does
  // not count it are accepted; anything present must still be right.
  void tolerate_lag_of(uint64_t log_index);
  // Compares the derived files of every day/hour the windows touched. With `complete_days`
  // false (a --from/--to range), a catalog listing windows outside the range is not an error.
  std::vector<std::string> finish(bool complete_days);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ritma::seal
