#!/bin/bash
# The element on a GPU machine: runs tests/element/test-element-gpu (output-
# mode=cuda, pixels checked) under a private PipeWire + WirePlumber, then
# measures frames per second and CPU per frame of output-mode=cuda against
# output-mode=system on the same producer.
#
# Two halves. Here (Debian 12, after a build in build/):
#   scripts/gpu-element-check.sh stage STAGE_DIR
# copies the binaries and downloads the Debian packages they need into
# STAGE_DIR. There (a GPU machine with the NVIDIA driver and nothing else):
#   scripts/gpu-element-check.sh run STAGE_DIR OUT_DIR
set -u
cmd=${1:?usage: gpu-element-check.sh stage DIR | run DIR OUT}
stage=${2:?stage dir}

if [ "$cmd" = stage ]; then
  set -e
  mkdir -p "$stage/bin" "$stage/debs"
  cp build/gst/libgstpipewirezerocopy.so build/tests/tools/zc-run-session \
    build/tests/producer/zc-test-producer build/tests/element/test-element-gpu \
    build/bench/element/zc-bench-consumer build/tests/gpu/test-gpu-memfd \
    build/tests/gpu/test-gpu-egl build/tests/gpu/test-gpu-loaders "$stage/bin/"
  scripts/gpu/fetch-debs.sh "$stage/debs" >/dev/null
  # PipeWire, WirePlumber and a session bus for the private session; the
  # GStreamer app library for appsink.
  (cd "$stage/debs" && apt-get download -q pipewire-bin libpipewire-0.3-0 \
    libpipewire-0.3-modules libpipewire-0.3-common libspa-0.2-modules pipewire \
    wireplumber libwireplumber-0.4-0 liblua5.3-0 dbus-daemon dbus-bin \
    libdbus-1-3 dbus-session-bus-common libapparmor1 libaudit1 libcap-ng0 \
    libcap2 libsystemd0 libselinux1 libpcre2-8-0 liblz4-1 libzstd1 libgcrypt20 \
    libgpg-error0 liblzma5 2>/dev/null)
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
export GST_REGISTRY=$(mktemp -d)/registry.bin
export GST_PLUGIN_SYSTEM_PATH=$libdir/gstreamer-1.0
export GST_PLUGIN_PATH=$stage/bin
export GST_PLUGIN_SCANNER=$libdir/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
export PATH=$stage/bin:$prefix/usr/bin:$PATH
export ZC_TEST_PRODUCER=$stage/bin/zc-test-producer

# `run STAGE OUT -- CMD...`: the same environment for a command of one's own.
if [ "${4:-}" = "--" ]; then
  shift 4
  exec "$@"
fi

{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  gst-inspect-1.0 pipewirezerocopysrc 2>&1 | grep -E "^  (Version|Filename)"
  gst-inspect-1.0 cudadownload >/dev/null 2>&1 && echo "cudadownload: present"
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

GST_DEBUG='*:2,pipewirezerocopysrc:5,zccudaoutput:5,zccuda*:4' timeout 150 \
  zc-run-session --timeout 120 -- test-element-gpu > "$out/test-element-gpu.log" 2>&1
rc=$?
echo "test-element-gpu: exit $rc" | tee "$out/summary.txt"
# The GPU library's own tests, on the same libraries.
for t in test-gpu-loaders test-gpu-memfd test-gpu-egl; do
  timeout 120 "$stage/bin/$t" > "$out/$t.log" 2>&1
  r=$?
  echo "$t: exit $r" | tee -a "$out/summary.txt"
  [ $r -eq 0 ] || rc=$r
done
grep -E "^ok|SKIP|ERROR|assert" "$out/test-element-gpu.log" | head -20

# Frames per second and CPU per frame, system vs cuda, same producer.
cat > "$out/bench.sh" <<'INNER'
set -u
for size in 1920x1080 3840x2160; do
  mkfifo /tmp/zc-in-$size
  zc-test-producer --name bench-$size --size $size --fps 60 < /tmp/zc-in-$size > /tmp/zc-out-$size &
  exec 3> /tmp/zc-in-$size
  for _ in $(seq 100); do grep -q READY /tmp/zc-out-$size && break; sleep 0.1; done
  node=$(awk '/READY/ {print $2}' /tmp/zc-out-$size)
  for mode in system cuda; do
    echo "$size $(zc-bench-consumer --element pipewirezerocopysrc --output-mode $mode --node $node --seconds 8)"
  done
  exec 3>&-
  wait
done
INNER
timeout 150 zc-run-session --timeout 120 -- bash "$out/bench.sh" > "$out/bench.txt" 2> "$out/bench.err"
cat "$out/bench.txt"
exit $rc
