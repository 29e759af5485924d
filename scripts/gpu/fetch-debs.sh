#!/bin/sh
# Downloads (here, on the Debian 12 dev machine) the Debian packages the GPU
# tests and benchmark need on a GPU machine that has no GStreamer and no EGL
# loader.  Usage: scripts/gpu/fetch-debs.sh DIR
set -eu
dir=${1:?usage: fetch-debs.sh DIR}
mkdir -p "$dir"
cd "$dir"
# GStreamer 1.22 with the CUDA library (libgstcuda-1.0 links GL and
# Wayland/X11 client libraries, so those come along), then libglvnd's EGL,
# GLES and GL loaders (the NVIDIA driver ships only the vendor libraries).
apt-get download \
  libgstreamer1.0-0 gstreamer1.0-tools libgstreamer-plugins-base1.0-0 \
  libgstreamer-plugins-bad1.0-0 gstreamer1.0-plugins-bad gstreamer1.0-plugins-base \
  libgstreamer-gl1.0-0 liborc-0.4-0 libglib2.0-0 libunwind8 libdw1 libelf1 \
  libgudev-1.0-0 libwayland-client0 libwayland-cursor0 libwayland-egl1 \
  libx11-xcb1 libgbm1 libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 \
  libwayland-server0 libdrm2 libffi8 libexpat1 \
  libegl1 libglvnd0 libgles2 libopengl0 libgl1 libglx0
ls -1 "$PWD"/*.deb | wc -l
