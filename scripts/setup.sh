#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks and builds zerocast in build/.
#   scripts/setup.sh            (as root, or with sudo available)
# ZC_WERROR=true builds with warnings as errors (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

# One package list per Debian release (scripts/packages/RELEASE.txt, one name
# a line, '#' comments); the release matrix (scripts/test-release.sh)
# installs the same list in its chroots. ZC_RELEASE overrides the release
# read from /etc/os-release.
release="${ZC_RELEASE:-}"
if [ -z "$release" ]; then
  release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  case "$release" in
    ""|forky) grep -q sid /etc/debian_version 2>/dev/null && release=sid ;;
  esac
fi
list="scripts/packages/${release}.txt"
if [ ! -f "$list" ]; then
  echo "setup: no package list for Debian release '${release}' ($list); known: $(ls scripts/packages | sed 's/\.txt//' | tr '\n' ' ')" >&2
  exit 1
fi
mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror="${ZC_WERROR:-false}"
else
  meson configure build -Dwerror="${ZC_WERROR:-false}" >/dev/null
fi
ninja -C build

# The browser tests drive Debian's chromium with playwright-core (no browser
# download); the lock file pins it.
if [ -f tests/e2e/package-lock.json ] && [ ! -d tests/e2e/node_modules/playwright-core ]; then
  npm ci --prefix tests/e2e --no-audit --no-fund
fi
echo "setup: built in $(pwd)/build"
