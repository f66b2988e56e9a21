#!/usr/bin/env bash
# The AppArmor profile (deploy/apparmor/ritma-sensor) parses (`apparmor_parser -Q -T`: parse
# and compile, load nothing, no cache), attaches to the installed binary, grants exactly the
# capabilities ritma-sensor.service grants, and covers the unit's writable paths.
#   apparmor_profile_test.sh SOURCE_DIR
. "$(dirname "$0")/lib.sh"
src=$1
profile=$src/deploy/apparmor/ritma-sensor
unit=$src/deploy/systemd/ritma-sensor.service
[ -x /usr/sbin/apparmor_parser ] || PATH=$PATH:/usr/sbin
need_tool apparmor_parser "Debian package apparmor; scripts/setup.sh installs it"
out=$(apparmor_parser -Q -T -K "$profile" 2>&1) || fail "apparmor_parser rejected the profile: $out"
echo "apparmor_parser -Q -T: ritma-sensor parses"

grep -Eq '^profile ritma-sensor /usr/\{,local/\}bin/ritma-sensor \{' "$profile" ||
  fail "the profile does not attach to /usr/{,local/}bin/ritma-sensor"
granted=$(sed -n 's/^ *capability \([a-z_]*\),.*/\1/p' "$profile" | sort | tr '\n' ' ' | sed 's/ *$//')
expected=$(unit_caps "$unit" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ *$//')
[ "$granted" = "$expected" ] ||
  fail "the profile allows capabilities '$granted', the unit grants '$expected'"
for p in $(sed -n 's/^ReadWritePaths=//p' "$unit"); do
  grep -Eq "^ *${p}/\*\* rwk," "$profile" || fail "the profile does not let the sensor write $p"
done
grep -q '^AppArmorProfile=-ritma-sensor$' "$unit" ||
  fail "the unit must ask for the profile as optional (AppArmorProfile=-ritma-sensor)"
echo "PASS: profile parses; capabilities ($granted) and writable paths match the unit"
