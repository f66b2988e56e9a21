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
  // Compares the derived files of every day/hour the windows touched. With `complete_days`
  // false (a --from/--to range), a catalog listing windows outside the range is not an error.
  std::vector<std::string> finish(bool complete_days);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ritma::seal
