#!/usr/bin/env bash
# Runs every benchmark against an existing build (it builds nothing): core_bench with three
# randomly interleaved repetitions, its ratio table, then blake3_vs_b3sum.sh. The commands and
# results are in docs/PERFORMANCE.md.
#
#   cmake --build --preset default --target core_bench b3file
#   bench/run_all.sh [BUILD_DIR] [extra core_bench flags...]
#
# BUILD_DIR defaults to build/ of this checkout. core_bench's JSON goes to
# BUILD_DIR/core_bench.json. The exit status is blake3_vs_b3sum.sh's (0 PASS, 3 below target).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-$(cd "$here/.." && pwd)/build}
[ $# -gt 0 ] && shift

core_bench=$build_dir/bench/core_bench
if [ ! -x "$core_bench" ]; then
  echo "run_all: $core_bench not found; build it first:" >&2
  echo "  cmake --build --preset default --target core_bench b3file" >&2
  exit 2
fi

json=$build_dir/core_bench.json
"$core_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$json" --benchmark_out_format=json "$@"
echo
"$here/bench_ratios.sh" "$json"
echo
"$here/blake3_vs_b3sum.sh" "$build_dir"
