#!/usr/bin/env bash
# The main job on the embedded default: set up (install what is missing, build), show what
# this kernel allows (`ritma doctor`), then run the sensor recording into a local store under
# ./ritma-data (override with RITMA_BASE_DIR). Extra arguments go to ritma-sensor, e.g.
# `scripts/run.sh --duration 1m`. Stop it with Ctrl-C.
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
MSG
exec ./build/src/ritma-sensor "$@"
