#!/bin/bash
# Runs the GPU library's tests and benchmark on a GPU machine that has the
# NVIDIA driver but no GStreamer and no EGL loader (the project's H100
# machine), from a build tree made elsewhere and the .debs of fetch-debs.sh.
#
#   scripts/gpu/run-gpu-checks.sh BUILD_DIR DEBS_DIR OUT_DIR
#
# Writes OUT_DIR/summary.txt (one line per test: pass/skip/fail + exit code),
# a log per test, OUT_DIR/bench.md and OUT_DIR/machine.txt.  Exits non-zero
# when a test failed.
set -u
build=$(realpath "${1:?usage: run-gpu-checks.sh BUILD_DIR DEBS_DIR OUT_DIR}")
debs=$(realpath "${2:?DEBS_DIR}")
out=${3:?OUT_DIR}
mkdir -p "$out"
out=$(realpath "$out")

# GStreamer and its libraries go into a private prefix.  libglvnd (the EGL,
# GLES and GL loaders) goes into / as seen working: the NVIDIA vendor
# libraries it loads are found through the system's linker cache.
prefix=/opt/zc-gst
mkdir -p "$prefix"
for deb in "$debs"/*.deb; do
  case $(basename "$deb") in
    libegl1_*|libglvnd0_*|libgles2_*|libopengl0_*|libgl1_*|libglx0_*)
      dpkg -x "$deb" / ;;
    *) dpkg -x "$deb" "$prefix" ;;
  esac
done
ldconfig

vendor=$(find /usr/local/nvidia /usr/share/glvnd /etc/glvnd -name '10_nvidia.json' 2>/dev/null | head -n1)
if [ -n "$vendor" ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor
fi
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GST_REGISTRY=$(mktemp -d)/registry.bin   # fresh: no stale plugin failures
export GST_PLUGIN_SYSTEM_PATH=$libdir/gstreamer-1.0
export GST_PLUGIN_SCANNER=$libdir/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
export PATH=$prefix/usr/bin:$PATH

{
  echo "date: $(date -u)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  echo "EGL vendor file: ${vendor:-none found}"
  echo "kernel: $(uname -r)"
  for t in tests/gpu/test-modifiers tests/gpu/test-gpu-loaders tests/gpu/test-gpu-memfd tests/gpu/test-gpu-egl bench/gpu/zc-gpu-bench; do
    missing=$(ldd "$build/$t" | grep 'not found')
    echo "$t: ${missing:-all libraries found}"
  done
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

failed=0
: > "$out/summary.txt"
for t in test-modifiers test-gpu-loaders test-gpu-memfd test-gpu-egl; do
  GST_DEBUG='*:2,zccuda*:5,zcegl:5' timeout 120 "$build/tests/gpu/$t" \
    > "$out/$t.log" 2>&1
  rc=$?
  case $rc in
    0) verdict=pass ;;
    77) verdict=skip ;;
    *) verdict=FAIL; failed=1 ;;
  esac
  echo "$t: $verdict (exit $rc)" | tee -a "$out/summary.txt"
done
# Explicit sync's DRM syncobj ioctls (wait, signal, timeline point): they
# need a render node, which no CPU machine here has (exit 77 there). It
# links only GLib and GStreamer.
timeout 60 "$build/tests/unit/test-syncobj" > "$out/test-syncobj.log" 2>&1
rc=$?
case $rc in
  0) verdict=pass ;;
  77) verdict=skip ;;
  *) verdict=FAIL; failed=1 ;;
esac
echo "test-syncobj: $verdict (exit $rc)" | tee -a "$out/summary.txt"

cmd="$build/bench/gpu/zc-gpu-bench --iterations 200"
echo "command: bench/gpu/zc-gpu-bench --iterations 200" > "$out/bench.md"
timeout 300 $cmd >> "$out/bench.md" 2> "$out/bench.err"
echo "zc-gpu-bench: exit $?" | tee -a "$out/summary.txt"
cat "$out/bench.md"
exit $failed
