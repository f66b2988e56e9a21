#!/usr/bin/env bash
# `requiem serve` under wrk (Debian's `wrk`), as root, against SQLite with auditing on
# (docs/PERFORMANCE.md, "requiem serve under wrk"):
#
#   cmake --build --preset default --target requiem requiem-serve ritma
#   bench/serve_wrk.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#
# Three runs side by side on one server, each with HS256 tokens verified on every request:
#   healthz:  GET /healthz (the HTTP layer alone: the baseline)
#   read:     GET /v1/executions/{id} (token, a tenant read transaction)
#   exec:     POST /v1/executions of a minimal tool (/bin/true, no trace): token, admission
#             (rate bucket, budget, execution row, audit record) in one durable transaction,
#             the sandboxed run, the signed bundle, the settle transaction with its audit record
# and, as the engine's own baseline, `requiem exec --no-trace -- /bin/true` run back to back.
# Prints requests/s and latency percentiles of each, the ratios, and `requiem audit verify` of
# the log afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-$(cd "$here/.." && pwd)/build}
seconds=${2:-15}
conns=${3:-8}
command -v wrk >/dev/null || { echo "serve_wrk: wrk missing (apt-get install wrk)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "serve_wrk: run as root (the sandbox's cgroups)" >&2; exit 2; }
for p in requiem requiem-serve ritma; do
  [ -x "$build_dir/src/$p" ] || { echo "serve_wrk: $build_dir/src/$p not built" >&2; exit 2; }
done

work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$build_dir/src/ritma" keys init --base-dir "$work/keys" --node-id bench >/dev/null
key=$work/keys/RITMA_OUT/_meta/keys/node.key
pub=$work/keys/RITMA_OUT/_meta/keys/node.pub
head -c 48 /dev/urandom | base64 | tr -d '\n' > "$work/hs.secret"
chmod 600 "$work/hs.secret"
cat > "$work/config.json" <<JSON
{"auth": {"issuer": "bench", "audience": "requiem", "hs256_secret_file": "$work/hs.secret"},
 "max_concurrent_runs": 2,
 "budget": {"max_executions": 100000000, "max_cpu_seconds": 100000000,
            "max_wall_seconds": 100000000, "max_output_bytes": 100000000000,
            "rate_per_second": 1000000, "burst": 1000000},
 "audit": {"checkpoint_every": 1000, "checkpoint_interval_ms": 1000},
 "tools": [{"name": "true", "version": "1.0.0", "command": ["/bin/true"], "trace": false}]}
JSON
"$build_dir/src/requiem" serve --config "$work/config.json" --db "sqlite:$work/serve.db" \
  --state-dir "$work/state" --key "$key" --bind 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 100); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
addr=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listening"])' "$work/serve.out")
token=$(/usr/bin/python3 - "$work/hs.secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
secret = open(sys.argv[1], "rb").read()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
c = b(json.dumps({"iss": "bench", "aud": "requiem", "sub": "bench", "tenant": "bench",
                  "exp": int(time.time()) + 3600}).encode())
s = b(hmac.new(secret, f"{h}.{c}".encode(), hashlib.sha256).digest())
print(f"{h}.{c}.{s}")
PY
)
id=$(curl -sf -X POST -H "Authorization: Bearer $token" -d '{"tool":"true"}' "http://$addr/v1/executions" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"tool":"true"}'
wrk.headers["Content-Type"] = "application/json"
LUA

run() {  # NAME ARGS...
  local name=$1; shift
  wrk -t2 -c"$conns" -d"${seconds}s" --latency "$@" > "$work/$name.txt"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$name.txt")
  printf '%-8s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" > "$work/$name.rps"
}
echo "requiem serve under wrk: $conns connections, ${seconds}s each, 2 wrk threads, $(nproc) cores"
run healthz "http://$addr/healthz"
run read -H "Authorization: Bearer $token" "http://$addr/v1/executions/$id"
run exec -H "Authorization: Bearer $token" -s "$work/post.lua" "http://$addr/v1/executions"

# The engine alone, back to back (no HTTP, no database).
mkdir -p "$work/ws"
n=0; t0=$(date +%s%N)
while (( $(date +%s%N) - t0 < seconds * 1000000000 )); do
  "$build_dir/src/requiem" exec --no-trace --key "$key" --state-dir "$work/cli" \
    --workspace "$work/ws" -- /bin/true 2>/dev/null
  n=$((n + 1))
done
cli_rps=$(awk -v n="$n" -v ns="$(( $(date +%s%N) - t0 ))" 'BEGIN {printf "%.2f", n / (ns / 1e9)}')
printf '%-8s %10s req/s   (requiem exec, one at a time)\n' "cli" "$cli_rps"
awk -v h="$(cat "$work/healthz.rps")" -v r="$(cat "$work/read.rps")" -v e="$(cat "$work/exec.rps")" \
    -v c="$cli_rps" 'BEGIN {
  printf "ratios: read/healthz %.3f   exec/healthz %.4f   exec/cli %.2f\n", r / h, e / h, e / c }'

kill "$server"; wait "$server" 2>/dev/null || true; server=
if "$build_dir/src/requiem" audit verify --db "sqlite:$work/serve.db" --key "$pub" --json > "$work/verify.json"; then
  echo "audit verify: ok, $(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$work/verify.json") records"
else
  echo "audit verify: FAILED"; cat "$work/verify.json"; exit 1
fi
