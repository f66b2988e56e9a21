#!/usr/bin/env bash
# Sealed bytes per event and seal latency on a realistic workload (needs root).
#
#   bench/seal_workload.sh [BUILD_DIR] [ROUNDS] [ZSTD_LEVEL]
#
# Generates a small C project (40 translation units and a Makefile), starts ritma-sensor on
# a fresh store, runs `make clean && make -j2` ROUNDS times under it, stops the sensor, and
# reports:
#   - events sealed (from the window log) and the sealed bytes: every file under
#     RITMA_OUT/windows (blocks, micro records, signatures, hour proofs) plus the window log
#     and the checkpoint log — the evidence, without the derived indexes, catalog and
#     accounting, which are reported separately;
#   - bytes per event = sealed bytes / events (target <= 16);
#   - the raw size of the atoms (blocks decompressed) for comparison: the compression ratio;
#   - the largest lag from a window's end to its signed checkpoint (target <= 1 s), from the
#     sensor's own measurement;
#   - the sensor's CPU time over the whole run (user + system, from /proc/PID/stat);
#   - `ritma verify --store` on the result, with its events/s.
# ZSTD_LEVEL (default 3, the sensor's default) sets the block compression level.
set -euo pipefail
build="${1:-build}"
rounds="${2:-3}"
level="${3:-3}"
sensor="$build/src/ritma-sensor"
ritma="$build/src/ritma"
[ -x "$sensor" ] || { echo "no $sensor; build first (scripts/setup.sh)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (loads BPF)" >&2; exit 2; }

work=$(mktemp -d /tmp/ritma-sealbench.XXXXXX)
trap 'kill "$spid" 2>/dev/null || true; rm -rf "$work"' EXIT
proj="$work/proj"
mkdir -p "$proj"
for i in $(seq 1 40); do
  cat >"$proj/u$i.c" <<C
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int f$i(int x) { char buf[64]; snprintf(buf, sizeof buf, "%d", x * $i); return (int)strlen(buf) + atoi(buf); }
C
done
{
  echo 'OBJS := $(patsubst %.c,%.o,$(wildcard u*.c))'
  echo 'all: libu.a'
  echo 'libu.a: $(OBJS)'
  printf '\tar rcs $@ $^\n'
  echo '%.o: %.c'
  printf '\t$(CC) -O1 -c $< -o $@\n'
  echo 'clean:'
  printf '\trm -f *.o libu.a\n'
} >"$proj/Makefile"

export RITMA_NODE_ID=bench RITMA_SIDECAR_LOCK_DIR="$work/locks"
echo "{\"zstd_level\": $level}" >"$work/sensor.json"
"$sensor" --base-dir "$work/store" --config "$work/sensor.json" --status-interval 0 \
  2>"$work/sensor.err" &
spid=$!
hz=$(getconf CLK_TCK)
for _ in $(seq 1 100); do grep -q "recording on node" "$work/sensor.err" && break; sleep 0.1; done
start=$(date +%s.%N)
for _ in $(seq 1 "$rounds"); do make -s -C "$proj" clean >/dev/null; make -s -C "$proj" -j2 >/dev/null; done
end=$(date +%s.%N)
sleep 11  # let the last window close on its own schedule (lag is measured there)
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$spid/stat")
kill -TERM "$spid"; wait "$spid" || true
out="$work/store/RITMA_OUT"
sealed=$(( $(du -sb --apparent-size "$out/windows" | cut -f1) + $(stat -c %s "$out/log/windows.log" "$out/log/checkpoints.log" | paste -sd+ | bc) ))
derived=$(du -sb --apparent-size "$out/index" "$out/catalog" "$out/accounting" 2>/dev/null | awk '{s+=$1} END {print s+0}')
raw=0
for b in $(find "$out/windows" -name '*.zst'); do raw=$(( raw + $(zstd -dc "$b" | wc -c) )); done
verify_json=$("$ritma" verify --store --base-dir "$work/store" --json)
events=$(echo "$verify_json" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "workload: $rounds x (make clean; make -j2) of 40 C files in $(echo "$end - $start" | bc) s"
grep -E "sealed [0-9]+ windows" "$work/sensor.err" || true
echo "events sealed:        $events"
echo "sealed bytes:         $sealed (windows/ + window log + checkpoint log)"
echo "derived bytes:        $derived (index/, catalog/, accounting/; not counted above)"
echo "atom bytes (raw):     $raw"
echo "bytes per event:      $(echo "scale=2; $sealed / $events" | bc)   (target <= 16; zstd level $level)"
echo "sensor CPU:           $(echo "scale=2; $cpu_ticks / $hz" | bc) s over the run (capture, hot index, sealing)"
echo "raw bytes per event:  $(echo "scale=2; $raw / $events" | bc)"
echo "verify:               $(echo "$verify_json" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j.get("events_per_second", "?"), "events/s")')"
