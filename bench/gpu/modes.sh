#!/bin/bash
# The design's video-mode benchmark: the three ways zerocast's server can
# bring a PipeWire frame to NVENC's input (NV12 in CUDA memory), side by
# side on one producer, at 1080p and 4K. Each pipeline runs in its own
# process (bench/gpu/zc-gpu-consumer), which reports frames per second and
# its own CPU time per frame (all threads), split by thread.
#
#   shm       pipewiresrc ! shmsink | shmsrc ! cudaupload ! cudaconvertscale
#             (two processes, as the system zerocast replaces ran it: the
#             CPU column is their sum, the writer's share beside it)
#   native    pipewiresrc ! cudaupload ! cudaconvert
#   zerocopy  pipewirezerocopysrc output-mode=cuda (NV12 from one kernel)
#   system, pipewiresrc: capture alone into fakesink, for reference
#
#   bench/gpu/modes.sh BIN_DIR [SECONDS] [ROUNDS] [SIZES...]
#
# BIN_DIR holds zc-run-session, zc-test-producer, zc-gpu-consumer and
# libgstpipewirezerocopy.so; GStreamer with nvcodec (and NVRTC for its
# converters: GST_CUDA_NVRTC_LIBNAME) must be set up (on the GPU machine:
# scripts/gpu-element-check.sh run STAGE OUT -- bench/gpu/modes.sh ...).
# MODES overrides the list; a mode may carry environment for its process
# after '+': "zerocopy+ZC_CUDA_WAIT=spin". Prints Markdown tables; the raw
# JSON lines go to $ZC_BENCH_JSON and the consumers' stderr to
# $ZC_BENCH_LOG when set. Starts its own private dbus +
# PipeWire + WirePlumber. About 12 s per row.
set -euo pipefail
bin=$(realpath "${1:?usage: modes.sh BIN_DIR [SECONDS] [ROUNDS] [SIZES...]}")
seconds=${2:-8}
rounds=${3:-2}
shift $(($# < 3 ? $# : 3))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1920x1080 3840x2160)
modes=${MODES:-shm native zerocopy system pipewiresrc}

if [ -z "${ZC_MODES_INNER:-}" ]; then
  export ZC_MODES_INNER=1
  exec "$bin/zc-run-session" --timeout 1200 -- "$0" "$bin" "$seconds" "$rounds" "${sizes[@]}"
fi

export GST_PLUGIN_PATH=$bin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
tmp=$(mktemp -d)
json=${ZC_BENCH_JSON:-$tmp/all.json}
: > "$json"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
nv12='video/x-raw(memory:CUDAMemory),format=NV12'
sink='fakesink name=sink sync=false'

consumer() { # LOG ENV... -- ARGS...: one measured process
  local log=$1 envs=()
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local rc=0
  env "${envs[@]}" "$bin/zc-gpu-consumer" --seconds "$seconds" "$@" > "$log" 2> "$log.err" || rc=$?
  if [ -n "${ZC_BENCH_LOG:-}" ]; then
    { echo "== ${envs[*]:-} $*: exit $rc"; cat "$log.err"; } >> "$ZC_BENCH_LOG"
  fi
  [ $rc -eq 0 ] || { echo "consumer failed: $*" >&2; tail -n 5 "$log.err" >&2; }
  return $rc
}

row() { # SIZE MODE ROUND NODE ENV...
  local size=$1 mode=$2 round=$3 node=$4 w=${1%x*} h=${1#*x} out=$tmp/row
  shift 4
  local envs=("$@") writer=null
  case $mode in
    shm)
      local sock=$tmp/shm-$size-$round
      # The writer measures a window that holds the reader's (which starts
      # later and spends its first second compiling CUDA kernels).
      consumer "$out.writer" "${envs[@]}" -- --warmup 3 --seconds $((seconds + 6)) --pipeline \
        "pipewiresrc path=$node ! video/x-raw ! shmsink name=sink socket-path=$sock shm-size=$((w * h * 4 * 6)) wait-for-connection=false sync=false" &
      local wpid=$!
      for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
      consumer "$out" "${envs[@]}" -- --caps "$nv12" --pipeline \
        "shmsrc socket-path=$sock is-live=true do-timestamp=true ! video/x-raw,format=BGRx,width=$w,height=$h,framerate=60/1 ! cudaupload ! cudaconvertscale ! $nv12 ! $sink" || true
      wait $wpid || true
      [ -s "$out.writer" ] && writer=$(cat "$out.writer")
      ;;
    native)
      consumer "$out" "${envs[@]}" -- --caps "$nv12" --pipeline \
        "pipewiresrc path=$node ! video/x-raw ! cudaupload ! cudaconvert ! $nv12 ! $sink" || true ;;
    zerocopy)
      consumer "$out" "${envs[@]}" -- --caps "$nv12" --pipeline \
        "pipewirezerocopysrc pipewire-node-id=$node keepalive-time=0 output-mode=cuda ! $nv12 ! $sink" || true ;;
    system)
      consumer "$out" "${envs[@]}" -- --pipeline \
        "pipewirezerocopysrc pipewire-node-id=$node keepalive-time=0 output-mode=system ! $sink" || true ;;
    pipewiresrc)
      consumer "$out" "${envs[@]}" -- --pipeline \
        "pipewiresrc path=$node ! video/x-raw ! $sink" || true ;;
    *) echo "unknown mode $mode" >&2; return 1 ;;
  esac
  [ -s "$out" ] || echo null > "$out"
  printf '{"size": "%s", "mode": "%s", "env": "%s", "round": %d, "consumer": %s, "shm_writer": %s}\n' \
    "$size" "$mode" "${envs[*]:-}" "$round" "$(cat "$out")" "$writer" >> "$json"
  rm -f "$out" "$out.writer"
}

for size in "${sizes[@]}"; do
  mkfifo "$tmp/in-$size"
  "$bin/zc-test-producer" --name "modes-$size" --size "$size" --fps 60 \
    < "$tmp/in-$size" > "$tmp/out-$size" &
  exec 3> "$tmp/in-$size" # keep the producer's stdin open
  for _ in $(seq 100); do grep -q READY "$tmp/out-$size" && break; sleep 0.1; done
  node=$(awk '/READY/ {print $2}' "$tmp/out-$size")
  [ -n "$node" ] || { echo "producer did not start" >&2; exit 1; }
  for round in $(seq "$rounds"); do
    for spec in $modes; do
      IFS=+ read -r -a parts <<< "$spec"
      row "$size" "${parts[0]}" "$round" "$node" "${parts[@]:1}"
    done
  done
  exec 3>&-
  wait
done

python3 - "$json" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def cpu(r):
    c = r["consumer"]
    if not c:
        return None
    w = r["shm_writer"]
    return c["cpu_us_per_frame"] + (w["cpu_us_per_frame"] if w else 0)
print("| size | mode | env | round | fps | CPU µs/frame | of which shm writer | context switches/frame | busiest threads (µs/frame) |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    c = r["consumer"]
    if not c:
        print(f"| {r['size']} | {r['mode']} | {r['env']} | {r['round']} | failed | | | | |")
        continue
    w = r["shm_writer"]
    th = sorted(c["threads"].items(), key=lambda kv: -kv[1]["cpu_us_per_frame"])[:3]
    ths = ", ".join(f"{k} {v['cpu_us_per_frame']:.0f} ({v['runs_per_frame']:.1f} runs)" for k, v in th)
    ws = f"{w['cpu_us_per_frame']:.1f}" if w else "-"
    sw = c["context_switches_per_frame"] + (w["context_switches_per_frame"] if w else 0)
    print(f"| {r['size']} | {r['mode']} | {r['env']} | {r['round']} | {c['fps']:.1f} | "
          f"{cpu(r):.1f} | {ws} | {sw:.2f} | {ths} |")
print()
print("| size | mode | env | fps (median) | CPU µs/frame (median of rounds) | zerocopy vs this |")
print("|---|---|---|---|---|---|")
groups = {}
for r in rows:
    if cpu(r) is not None:
        groups.setdefault((r["size"], r["mode"], r["env"]), []).append(r)
med = {k: statistics.median(cpu(r) for r in v) for k, v in groups.items()}
for (size, mode, env), v in groups.items():
    zc = med.get((size, "zerocopy", ""))
    m = med[(size, mode, env)]
    vs = f"{(1 - zc / m) * 100:.0f} % less CPU" if zc is not None and mode in ("shm", "native") else "-"
    fps = statistics.median(r["consumer"]["fps"] for r in v)
    print(f"| {size} | {mode} | {env} | {fps:.1f} | {m:.1f} | {vs} |")
PY
