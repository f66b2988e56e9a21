#!/usr/bin/env bash
# ProofPack verification throughput, library and CLI, against `ritma verify --store` over the same
# events in the same run (docs/PERFORMANCE.md, "ProofPack verification"):
#
#   cmake --build --preset default --target ritma verify_bench
#   bench/pack_verify.sh [BUILD_DIR] [EVENTS] [ROUNDS]
#
# 1. verify_bench EVENTS ROUNDS --pack --keep: builds a store of EVENTS (default 1,000,000)
#    synthetic events with the real sealer, exports it whole with export_pack as a directory and
#    a .tar.zst, and times verify_pack (in memory, and load_pack + verify_pack of both forms)
#    interleaved with verify_store, next to the leaf-hash floor.
# 2. The CLI on the kept store and packs, ROUNDS (default 5) interleaved rounds of
#      ritma verify --store --base-dir D --key FP   (the baseline)
#      ritma verify D/pack --key FP
#      ritma verify D/pack.tar.zst --key FP
#    each under /usr/bin/time: wall, user+sys CPU, events/s by wall and per CPU second.
# The kept directory is removed at the end unless KEEP=1; REUSE=DIR PIN=FP runs only step 2 on a
# directory kept before (the `kept` and `pin` lines of step 1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-$(cd "$here/.." && pwd)/build}
events=${2:-1000000}
rounds=${3:-5}
ritma=$build_dir/src/ritma
verify_bench=$build_dir/bench/verify_bench
for b in "$ritma" "$verify_bench"; do
  if [ ! -x "$b" ]; then
    echo "pack_verify: $b not found; build it first:" >&2
    echo "  cmake --build --preset default --target ritma verify_bench" >&2
    exit 2
  fi
done

log=$(mktemp)
tfile=$(mktemp)
trap 'rm -f "$log" "$tfile"' EXIT
if [ -n "${REUSE:-}" ]; then  # REUSE=DIR PIN=FP: only the CLI part, on a kept directory
  dir=$REUSE
  fp=${PIN:?PIN=FP is needed with REUSE}
  lib_status=0
else
  set +e
  "$verify_bench" "$events" "$rounds" --pack --keep | tee "$log"
  lib_status=${PIPESTATUS[0]}
  set -e
  dir=$(sed -n 's/^kept //p' "$log")
  fp=$(sed -n 's/^pin: //p' "$log")
fi
if [ -z "$dir" ] || [ -z "$fp" ]; then
  echo "pack_verify: verify_bench did not keep its store (status $lib_status)" >&2
  exit 1
fi

echo
echo "CLI, $rounds interleaved rounds, $events events (wall s, user s, sys s, events/s wall," \
  "events/s per CPU s):"
declare -A best_wall best_cpu
run() {  # NAME ARGS...
  local name=$1
  shift
  local status=0
  /usr/bin/time -f '%e %U %S' -o "$tfile" "$ritma" verify --quiet "$@" >/dev/null 2>&1 ||
    status=$?
  if [ "$status" != 0 ]; then
    echo "pack_verify: ritma verify $* exited with $status" >&2
    exit 1
  fi
  read -r wall user sys <"$tfile"
  local cpu
  cpu=$(echo "$user + $sys" | bc -l)
  printf '  %-14s %6.2f %6.2f %6.2f %12.0f %12.0f\n' "$name" "$wall" "$user" "$sys" \
    "$(echo "$events / $wall" | bc -l)" "$(echo "$events / $cpu" | bc -l)"
  if [ -z "${best_wall[$name]:-}" ] || (($(echo "$wall < ${best_wall[$name]}" | bc -l))); then
    best_wall[$name]=$wall
    best_cpu[$name]=$cpu
  fi
}
for ((r = 0; r < rounds; r++)); do
  run store --store --base-dir "$dir" --key "$fp"
  run pack-dir "$dir/pack" --key "$fp"
  run pack-tar.zst "$dir/pack.tar.zst" --key "$fp"
done
echo
echo "best of $rounds (wall), events/s and the ratio of its time to verify --store's:"
for name in store pack-dir pack-tar.zst; do
  printf '  %-14s %6.2f s wall %6.2f s CPU %12.0f events/s  %5.2fx store\n' "$name" \
    "${best_wall[$name]}" "${best_cpu[$name]}" "$(echo "$events / ${best_wall[$name]}" | bc -l)" \
    "$(echo "${best_wall[$name]} / ${best_wall[store]}" | bc -l)"
done
if [ "${KEEP:-0}" != 1 ]; then rm -rf "$dir"; else echo "kept $dir"; fi
exit "$lib_status"
