#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks, builds, and streams a private
# headless GNOME desktop to browsers: open the URL it prints. With the
# packages setup.sh installs that is GNOME Shell with a terminal
# (zerocast --headless picks it; --desktop mutter for bare Mutter).
#   scripts/run.sh [zerocast options]   (default: --headless, 127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- --headless
fi
exec build/server/zerocast "$@"
