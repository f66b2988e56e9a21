#!/usr/bin/env bash
# The main job on the embedded default: set up (install what is missing, build), then run it.
# Today that is `ritma doctor` (what this kernel allows for recording and sandboxing, measured
# by trying); when the sensor lands it will be the sensor recording into a local store.
# Extra arguments go to `ritma doctor` (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./build/src/ritma doctor "$@"
