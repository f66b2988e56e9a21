#!/usr/bin/env bash
# The main job on the embedded default: set up (install what is missing, build), show what
# this kernel allows (`ritma doctor`), then run the sensor recording into a local store under
# ./ritma-data (override with RITMA_BASE_DIR), with the web viewer (`ritma serve`) over that
# store on 127.0.0.1 (port 8787, or a free one; RITMA_VIEWER=0 to skip it). Extra arguments go
# to ritma-sensor, e.g. `scripts/run.sh --duration 1m`. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RITMA_BASE_DIR="${RITMA_BASE_DIR:-$PWD/ritma-data}"
export RITMA_SIDECAR_LOCK_DIR="${RITMA_SIDECAR_LOCK_DIR:-$RITMA_BASE_DIR/locks}"
./build/src/ritma doctor
echo
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: the sensor needs root (or CAP_BPF + CAP_PERFMON); run: sudo $0 $*" >&2
  exit 1
fi
cat <<MSG
Recording into $RITMA_BASE_DIR. In another terminal:
  RITMA_BASE_DIR=$RITMA_BASE_DIR ./build/src/ritma status
  RITMA_BASE_DIR=$RITMA_BASE_DIR ./build/src/ritma events --since 1m
  RITMA_BASE_DIR=$RITMA_BASE_DIR ./build/src/ritma events --type exec,connect --json
The viewer prints its address below ("ritma serve: http://127.0.0.1:PORT/") once the first
window is sealed; open it in a browser on this machine (ssh -L PORT:127.0.0.1:PORT from another).
MSG
if [ "${RITMA_VIEWER:-1}" = 0 ]; then
  exec ./build/src/ritma-sensor "$@"
fi
# The viewer reads the store the sensor writes: it needs the store to exist, so it starts once
# the sensor has sealed its first window, and stops when the sensor exits.
./build/src/ritma-sensor "$@" &
sensor=$!
viewer=
cleanup() {
  if [ -n "$viewer" ]; then kill "$viewer" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'kill -INT "$sensor" 2>/dev/null || true' INT
trap 'kill -TERM "$sensor" 2>/dev/null || true' TERM
(
  for _ in $(seq 1 60); do
    [ -f "$RITMA_BASE_DIR/RITMA_OUT/_meta/store.cbor" ] && break
    kill -0 "$sensor" 2>/dev/null || exit 0
    sleep 1
  done
  exec ./build/src/ritma serve --base-dir "$RITMA_BASE_DIR" --port "${RITMA_VIEWER_PORT:-8787}"
) &
viewer=$!
status=0
wait "$sensor" || status=$?
# A signal interrupts wait: wait again for the sensor to finish sealing.
while kill -0 "$sensor" 2>/dev/null; do wait "$sensor" || status=$?; done
exit "$status"
