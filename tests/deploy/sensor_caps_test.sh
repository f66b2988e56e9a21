#!/usr/bin/env bash
# ritma-sensor captures with exactly what ritma-sensor.service grants: an unprivileged uid (the
# unit's DynamicUser=), the unit's capabilities (read from the unit file, so the two cannot
# drift) as inheritable, ambient and bounding sets, no_new_privs, the unit's securebits and
# UMask=0077. Checks that the running sensor holds exactly those effective capabilities, that
# an exec made during the capture is recorded, and that the store's files are private.
# Needs root to set this up (and BPF): skips without it, fails instead with CI=true.
#   sensor_caps_test.sh SOURCE_DIR RITMA_SENSOR_BIN RITMA_BIN
. "$(dirname "$0")/lib.sh"
src=$1 sensor=$2 ritma=$3
unit=$src/deploy/systemd/ritma-sensor.service
[ "$(id -u)" = 0 ] || skip "needs root to load BPF programs (run as root)"
need_tool setpriv "Debian package util-linux"
caps=$(unit_caps "$unit")
grep -q '^NoNewPrivileges=yes$' "$unit" || fail "the unit does not set NoNewPrivileges=yes"
grep -q '^DynamicUser=yes$' "$unit" || fail "the unit does not run as DynamicUser=yes"
grep -q '^UMask=0077$' "$unit" || fail "the unit does not set UMask=0077"
grep -q '^SecureBits=noroot-locked$' "$unit" || fail "the unit's SecureBits= changed"
make_tmp
chmod 0755 "$TMP"
# A uid from systemd's DynamicUser= range, owning nothing else on this machine.
uid=61999
base=$TMP/store locks=$TMP/locks
mkdir -m 0700 "$base" "$locks"
chown "$uid:$uid" "$base" "$locks"

set_list=$(printf '+%s,' $caps | sed 's/,$//')
echo "capabilities from the unit: $caps"
(
  umask 0077
  exec env -i PATH=/usr/bin:/bin RITMA_NODE_ID=deploy-caps RITMA_SIDECAR_LOCK_DIR="$locks" \
    setpriv --reuid=$uid --regid=$uid --clear-groups \
      --inh-caps=-all,$set_list --ambient-caps=-all,$set_list --bounding-set=-all,$set_list \
      --securebits=+noroot,+noroot_locked --no-new-privs \
      "$sensor" --base-dir "$base" --duration 8s --status-interval 0
) >"$TMP/sensor.log" 2>&1 &
spid=$!
for _ in $(seq 1 100); do
  grep -q 'recording on node' "$TMP/sensor.log" && break
  kill -0 $spid 2>/dev/null || break
  sleep 0.1
done
grep -q 'recording on node' "$TMP/sensor.log" || { wait $spid || true;
  fail "the sensor did not start recording: $(cat "$TMP/sensor.log")"; }

# The sensor's effective capabilities are exactly the unit's: no more (and no root).
declare -A capbit=([chown]=0 [dac_override]=1 [dac_read_search]=2 [sys_ptrace]=19
                   [sys_admin]=21 [sys_resource]=24 [perfmon]=38 [bpf]=39)
want=0
for c in $caps; do
  [ -n "${capbit[$c]:-}" ] || fail "unknown capability $c (add it to the table)"
  want=$(( want | (1 << ${capbit[$c]}) ))
done
spid_sensor=$(pgrep -u $uid -f "^$sensor " | head -n1)
[ -n "$spid_sensor" ] || fail "no sensor process running as uid $uid"
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$spid_sensor/status)
[ $(( 16#$eff )) -eq $want ] || fail "sensor CapEff $eff, expected $(printf '%016x' $want)"
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$spid_sensor/status || fail "no_new_privs not set"
echo "sensor pid $spid_sensor: uid $uid, CapEff $eff, NoNewPrivs 1"

marker="ritma-deploy-marker-$$-$RANDOM"
/bin/echo "$marker" >/dev/null
wait $spid || fail "the sensor failed: $(cat "$TMP/sensor.log")"
grep -q 'sealed ' "$TMP/sensor.log" || fail "the sensor sealed nothing: $(cat "$TMP/sensor.log")"

events=$("$ritma" events --base-dir "$base" --limit 0 --json) || fail "ritma events failed"
count=$(printf '%s\n' "$events" | grep -c . || true)
[ "$count" -gt 0 ] || fail "no events recorded"
grep '"type":"exec"' <<<"$events" | grep -F "\"argv\":[\"/bin/echo\",\"$marker\"]" >/dev/null ||
  fail "the exec of /bin/echo $marker was not recorded ($count events)"
echo "$count events recorded; the marker exec is among them"
# UMask=0077: no directory of the store lets others in. (Some files are written 0644 whatever
# the umask, e.g. log/checkpoint; the directories keep them private.)
leaky=$(find "$base" -type d -perm /o+rwx -print | head -n3)
[ -z "$leaky" ] || fail "store directories accessible to others: $leaky"
echo "PASS: captures with capabilities ($caps), no_new_privs, uid $uid"
