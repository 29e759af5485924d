#!/bin/bash
# Everything GPU on a GPU machine, in one call: the GPU library's tests,
# tests/element/test-element-gpu (output-mode=cuda, pixels checked) under a
# private PipeWire + WirePlumber, the per-step GPU benchmark
# (bench/gpu/zc-gpu-bench) and the design's video-mode benchmark
# (bench/gpu/modes.sh: shm, native and zerocopy side by side, fps and CPU
# per frame).
#
# Two halves. Here (Debian 12, after a build in build/):
#   scripts/gpu-element-check.sh stage STAGE_DIR
# copies the binaries and scripts and downloads the Debian packages they
# need into STAGE_DIR (about 45 MB). There (a GPU machine with the NVIDIA
# driver and nothing else):
#   scripts/gpu-element-check.sh run STAGE_DIR OUT_DIR [SECONDS ROUNDS]
# or, for a command of one's own in the same environment:
#   scripts/gpu-element-check.sh run STAGE_DIR OUT_DIR -- CMD...
set -u
cmd=${1:?usage: gpu-element-check.sh stage DIR | run DIR OUT [SECONDS ROUNDS | -- CMD...]}
stage=${2:?stage dir}

if [ "$cmd" = stage ]; then
  set -e
  mkdir -p "$stage/bin" "$stage/debs"
  cp build/gst/libgstpipewirezerocopy.so build/tests/tools/zc-run-session \
    build/tests/producer/zc-test-producer build/tests/element/test-element-gpu \
    build/bench/element/zc-bench-consumer build/bench/gpu/zc-gpu-consumer \
    build/bench/gpu/zc-gpu-bench build/tests/gpu/test-modifiers \
    build/tests/gpu/test-nvenc-caps \
    build/tests/gpu/test-gpu-memfd build/tests/gpu/test-gpu-egl \
    build/tests/gpu/test-gpu-loaders bench/gpu/modes.sh \
    scripts/gpu-element-check.sh "$stage/bin/"
  scripts/gpu/fetch-debs.sh "$stage/debs" >/dev/null
  # PipeWire, WirePlumber and a session bus for the private session; the
  # GStreamer app library for appsink; pipewiresrc for the shm and native
  # benchmark rows.
  (cd "$stage/debs" && apt-get download -q pipewire-bin libpipewire-0.3-0 \
    gstreamer1.0-pipewire \
    libpipewire-0.3-modules libpipewire-0.3-common libspa-0.2-modules pipewire \
    wireplumber libwireplumber-0.4-0 liblua5.3-0 dbus-daemon dbus-bin \
    libdbus-1-3 dbus-session-bus-common libapparmor1 libaudit1 libcap-ng0 \
    libcap2 libsystemd0 libselinux1 libpcre2-8-0 liblz4-1 libzstd1 libgcrypt20 \
    libgpg-error0 liblzma5 2>/dev/null)
  scripts/gpu/fetch-nvrtc.sh "$stage/debs"
  du -sh "$stage"
  exit 0
fi

out=${3:?out dir}
mkdir -p "$out"
stage=$(realpath "$stage")
out=$(realpath "$out")
prefix=/opt/zc-gst
mkdir -p "$prefix"
# GStreamer and GLib stay in a prefix; the session daemons and libglvnd go
# into / (their configuration paths are compiled in; this machine has none).
for deb in "$stage"/debs/*.deb; do
  case $(basename "$deb") in
    libegl1_*|libglvnd0_*|libgles2_*|libopengl0_*|libgl1_*|libglx0_*|\
    pipewire*|libpipewire*|libspa*|wireplumber*|libwireplumber*|liblua5.3*|\
    dbus*|libdbus*)
      dpkg -x "$deb" / ;;
    *) dpkg -x "$deb" "$prefix" ;;
  esac
done
ldconfig
# WirePlumber's Bluetooth part loads its logind module, which fails in a
# container without systemd-logind and takes the daemon down with it.
sed -i 's/\["with-logind"\] = true/["with-logind"] = false/' \
  /usr/share/wireplumber/bluetooth.lua.d/50-bluez-config.lua
vendor=$(find /usr/local/nvidia /usr/share/glvnd /etc/glvnd -name '10_nvidia.json' 2>/dev/null | head -n1)
[ -n "$vendor" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GST_PLUGIN_SYSTEM_PATH=$libdir/gstreamer-1.0
export GST_PLUGIN_PATH=$stage/bin
export GST_PLUGIN_SCANNER=$libdir/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
export PATH=$stage/bin:$prefix/usr/bin:$PATH
export ZC_TEST_PRODUCER=$stage/bin/zc-test-producer

# NVRTC for GStreamer's own CUDA converters (cudaconvert, cudaconvertscale:
# the shm and native modes). GStreamer 1.22 opens it at run time as
# libnvrtc.so or $GST_CUDA_NVRTC_LIBNAME and compiles for compute_52, which
# CUDA 13's NVRTC no longer targets: try the machine's own first, then the
# staged one (Debian 12's, CUDA 11.8). Each try gets a fresh registry: the
# registry remembers whether the library could be opened.
{
  for lib in $(find /usr/local/cuda*/ /usr/local/lib /usr/lib /opt -maxdepth 6 \
      -name 'libnvrtc.so.[0-9]*' 2>/dev/null | sort -u) "$libdir/libnvrtc.so.11.2"; do
    [ -e "$lib" ] || continue
    export GST_REGISTRY=$(mktemp -d)/registry.bin
    if GST_CUDA_NVRTC_LIBNAME=$lib timeout 60 gst-launch-1.0 -q videotestsrc num-buffers=2 ! \
        video/x-raw,format=BGRx,width=64,height=64 ! cudaupload ! cudaconvert ! \
        'video/x-raw(memory:CUDAMemory),format=NV12' ! fakesink > "$out/nvrtc-try.log" 2>&1; then
      export GST_CUDA_NVRTC_LIBNAME=$lib
      echo "NVRTC: $lib works for cudaconvert"
      break
    fi
    echo "NVRTC: $lib fails: $(grep -m1 -i -E 'nvrtc|error' "$out/nvrtc-try.log")"
  done
  [ -n "${GST_CUDA_NVRTC_LIBNAME:-}" ] || echo "NVRTC: none works: shm and native rows will fail"
} > "$out/nvrtc.txt" 2>&1
export GST_REGISTRY=$(mktemp -d)/registry.bin

# `run STAGE OUT -- CMD...`: the same environment for a command of one's own.
if [ "${4:-}" = "--" ]; then
  shift 4
  exec "$@"
fi
seconds=${4:-8}
rounds=${5:-2}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "kernel: $(uname -r), $(nproc) CPUs"
  cat "$out/nvrtc.txt"
  gst-inspect-1.0 pipewirezerocopysrc 2>&1 | grep -E "^  (Version|Filename)"
  for e in cudaupload cudadownload cudaconvert cudaconvertscale shmsink shmsrc nvh264enc; do
    gst-inspect-1.0 $e >/dev/null 2>&1 && echo "$e: present" || echo "$e: absent"
  done
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

GST_DEBUG='*:2,pipewirezerocopysrc:5,zccudaoutput:5,zccuda*:4' timeout 150 \
  zc-run-session --timeout 120 -- test-element-gpu > "$out/test-element-gpu.log" 2>&1
rc=$?
echo "test-element-gpu: exit $rc" | tee "$out/summary.txt"
# The GPU library's own tests, on the same libraries.
for t in test-modifiers test-gpu-loaders test-gpu-memfd test-gpu-egl test-nvenc-caps; do
  timeout 120 "$stage/bin/$t" > "$out/$t.log" 2>&1
  r=$?
  echo "$t: exit $r" | tee -a "$out/summary.txt"
  [ $r -eq 0 ] || rc=$r
done
grep -E "^ok|SKIP|ERROR|assert" "$out/test-element-gpu.log" | head -20

# Per-step cost of the GPU paths, then the video modes side by side.
timeout 300 zc-gpu-bench --iterations 200 > "$out/gpu-bench.md" 2> "$out/gpu-bench.err"
echo "zc-gpu-bench: exit $?" | tee -a "$out/summary.txt"
ZC_BENCH_JSON=$out/modes.json ZC_BENCH_LOG=$out/modes.log timeout 500 "$stage/bin/modes.sh" "$stage/bin" \
  "$seconds" "$rounds" > "$out/modes.md" 2> "$out/modes.err"
echo "modes.sh: exit $?" | tee -a "$out/summary.txt"
cat "$out/modes.md"
exit $rc
