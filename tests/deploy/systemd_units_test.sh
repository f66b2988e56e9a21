#!/usr/bin/env bash
# The systemd units (deploy/systemd): `systemd-analyze security --offline=yes` rates
# ritma-sensor.service at an exposure of at most 2.0, and `systemd-analyze verify` accepts every
# unit as `cmake --install` installs it (the binaries really in place), with no warning.
#   systemd_units_test.sh SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/lib.sh"
src=$1 build=$2
need_tool systemd-analyze "Debian package systemd"
make_tmp
units=(ritma-sensor.service ritma-retention.service ritma-retention.timer)
max_exposure=2.0

# 1. Exposure of the sensor unit, from the file in the repository.
out=$(cd "$src/deploy/systemd" && systemd-analyze security --offline=yes --no-pager \
        ritma-sensor.service 2>&1) || fail "systemd-analyze security failed: $out"
line=$(printf '%s\n' "$out" | grep 'Overall exposure level for ritma-sensor.service') ||
  fail "no overall exposure line in: $out"
echo "$line"
exposure=$(printf '%s\n' "$line" | sed -n 's/.*ritma-sensor.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "cannot read the exposure from: $line"
awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' ||
  fail "exposure $exposure is above $max_exposure"$'\n'"$(printf '%s\n' "$out" | grep '✗')"

# 2. verify, on the installed units, in a root holding the real binaries and systemd's own
#    units (verify resolves ExecStart= and the default dependencies inside --root).
root=$TMP/root
DESTDIR=$root cmake --install "$build" --prefix /usr >"$TMP/install.log" 2>&1 ||
  fail "cmake --install failed: $(cat "$TMP/install.log")"
for u in "${units[@]}"; do
  [ -f "$root/usr/lib/systemd/system/$u" ] || fail "$u not installed to /usr/lib/systemd/system"
  cmp -s "$src/deploy/systemd/$u" "$root/usr/lib/systemd/system/$u" ||
    fail "$u installed with prefix /usr differs from deploy/systemd/$u"
done
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [ -d "$d" ]; then cp -rn "$d/." "$root/usr/lib/systemd/system/" 2>/dev/null || true; break; fi
done
out=$(systemd-analyze verify --root="$root" --man=no "${units[@]}" 2>&1) ||
  fail "systemd-analyze verify rejected the units: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
echo "systemd-analyze verify: ${units[*]} accepted"

# 3. Under another prefix, ExecStart= follows the binaries.
local_root=$TMP/local
DESTDIR=$local_root cmake --install "$build" --prefix /usr/local >"$TMP/install2.log" 2>&1 ||
  fail "cmake --install --prefix /usr/local failed: $(cat "$TMP/install2.log")"
grep -q '^ExecStart=/usr/local/bin/ritma-sensor ' \
  "$local_root/usr/local/lib/systemd/system/ritma-sensor.service" ||
  fail "ExecStart= not rewritten for prefix /usr/local"
[ -x "$local_root/usr/local/bin/ritma-sensor" ] || fail "ritma-sensor not in /usr/local/bin"
[ -f "$local_root/etc/ritma/ritma.env" ] || fail "/etc/ritma/ritma.env not installed"
echo "PASS: exposure $exposure <= $max_exposure; units verified"
