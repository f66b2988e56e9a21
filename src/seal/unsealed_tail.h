// What the hot index holds that the sealed store does not: for each sensor run, the events
// recorded (and flushed to the hot index) after the last window that run sealed. After a
// crash that is the window in flight; while a sensor runs, its open window. The verifier
// names these ranges so an unsealed tail is explicit, never mistaken for sealed evidence.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace ritma::seal {

struct UnsealedRange {
  uint64_t run_id = 0;
  uint64_t first_seq = 0;  // the hot index's events of the run with seq >= first_seq
  uint64_t last_seq = 0;
  uint64_t events = 0;  // how many such events the hot index holds
  bool run_ended_cleanly = false;
  std::string describe() const;
};

struct RunSealed {
  uint64_t run_id = 0;
  bool any = false;
  uint64_t end_seq = 0;  // one past the last sealed seq of the run
};

// The sealed extent of each run, from the window log's records.
Result<std::vector<RunSealed>> sealed_extent_by_run(const std::filesystem::path& out_dir);

}  // namespace ritma::seal
