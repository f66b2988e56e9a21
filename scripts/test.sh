#!/usr/bin/env bash
# The whole test suite: set up (install what is missing, build the default tree), run every
# test but the unit tests through ctest, while a second tree builds with
# AddressSanitizer+UndefinedBehaviorSanitizer (clang); then run the unit tests (built only in
# that tree) and the libFuzzer targets (the two long ones RITMA_FUZZ_SECONDS each, default 60)
# under it.
#
# Tests that need root or BPF skip with a message when those are missing, and fail instead of
# skipping when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/setup.sh

echo "== tests (default build) =="
# The sanitizer tree builds beside the default tests, at the lowest CPU and I/O priority, so
# the kernel tests keep the CPU they need (they wait on real time: a 2-minute capture, twenty
# SIGKILLs). It builds only what its tests run; its output goes to build-asan/build.log.
mkdir -p build-asan
(cmake --preset asan -DRITMA_FUZZ_SECONDS="${RITMA_FUZZ_SECONDS:-60}" >/dev/null &&
  nice -n 19 ionice -c 3 cmake --build --preset asan) >build-asan/build.log 2>&1 &
asan_build=$!
status=0
ctest --preset default -j "$jobs" || status=$?

echo "== unit tests and fuzzing under ASan+UBSan =="
if ! wait "$asan_build"; then
  tail -n 60 build-asan/build.log
  echo "the ASan+UBSan build failed (build-asan/build.log)" >&2
  exit 1
fi
ctest --preset asan -j "$jobs" || status=$?
exit "$status"
