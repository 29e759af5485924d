#!/usr/bin/env bash
# Installs, builds (warnings as errors) and runs every test suite.
#   scripts/test.sh [meson test arguments, e.g. --suite element]
# Each suite starts the private dbus / PipeWire / WirePlumber / headless Mutter
# it needs and stops it afterwards; tests that need a GPU exit 77 (skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
ZC_WERROR=true scripts/setup.sh
# Tests that start Mutter or Chromium are marked not parallel; the rest run
# two at a time on a 2-core machine.
meson test -C build --print-errorlogs --num-processes 2 "$@"
