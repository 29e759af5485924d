#!/usr/bin/env bash
# The two desktops `zerocast --headless` can start, side by side: bare
# Mutter with the test window, and GNOME Shell with a terminal. For each:
# seconds until zerocast serves and until it streams, then over SECONDS of
# an idle desktop (no viewer, nothing moving) the CPU of the whole session
# (every process whose XDG_RUNTIME_DIR is the session's: compositor,
# PipeWire, WirePlumber, helpers, terminal) and of zerocast itself, and
# their resident memory.
#
#   bench/desktop/run.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#
# Prints a Markdown table (for BENCHMARKS.md). Rounds alternate the two
# desktops so load on the machine falls on both alike.
set -euo pipefail
build=$(realpath "${1:-build}")
seconds=${2:-20}
rounds=${3:-2}
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# utime+stime (ticks) and RSS (kB) summed over the pids given.
ticks() { for p in "$@"; do awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$p/stat 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
rss() { for p in "$@"; do awk '/^VmRSS/ { print $2 }' /proc/$p/status 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
session_pids() { grep -l "XDG_RUNTIME_DIR=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | grep -vx "$pid" || true; }

measure() {
  local desktop=$1 log=$tmp/$1.log t0 t_serve= t_stream= dir
  t0=$(date +%s.%N)
  "$build/server/zerocast" --headless 1280x720 --desktop "$desktop" \
    --listen 127.0.0.1:0 > "$log" 2>&1 &
  pid=$!
  # Either may come first: a headless desktop streams, then serves once
  # it is ready (GNOME Shell started on the stream's monitor).
  for _ in $(seq 1200); do
    [ -z "$t_serve" ] && grep -q 'serving ' "$log" && t_serve=$(date +%s.%N)
    [ -z "$t_stream" ] && grep -q 'streaming with video mode' "$log" &&
      t_stream=$(date +%s.%N)
    [ -n "$t_serve" ] && [ -n "$t_stream" ] && break
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$t_stream" ] && [ -n "$t_serve" ] ||
    { echo "$desktop: no stream or no URL" >&2; exit 1; }
  # The session's runtime directory, from PipeWire's environment.
  local pw
  pw=$(pgrep -P "$pid" -x pipewire | head -1)
  dir=$(tr '\0' '\n' < /proc/$pw/environ | sed -n 's/^XDG_RUNTIME_DIR=//p')
  sleep 3 # start-up work (shaders, caches) is over
  local pids z0 s0 z1 s1
  pids=$(session_pids "$dir")
  z0=$(ticks $pid); s0=$(ticks $pids)
  sleep "$seconds"
  z1=$(ticks $pid); s1=$(ticks $pids)
  awk -v d="$desktop" -v t0="$t0" -v ts="$t_serve" -v tst="$t_stream" \
    -v s0="$s0" -v s1="$s1" -v z0="$z0" -v z1="$z1" -v tck="$tck" \
    -v sec="$seconds" -v srss="$(rss $pids)" -v zrss="$(rss $pid)" \
    'BEGIN { printf "| %s | %.1f | %.1f | %.1f | %.1f | %d | %d |\n", d,
      ts - t0, tst - t0, (s1 - s0) * 100 / tck / sec,
      (z1 - z0) * 100 / tck / sec, srss / 1024, zrss / 1024 }'
  kill -INT $pid; wait $pid || true; pid=
}

echo "| desktop | serving (s) | streaming (s) | session CPU % | zerocast CPU % | session RSS MB | zerocast RSS MB |"
echo "|---|---|---|---|---|---|---|"
for _ in $(seq "$rounds"); do
  measure mutter
  measure shell
done
