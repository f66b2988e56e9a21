# shellcheck shell=bash
# Shared by the deployment tests (tests/deploy/*.sh): pass/fail/skip with the project's rule:
# a missing tool or privilege skips (exit 77) with a message, unless CI=true, where it fails.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = "true" ]; then fail "$* (CI=true: this test must run)"; fi
  echo "SKIP: $* (set CI=true to make this a failure)"
  exit 77
}
need_tool() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed (${2:-run scripts/setup.sh})"; }

# A temporary directory removed on exit.
make_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/ritma-deploy-test.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
}

# The capabilities ritma-sensor.service grants, from the unit itself (lower case, no CAP_):
# prints "bpf perfmon". Fails when AmbientCapabilities= and CapabilityBoundingSet= differ.
unit_caps() {
  local unit=$1 amb bnd
  amb=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
  bnd=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
  [ -n "$amb" ] || fail "$unit: no AmbientCapabilities="
  [ "$amb" = "$bnd" ] || fail "$unit: AmbientCapabilities= ($amb) differs from CapabilityBoundingSet= ($bnd)"
  echo "$amb" | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ *$//'
}
