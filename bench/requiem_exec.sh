#!/usr/bin/env bash
# `requiem exec /bin/true` with the full sandbox against bubblewrap with comparable namespaces,
# side by side, interleaved round by round (these machines are noisy), as root
# (docs/PERFORMANCE.md, "Requiem exec"):
#
#   cmake --build --preset default --target requiem
#   bench/requiem_exec.sh [BUILD_DIR] [RUNS]
#
#   requiem: requiem exec --no-trace -- /bin/true   (user, mount, pid, ipc, uts, net namespaces,
#            pivot_root, read-only root, /proc, /dev, /tmp, seccomp, Landlock, rlimits, cgroups
#            for memory/pids/CPU, the child's report, the CAS and the signed bundle)
#   traced:  the same with the kernel trace (the BPF programs loaded for the run)
#   bwrap:   bwrap --unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc
#            --dev /dev --tmpfs /tmp /bin/true  (namespaces and mounts only: no seccomp, no
#            cgroups, no limits, nothing recorded or signed)
# Prints p50 and p99 of each (ms) and the ratios requiem/bwrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-$(cd "$here/.." && pwd)/build}
runs=${2:-200}
requiem=$build_dir/src/requiem
command -v bwrap >/dev/null || { echo "requiem_exec: bwrap missing (apt-get install bubblewrap)" >&2; exit 2; }
[ -x "$requiem" ] || { echo "requiem_exec: $requiem not built" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "requiem_exec: run as root (cgroups, BPF)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ws"
# A throwaway signing key, in core/key_file.h's format.
"$build_dir/src/ritma" keys init --base-dir "$work/keys" --node-id bench >/dev/null
key=$work/keys/RITMA_OUT/_meta/keys/node.key

now_ms() { date +%s%N; }
: > "$work/requiem.txt"; : > "$work/traced.txt"; : > "$work/bwrap.txt"
for ((i = 0; i < runs; i++)); do
  t0=$(now_ms)
  "$requiem" exec --no-trace --key "$key" --state-dir "$work/state" --workspace "$work/ws" -- /bin/true 2>/dev/null
  t1=$(now_ms)
  bwrap --unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc --dev /dev \
    --tmpfs /tmp /bin/true
  t2=$(now_ms)
  echo $(( (t1 - t0) )) >> "$work/requiem.txt"
  echo $(( (t2 - t1) )) >> "$work/bwrap.txt"
  if (( i % 10 == 0 )); then
    t3=$(now_ms)
    "$requiem" exec --key "$key" --state-dir "$work/state" --workspace "$work/ws" -- /bin/true 2>/dev/null
    t4=$(now_ms)
    echo $(( (t4 - t3) )) >> "$work/traced.txt"
  fi
done
/usr/bin/python3 - "$work" "$runs" <<'PY'
import sys
work, runs = sys.argv[1], int(sys.argv[2])
def load(n):
    v = sorted(int(x) / 1e6 for x in open(f"{work}/{n}.txt"))
    return v
def pct(v, p):
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
r, b, t = load("requiem"), load("bwrap"), load("traced")
print(f"runs: {runs} interleaved (traced: every 10th)")
for name, v in (("requiem exec (full sandbox, no trace)", r), ("requiem exec (with kernel trace)", t), ("bwrap --unshare-all", b)):
    print(f"{name:40s} p50 {pct(v,50):8.2f} ms   p99 {pct(v,99):8.2f} ms   n={len(v)}")
print(f"ratio requiem/bwrap: p50 {pct(r,50)/pct(b,50):.2f}   p99 {pct(r,99)/pct(b,99):.2f}")
PY
