#!/usr/bin/env bash
# Sensor CPU at a steady event rate, and capture under an event storm (needs root).
#
#   bench/sensor_load.sh [BUILD_DIR] [RATE] [SECONDS]
#
# 1. Steady load: a paced generator makes RATE traced events/s (open(O_CREAT) + close: one
#    event each) for SECONDS; the sensor's CPU time (utime+stime from /proc/PID/stat) over that
#    window is reported as % of one core, next to the generator's own CPU for scale.
#    Target (DESIGN §5): <= 2 % of a core at 10,000 events/s.
# 2. Storm: 4 unpaced generators for 5 s with the default 16 MiB ring buffer; reports events/s
#    captured and events lost (every loss is counted and recorded as a loss event).
set -euo pipefail
build="${1:-build}"
rate="${2:-10000}"
secs="${3:-10}"
sensor="$build/src/ritma-sensor"
[ -x "$sensor" ] || { echo "no $sensor; build first (scripts/setup.sh)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (loads BPF)" >&2; exit 2; }

base=$(mktemp -d /tmp/ritma-load.XXXXXX)
trap 'kill "$spid" 2>/dev/null || true; rm -rf "$base"' EXIT
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

gen() {  # gen RATE SECONDS DIR  (RATE 0 = unpaced)
  /usr/bin/python3 - "$@" <<'PY'
import os, sys, time
rate, secs, d = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
path = os.path.join(d, "f%d" % os.getpid())
n, start = 0, time.monotonic()
end = start + secs
while True:
    now = time.monotonic()
    if now >= end:
        break
    if rate:
        due = int((now - start) * rate)
        if n >= due:
            time.sleep(0.0005)
            continue
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
    n += 1
print(n)
PY
}

RITMA_NODE_ID=load RITMA_SIDECAR_LOCK_DIR="$base/locks" "$sensor" --base-dir "$base" \
  --status-interval 0 2>"$base/sensor.err" &
spid=$!
for _ in $(seq 100); do grep -q "recording on node" "$base/sensor.err" && break; sleep 0.1; done
sleep 1

t0=$(cpu_ticks "$spid")
gen "$rate" "$secs" "$base" > "$base/gen.out" &
gpid=$!
wait "$gpid"
t1=$(cpu_ticks "$spid")
made=$(cat "$base/gen.out")
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$secs" -v made="$made" -v rate="$rate" 'BEGIN {
  cpu = d / hz / s * 100
  printf "steady: %d events in %d s (%.0f/s, asked %d/s); sensor CPU %.2f %% of one core (target <= 2 %%): %s\n",
         made, s, made / s, rate, cpu, (cpu <= 2.0 ? "PASS" : "FAIL") }'

lost0=$(python3 -c "import json;print(json.load(open('$base/sensor.status.json'))['lost'])" 2>/dev/null || echo 0)
ev0=$(python3 -c "import json;print(json.load(open('$base/sensor.status.json'))['events'])" 2>/dev/null || echo 0)
for i in 1 2 3 4; do gen 0 5 "$base" > "$base/storm$i.out" & done
wait $(jobs -p | grep -v "^$spid$") 2>/dev/null || true
sleep 2.5
made=$(cat "$base"/storm*.out | awk '{s += $1} END {print s}')
ev1=$(python3 -c "import json;print(json.load(open('$base/sensor.status.json'))['events'])")
lost1=$(python3 -c "import json;print(json.load(open('$base/sensor.status.json'))['lost'])")
echo "storm: 4 generators made $made events in 5 s ($((made / 5))/s); sensor recorded $((ev1 - ev0)) events ($(((ev1 - ev0) / 5))/s), lost $((lost1 - lost0)) (counted and recorded as loss events)"
kill -TERM "$spid"
wait "$spid" || true
tail -1 "$base/sensor.err"
