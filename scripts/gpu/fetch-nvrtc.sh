#!/bin/sh
# Downloads (here, on the Debian 12 dev machine) Debian 12's NVRTC (CUDA
# 11.8, from the non-free component) for a GPU machine whose CUDA toolkit is
# too new for GStreamer 1.22: its CUDA converters ask NVRTC for compute_52
# code, which CUDA 13 no longer builds. Only the GPU benchmark's shm and
# native rows need it; nothing is installed here.
#   scripts/gpu/fetch-nvrtc.sh DIR
# Uses a private apt state under a temporary directory, with the mirror of
# this machine's own Debian sources and the non-free component added.
set -eu
dir=${1:?usage: fetch-nvrtc.sh DIR}
mkdir -p "$dir"
dir=$(realpath "$dir")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
[ -n "$mirror" ] || { echo "fetch-nvrtc.sh: no Debian mirror in the apt sources" >&2; exit 1; }
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm non-free" > "$tmp/sources.list"
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
o="-o Dir::Etc::SourceList=$tmp/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::Cache=$tmp/cache"
# shellcheck disable=SC2086
apt-get -q $o update >/dev/null
# shellcheck disable=SC2086
(cd "$dir" && apt-get -q $o download libnvrtc11.2 libnvrtc-builtins11.8 >/dev/null)
ls "$dir"/libnvrtc*.deb
