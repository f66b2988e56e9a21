#!/usr/bin/env bash
# Times ritma::blake3_file (through bench/b3file) against `b3sum --num-threads 1` on the same
# 1 GiB file of pseudo-random bytes, both hashing from a warm page cache, in interleaved rounds
# (b3file, b3sum, b3file, b3sum, ...) so machine noise hits both alike. Prints each median, the
# throughputs and the ratio ours/b3sum against the target (>= 0.9).
#
# Each round also times `b3sum --no-mmap` (read() into a buffer, one thread) for reference: on
# virtual machines where page-table walks are expensive, reading beats mapping, and this shows by
# how much. It does not enter the verdict.
#
#   bench/blake3_vs_b3sum.sh [BUILD_DIR]      BUILD_DIR defaults to build/ of this checkout
#
# Environment: BENCH_DIR (where the data file lives; default BUILD_DIR/bench-data, reused across
# runs), ROUNDS (default 7, at least 5), FILE_MIB (default 1024; smaller only for a smoke test).
# Exit status: 0 PASS, 1 digests differ or a tool failed, 2 usage, 3 ratio below the target.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$repo/build}
bench_dir=${BENCH_DIR:-$build_dir/bench-data}
rounds=${ROUNDS:-7}
file_mib=${FILE_MIB:-1024}
target=0.9

b3file=$build_dir/bench/b3file
if [ ! -x "$b3file" ]; then
  echo "blake3_vs_b3sum: $b3file not found; build it first:" >&2
  echo "  cmake --build --preset default --target b3file" >&2
  exit 2
fi
if ! command -v b3sum >/dev/null; then
  echo "blake3_vs_b3sum: b3sum not installed (scripts/setup.sh installs it)" >&2
  exit 2
fi
if [ "$rounds" -lt 5 ]; then
  echo "blake3_vs_b3sum: ROUNDS must be at least 5" >&2
  exit 2
fi

# The data file: AES-256-CTR keystream from a fixed password (the same bytes every time, written
# at a few GB/s), or /dev/urandom without the openssl tool. Reused when it has the right size.
size=$((file_mib * 1024 * 1024))
mkdir -p "$bench_dir"
data=$bench_dir/random-${file_mib}MiB.bin
if [ ! -f "$data" ] || [ "$(stat -c %s "$data")" -ne "$size" ]; then
  echo "blake3_vs_b3sum: writing $file_mib MiB of pseudo-random bytes to $data"
  tmp=$data.tmp.$$
  if command -v openssl >/dev/null; then
    # openssl dies of SIGPIPE when head has enough; that is the expected way for it to stop.
    { openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:ritma-bench -in /dev/zero \
        2>/dev/null || true; } | head -c "$size" >"$tmp"
  else
    head -c "$size" /dev/urandom >"$tmp"
  fi
  if [ "$(stat -c %s "$tmp")" -ne "$size" ]; then
    echo "blake3_vs_b3sum: short write to $tmp" >&2
    rm -f "$tmp"
    exit 1
  fi
  mv "$tmp" "$data"
fi
if cmp -s -n 65536 "$data" /dev/zero; then
  echo "blake3_vs_b3sum: $data starts with zeros; delete it and run again" >&2
  exit 1
fi

# Warm the page cache, then check both tools agree (which also warms each program).
cat "$data" >/dev/null
ours_line=$("$b3file" "$data")
peer_line=$(b3sum --num-threads 1 "$data")
ours_hex=${ours_line%% *}
peer_hex=${peer_line%% *}
echo "digest b3file: $ours_hex"
echo "digest b3sum : $peer_hex"
if [ "$ours_hex" != "$peer_hex" ]; then
  echo "blake3_vs_b3sum: FAIL: digests differ" >&2
  exit 1
fi

ours_cmd=("$b3file" "$data")
peer_cmd=(b3sum --num-threads 1 "$data")
read_cmd=(b3sum --no-mmap "$data")
ours_times=()
peer_times=()
read_times=()

# One timed run of a command; prints wall-clock seconds.
if command -v hyperfine >/dev/null; then
  timer="hyperfine $(hyperfine --version | awk '{print $2}') (one run per call, no shell)"
  csv=$(mktemp)
  trap 'rm -f "$csv"' EXIT
  time_once() {
    hyperfine --shell=none --runs 1 --style none --export-csv "$csv" "$(printf '%q ' "$@")" \
      >/dev/null
    awk -F, 'NR == 2 {print $2}' "$csv"
  }
else
  timer="bash \$EPOCHREALTIME"
  time_once() {
    local start=$EPOCHREALTIME
    "$@" >/dev/null
    local end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN {printf "%.6f\n", e - s}'
  }
fi

echo "file: $data ($file_mib MiB); $rounds interleaved rounds; timer: $timer"
for ((r = 1; r <= rounds; r++)); do
  t_ours=$(time_once "${ours_cmd[@]}")
  t_peer=$(time_once "${peer_cmd[@]}")
  t_read=$(time_once "${read_cmd[@]}")
  ours_times+=("$t_ours")
  peer_times+=("$t_peer")
  read_times+=("$t_read")
  printf 'round %d: b3file %.4f s   b3sum %.4f s   b3sum --no-mmap %.4f s\n' \
    "$r" "$t_ours" "$t_peer" "$t_read"
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_ours=$(median "${ours_times[@]}")
m_peer=$(median "${peer_times[@]}")
m_read=$(median "${read_times[@]}")

awk -v mo="$m_ours" -v mp="$m_peer" -v mr="$m_read" -v size="$size" -v target="$target" 'BEGIN {
  gib = size / (1024 * 1024 * 1024)
  printf "b3file (ritma::blake3_file, mmap)  median %.4f s  %.2f GiB/s\n", mo, gib / mo
  printf "b3sum --num-threads 1 (mmap)       median %.4f s  %.2f GiB/s\n", mp, gib / mp
  printf "b3sum --no-mmap (read, reference)  median %.4f s  %.2f GiB/s  (ours/this %.3f)\n",
         mr, gib / mr, mr / mo
  ratio = mp / mo
  verdict = ratio >= target ? "PASS" : "FAIL"
  printf "ratio ours/b3sum throughput: %.3f (target >= %.2f): %s\n", ratio, target, verdict
  exit verdict == "PASS" ? 0 : 3
}'
