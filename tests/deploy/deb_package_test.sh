#!/usr/bin/env bash
# The .deb (cmake/Install.cmake, CPack's DEB generator) builds from the already-built programs
# and holds the programs, the units, the configuration and the AppArmor profile, with its
# maintainer scripts, conffiles and library dependencies.
#   deb_package_test.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
build=$1
need_tool cpack "Debian package cmake"
need_tool dpkg-deb "Debian package dpkg"
need_tool dpkg-shlibdeps "Debian package dpkg-dev"
make_tmp
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake missing (configure first)"
# gzip instead of xz: the same package, built in seconds.
(cd "$build" && cpack -G DEB -B "$TMP/pkg" -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip) \
  >"$TMP/cpack.log" 2>&1 || fail "cpack -G DEB failed: $(cat "$TMP/cpack.log")"
deb=$(ls "$TMP"/pkg/ritma_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || fail "no ritma_*.deb produced: $(cat "$TMP/cpack.log")"
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

contents=$(dpkg-deb -c "$deb")
paths=$(printf '%s\n' "$contents" | awk '{print $NF}')
for f in ./usr/bin/ritma ./usr/bin/ritma-sensor ./usr/bin/requiem ./usr/bin/requiem-serve \
         ./usr/lib/systemd/system/ritma-sensor.service \
         ./usr/lib/systemd/system/ritma-retention.service \
         ./usr/lib/systemd/system/ritma-retention.timer \
         ./etc/ritma/ritma.env ./etc/ritma/retention.env ./etc/apparmor.d/ritma-sensor \
         ./usr/share/doc/ritma/DEPLOY.md; do
  grep -qxF "$f" <<<"$paths" || fail "$f not in the package"
done
grep -q "^\./$(basename "$build")" <<<"$paths" &&
  fail "the package holds build-tree paths"
grep -E ' \./usr/bin/ritma-sensor$' <<<"$contents" | grep '^-rwxr-xr-x root/root' >/dev/null ||
  fail "ritma-sensor is not root:root 0755 in the package"

[ "$(dpkg-deb -f "$deb" Package)" = ritma ] || fail "package name is not ritma"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libbpf1 libsodium23 libsqlite3-0 libzstd1 libssl3 libarchive13; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib"
done
dpkg-deb -e "$deb" "$TMP/control"
for f in postinst prerm postrm conffiles; do [ -f "$TMP/control/$f" ] || fail "no $f"; done
for f in /etc/ritma/ritma.env /etc/ritma/retention.env /etc/apparmor.d/ritma-sensor; do
  grep -qxF "$f" "$TMP/control/conffiles" || fail "$f is not a conffile"
done
grep -q 'apparmor_parser -r' "$TMP/control/postinst" || fail "postinst does not load the profile"
# The postinst must not fail where AppArmor and systemd are absent (containers, chroots).
sh -n "$TMP/control/postinst" || fail "postinst is not valid sh"
echo "PASS: .deb contents, dependencies and maintainer scripts"
