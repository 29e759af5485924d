#!/usr/bin/env bash
# Side-by-side capture benchmark: one zc-test-producer, the same frames
# consumed at once by upstream pipewiresrc and by pipewirezerocopysrc
# output-mode=system, each in its own process so CPU time is its own.
#
#   bench/element/run.sh [BUILD_DIR] [SECONDS] [FPS]
#
# Prints a Markdown table (for BENCHMARKS.md). Starts and stops its own
# private PipeWire + WirePlumber through zc-run-session.
set -euo pipefail
build=$(realpath "${1:-build}")
seconds=${2:-10}
fps=${3:-60}

if [ -z "${ZC_BENCH_INNER:-}" ]; then
  export ZC_BENCH_INNER=1
  exec "$build/tests/tools/zc-run-session" --timeout 600 -- "$0" "$build" "$seconds" "$fps"
fi

export GST_PLUGIN_PATH="$build/gst"
export GST_REGISTRY="$build/bench/gst-registry.bin"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo "| size | element | fps | CPU µs/frame | bytes copied/frame |"
echo "|---|---|---|---|---|"
for size in 1280x720 1920x1080; do
  mkfifo "$tmp/in-$size"
  "$build/tests/producer/zc-test-producer" --name "bench-$size" --size "$size" \
    --fps "$fps" < "$tmp/in-$size" > "$tmp/out-$size" &
  exec 3> "$tmp/in-$size"        # keep the producer's stdin open
  for _ in $(seq 100); do grep -q READY "$tmp/out-$size" && break; sleep 0.1; done
  node=$(awk '/READY/ {print $2}' "$tmp/out-$size")
  [ -n "$node" ] || { echo "producer did not start" >&2; exit 1; }
  for el in pipewiresrc pipewirezerocopysrc; do
    "$build/bench/element/zc-bench-consumer" --element $el --node "$node" \
      --seconds "$seconds" > "$tmp/$el-$size.json" &
  done
  wait $(jobs -p | tail -n 2)
  for el in pipewiresrc pipewirezerocopysrc; do
    python3 - "$size" "$tmp/$el-$size.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
b = r["bytes_copied_per_frame"]
print(f"| {sys.argv[1]} | {r['element']} | {r['fps']:.1f} | {r['cpu_us_per_frame']:.1f} | {'not reported' if b is None else b} |")
PY
  done
  exec 3>&-
  wait
done
