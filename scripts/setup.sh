#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks and builds zerocast in build/.
#   scripts/setup.sh            (as root, or with sudo available)
# ZC_WERROR=true builds with warnings as errors (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config gcc clang libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-pipewire
  pipewire pipewire-bin wireplumber libpipewire-0.3-dev libspa-0.2-dev
  libsoup-3.0-dev libjson-glib-dev glib-networking libegl-dev libgles-dev libdrm-dev dbus
  mutter libwayland-dev wayland-protocols chromium python3 procps clang-format
  libclang-rt-14-dev
)

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
