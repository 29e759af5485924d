#!/usr/bin/env bash
# Input-to-photon latency at 720p and 1080p with a software encoder
# (bench/input/latency.mjs does the measuring), each size on its own
# private headless Mutter.
#
#   bench/input/run.sh [BUILD_DIR] [SAMPLES] [ENCODER]   (default build 100 x264enc)
#
# Prints a Markdown table (for BENCHMARKS.md). Needs `npm ci --prefix tests/e2e`.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
samples=${2:-100}
encoder=${3:-x264enc}

echo "| size | mode | encoder | presses | p50 ms | p90 ms | p99 ms | min ms | max ms | press->app | ->painted | painted->captured | captured->shown | captured->received | received->shown | arrived after | load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for size in 1280x720 1920x1080; do
  line=$("$build/tests/tools/zc-run-session" --mutter "$size" --timeout 600 -- \
    node bench/input/latency.mjs "$build" "$samples" "$encoder" | tail -n 1) || {
    echo "| $size | failed: see the output above | | | | | | | | | | | | | | | |"
    continue
  }
  node -e 'const r = JSON.parse(process.argv[1]); const f = (v) => v.toFixed(1);
    const g = (v) => (v === null ? "-" : v.toFixed(1));
    console.log(`| ${r.size} | ${r.mode} | ${r.encoder} | ${r.samples} | ${f(r.p50)} | ` +
      `${f(r.p90)} | ${f(r.p99)} | ${f(r.min)} | ${f(r.max)} | ${g(r.pressToApp)} | ` +
      `${g(r.pressToPainted)} | ${g(r.paintedToCaptured)} | ${g(r.capturedToShown)} | ` +
      `${g(r.capturedToReceived)} | ${g(r.receivedToShown)} | ${g(r.arrivedAfter)} | ${r.load} |`);' "$line"
done
