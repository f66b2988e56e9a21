#!/usr/bin/env bash
# The whole test suite: set up (install what is missing, build), run every test through ctest,
# then rebuild with AddressSanitizer+UndefinedBehaviorSanitizer (clang) and run the unit tests
# and the libFuzzer targets (RITMA_FUZZ_SECONDS each, default 60) under it.
#
# Tests that need root or BPF skip with a message when those are missing, and fail instead of
# skipping when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/setup.sh

# The ASan+UBSan tree builds in the background, at the lowest CPU priority, while the default
# tests run: most of their time is the kernel tests waiting on captures, and a niced compiler
# does not take the CPU from the sensor under test.
mkdir -p build
asan_log=build/asan-build.log
echo "== building the ASan+UBSan tree in the background (log: $asan_log) =="
(cmake --preset asan -DRITMA_FUZZ_SECONDS="${RITMA_FUZZ_SECONDS:-60}" >/dev/null &&
  nice -n 19 cmake --build --preset asan) >"$asan_log" 2>&1 &
asan_pid=$!

echo "== tests (default build) =="
status=0
ctest --preset default -j "$jobs" || status=$?

echo "== unit tests and fuzzing under ASan+UBSan =="
if ! wait "$asan_pid"; then
  tail -n 60 "$asan_log"
  echo "test.sh: the ASan+UBSan build failed (full log: $asan_log)" >&2
  exit 1
fi
ctest --preset asan -j "$jobs" || status=$?
exit "$status"
