#!/usr/bin/env bash
# Captures a headless GNOME desktop that it starts itself, through
# pipewirezerocopysrc, into an H.264 file.
#   scripts/capture-demo.sh [OUTPUT.mp4] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-zerocast-capture.mp4}")
seconds=${2:-5}
if [ -z "${ZC_NODE_ID:-}" ]; then
  exec build/tests/tools/zc-run-session --mutter 1280x720 --colours --screencast \
    --timeout $((seconds + 60)) -- "$0" "$out" "$seconds"
fi
export GST_PLUGIN_PATH=$(pwd)/build/gst
frames=$((seconds * 30))
gst-launch-1.0 -e pipewirezerocopysrc pipewire-node-id="$ZC_NODE_ID" num-buffers=$frames ! \
  videorate ! video/x-raw,framerate=30/1 ! videoconvert ! video/x-raw,format=I420 ! \
  x264enc tune=zerolatency speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location="$out"
echo "capture-demo: wrote $out"
