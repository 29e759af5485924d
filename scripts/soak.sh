#!/usr/bin/env bash
# Soak: zerocast streams a 1080p desktop for MINUTES (default 30) while
# viewers join and leave (tests/reliability/zc-soak-viewers); its RSS, open
# fds and viewer count are sampled every 5 s into a CSV, then plotted.
#
#   scripts/soak.sh [MINUTES] [OUT_DIR]            (not part of CI)
#
# Env: ZC_SOAK_BUILD (default build), ZC_SOAK_SOURCE (default
# "--headless 1920x1080 --desktop mutter": a private headless Mutter with
# the test window, as the soak was measured), ZC_SOAK_VIEWERS
# (most viewers at once, default 8). OUT_DIR (default docs/) gets
# soak.csv, soak.png and soak-report.txt (growth per hour of RSS and fds
# over the second half of the run, where warm-up is over).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
out=${2:-docs}
build=${ZC_SOAK_BUILD:-build}
source_args=${ZC_SOAK_SOURCE:---headless 1920x1080 --desktop mutter}
max_viewers=${ZC_SOAK_VIEWERS:-8}
mkdir -p "$out"

for f in "$build/server/zerocast" "$build/tests/reliability/zc-soak-viewers"; do
  if [ ! -x "$f" ]; then
    echo "soak.sh: $f is missing: build first (ninja -C $build)" >&2
    exit 1
  fi
done

log=$(mktemp /tmp/zc-soak-XXXXXX.log)
# shellcheck disable=SC2086 # source_args is a list of arguments
"$build/server/zerocast" $source_args --listen 127.0.0.1:0 > "$log" 2>&1 &
zc=$!
viewers_pid=
cleanup() {
  [ -n "$viewers_pid" ] && kill "$viewers_pid" 2>/dev/null || true
  kill "$zc" 2>/dev/null || true
  wait "$zc" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # so that the EXIT trap stops zerocast too

# Wait for the "serving" line, with a deadline.
url=
for _ in $(seq 1 600); do
  url=$(sed -n 's/^zerocast: serving \(http:[^ ]*\).*/\1/p' "$log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$zc" 2>/dev/null || { cat "$log" >&2; echo "soak.sh: zerocast exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log" >&2; echo "soak.sh: zerocast did not start within 60 s" >&2; exit 1; }
ws="ws://${url#http://}ws"
echo "soak.sh: $minutes min of $source_args at $url (log $log)"

"$build/tests/reliability/zc-soak-viewers" "$ws" $((minutes * 60)) "$max_viewers" \
  > "$out/soak-viewers.txt" 2>&1 &
viewers_pid=$!

csv=$out/soak.csv
echo "seconds,rss_kb,fds,viewers,frames_encoded" > "$csv"
start=$(date +%s)
while kill -0 "$viewers_pid" 2>/dev/null; do
  if ! kill -0 "$zc" 2>/dev/null; then
    echo "soak.sh: zerocast died during the soak; see $log" >&2
    exit 1
  fi
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$zc/status")
  fds=$(ls "/proc/$zc/fd" | wc -l)
  metrics=$(curl -s --max-time 2 "${url}metrics" || true)
  viewers=$(awk '$1 == "zerocast_viewers" {print $2}' <<<"$metrics")
  frames=$(awk '$1 == "zerocast_frames_encoded_total" {print $2}' <<<"$metrics")
  echo "$(( $(date +%s) - start )),$rss,$fds,${viewers:-},${frames:-}" >> "$csv"
  sleep 5
done
viewers_status=0
wait "$viewers_pid" || viewers_status=$?
viewers_pid=
kill "$zc"
zc_status=0
wait "$zc" || zc_status=$?
trap - EXIT

/usr/bin/python3 scripts/soak-plot.py "$csv" "$out/soak.png" "$minutes min, $source_args" \
  | tee "$out/soak-report.txt"
{
  echo "viewers: $(tail -1 "$out/soak-viewers.txt") (exit $viewers_status)"
  echo "zerocast exit status on SIGTERM: $zc_status"
} | tee -a "$out/soak-report.txt"
[ "$viewers_status" = 0 ] && [ "$zc_status" = 0 ]
