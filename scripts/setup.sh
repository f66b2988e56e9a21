#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of Ritma from Debian's packages, then
# builds (the `default` CMake preset into build/). Idempotent and non-interactive: when every
# package is present it installs nothing; otherwise it runs `apt-get update` and installs what
# is missing. Needs root (or sudo) only to install.
#
#   scripts/setup.sh               install what is missing, then build
#   scripts/setup.sh --deps-only   install what is missing, do not build
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
case "${1:-}" in
  --deps-only) build=0 ;;
  "") ;;
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  *) echo "setup: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev clang-format
  # crypto, compression, storage
  libssl-dev libsodium-dev librust-blake3-dev libzstd-dev libsqlite3-dev libarchive-dev
  # eBPF and sandboxing
  libbpf-dev bpftool libelf-dev zlib1g-dev libseccomp-dev
  # encoding, CLI, HTTP
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  # tests and benchmarks (independent implementations we check against)
  libgtest-dev libgmock-dev libbenchmark-dev b3sum python3 python3-nacl python3-cbor2 coreutils hyperfine
  bpftrace sqlite3 util-linux zstd bc make
  # Requiem's bundles: the link is checked by Debian's stock in-toto-verify (tests/exec)
  in-toto
  # the control plane's bearer tokens: PyJWT makes the tokens the verifier must accept (tests/api)
  python3-jwt python3-cryptography
  # the control plane's PostgreSQL backend (libpq) and the real PostgreSQL 15 its tests start
  libpq-dev postgresql
  # the sandbox benchmark runs bubblewrap beside requiem exec (bench/requiem_exec.sh)
  bubblewrap
  # deployment tests (tests/deploy): systemd-analyze, apparmor_parser, the .deb, manifests
  systemd apparmor dpkg-dev file python3-yaml
  # the viewer's browser test (tests/viewer): headless Chromium (node and npm: below)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node and npm for the viewer's browser test: Debian's, unless a node with its own npm is there.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

install_missing() {

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run as root (or install sudo) so they can be installed" >&2
    exit 1
  fi
fi
echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: packages installed"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
else
  install_missing
fi

# playwright-core (pinned in tests/viewer/package.json) drives Debian's chromium in the viewer's
# browser test; it goes into tests/viewer/node_modules (git-ignored), never system-wide.
if [ ! -f tests/viewer/node_modules/playwright-core/package.json ] ||
   ! grep -q "\"version\": \"$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' tests/viewer/package.json)\"" \
     tests/viewer/node_modules/playwright-core/package.json; then
  echo "setup: installing playwright-core into tests/viewer/node_modules"
  (cd tests/viewer && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi

if [ $build = 1 ]; then
  # CI runs no benchmark, so with CI=true the benchmark programs are not built (~45 CPU-seconds
  # of a 2-core run whose every CPU-second counts); anywhere else they are.
  bench=ON
  [ "${CI:-}" = true ] && bench=OFF
  cmake --preset default -DRITMA_BENCH=$bench >/dev/null
  cmake --build --preset default
fi
