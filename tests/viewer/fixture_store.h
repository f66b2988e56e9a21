// A small synthetic sealed store for the viewer's tests (`ritma serve`): a process tree (a
// shell that forks children which exec ls, cat and, exactly once, curl, which connects out),
// file events and an empty window, sealed by seal::Sealer with a node key made like
// `ritma keys init`, across two minutes and an hour boundary.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/result.h"

namespace ritma::test {

struct FixtureStore {
  uint64_t windows = 0;
  uint64_t events = 0;
  uint64_t curl_seq = 0;  // the one exec of /usr/bin/curl
  int64_t from_ns = 0;    // the first window's slot start
  int64_t to_ns = 0;      // one past the last window's slot end
};

// Creates the store under base_dir (RITMA_OUT = base_dir/RITMA_OUT); base_dir must not hold one.
Result<FixtureStore> make_fixture_store(const std::filesystem::path& base_dir);

}  // namespace ritma::test
