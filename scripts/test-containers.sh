#!/usr/bin/env bash
# Builds the two desktop images (packaging/Dockerfile.gnome, .sway) with
# podman and checks them from outside the container:
#   - GNOME: zerocast serves on a published port with the token from
#     ZEROCAST_TOKEN; a browser on the host (Chromium through
#     tests/e2e/container-viewer.mjs) decodes the default desktop (GNOME
#     Shell), then, with --desktop mutter, the colour window's four colours
#     arrive in place; each time `podman stop` ends zerocast with exit
#     status 0 well inside podman's grace time.
#   - Sway (built on sid: xdg-desktop-portal-wlr 0.8 captures without a
#     GPU): zerocast --sway 960x540 streams frames of that size to the
#     browser outside, keys typed there reach foot in the container (a
#     typed `touch` makes a file in a folder shared with the host), and
#     podman stop ends it as above. ZC_SWAY_RELEASE=trixie builds it on
#     Debian 13 instead, whose portal 0.7 cannot capture without a GPU:
#     then headless Sway with foot must come up as the image's user and
#     zerocast --sway must say why it cannot stream and exit with its "no
#     source" status.
#
#   scripts/test-containers.sh            build (cached) and test both
#   scripts/test-containers.sh --build    only make the base and build
#
# No registry is used: the debian:trixie base (and debian:sid for the Sway
# image) is made with debootstrap and imported when missing. podman runs
# with a configuration of this script's own (CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF), its store in a cache folder outside the
# repository ($ZC_CONTAINER_CACHE, default ~/.cache/zerocast/containers)
# that is kept between runs, so a second run reuses the bases and every
# built layer. Fails loudly when podman cannot be installed: the images
# are a deliverable, not an optional extra.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${ZC_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zerocast/containers}
# The Sway image's release: sid by default (its portal streams without a
# GPU); ZC_SWAY_RELEASE=trixie checks that Debian 13's image says why it
# cannot stream.
SWAY_RELEASE=${ZC_SWAY_RELEASE:-sid}
BUILD_IMAGE=localhost/zerocast-build:test
SWAY_BUILD_IMAGE=localhost/zerocast-build-sway:test
GNOME_IMAGE=localhost/zerocast-gnome:test
SWAY_IMAGE=localhost/zerocast-sway:test
TOKEN=zc-container-test-token
CONTROL_TOKEN=zc-container-test-control
build_only=
[ "${1:-}" = "--build" ] && build_only=1

say() { echo "test-containers: $*"; }
die() { echo "test-containers: FAILED: $*" >&2; exit 1; }

# The same names as scripts/packages/bookworm.txt (setup.sh installs them).
need_podman() {
  local p missing=()
  for p in podman runc containernetworking-plugins iptables debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    { apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}" >"$CACHE.apt.log" 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}" >"$CACHE.apt.log" 2>&1; }; } ||
      { tail -20 "$CACHE.apt.log" >&2; die "podman cannot be installed (apt-get install ${missing[*]} failed): the container images cannot be built or tested"; }
  fi
  command -v podman >/dev/null && command -v runc >/dev/null ||
    die "podman or runc is still missing after installing them"
  podman --version >/dev/null || die "podman does not run: $(podman --version 2>&1)"
}

# This host's quirks (RECIPES.md): crun refuses its hybrid cgroups, and
# podman's default rlimits exceed its hard limits.
write_config() {
  mkdir -p "$CACHE/storage" "$CACHE/run" "$CACHE/tmp"
  cat >"$CACHE/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
image_copy_tmp_dir = "$CACHE/tmp"
EOF
  cat >"$CACHE/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$CACHE/run"
EOF
  export CONTAINERS_CONF="$CACHE/containers.conf"
  export CONTAINERS_STORAGE_CONF="$CACHE/storage.conf"
  export TMPDIR="$CACHE/tmp"
}

# debian:RELEASE from Debian's archive (the mirror apt uses here), without
# a registry.
make_base() { # RELEASE
  local release=$1 image=docker.io/library/debian:$1 mirror rootfs="$CACHE/rootfs-$1"
  if podman image exists "$image"; then
    return
  fi
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  say "making $image with debootstrap from $mirror"
  rm -rf "$rootfs"
  debootstrap --variant=minbase "$release" "$rootfs" "$mirror" >"$CACHE/debootstrap-$release.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap-$release.log" >&2; die "debootstrap $release failed"; }
  # As Debian's official images do: no fsync per unpacked file (the
  # images' apt steps are several times faster on overlay storage), and
  # no package lists or caches kept in layers.
  echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  printf 'APT::Keep-Downloaded-Packages "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-clean"
  # Nor manuals, documentation or translations: a third fewer files to
  # unpack for the GNOME image (copyright files stay).
  printf '%s\n' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
    'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
    'path-exclude=/usr/share/locale/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/zerocast-slim"
  # The archive here is a dated snapshot: sid's Release file has expired.
  if [ "$release" = sid ]; then
    echo 'Acquire::Check-Valid-Until "false";' >"$rootfs/etc/apt/apt.conf.d/zerocast-snapshot"
  fi
  tar -C "$rootfs" -c . | podman import -q - "$image" >/dev/null
  rm -rf "$rootfs"
}

# podman build, timed; a second run on the same machine is all cache hits.
build_image() { # FILE TAG [podman build options]
  local t0=$SECONDS file=$1 tag=$2
  shift 2
  say "building $tag from $file"
  if ! podman build --pull=never --network host "$@" -f "$file" -t "$tag" . >"$CACHE/build-${tag##*/}.log" 2>&1; then
    tail -30 "$CACHE/build-${tag##*/}.log" >&2
    die "podman build -f $file failed (log: $CACHE/build-${tag##*/}.log)"
  fi
  say "built $tag in $((SECONDS - t0)) s"
}

containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$CACHE"/tmp/sway-out.* # test_sway_streams' shared folders
}
trap cleanup EXIT

# A container's whole log, read before grep sees it: with pipefail, grep -q
# quitting early would fail the pipeline through podman's SIGPIPE.
clog() { # CONTAINER
  local out
  out=$(podman logs "$1" 2>&1) || true
  printf '%s\n' "$out"
}
has_log() { # CONTAINER REGEX
  local out
  out=$(clog "$1")
  grep -Eq -- "$2" <<<"$out"
}

# Waits until the container's log matches REGEX or it exits; prints
# "match" or "exited".
wait_log() { # CONTAINER REGEX SECONDS
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    if has_log "$1" "$2"; then
      echo match
      return
    fi
    if [ "$(podman inspect -f '{{.State.Running}}' "$1")" != true ]; then
      echo exited
      return
    fi
    sleep 0.2
  done
  echo timeout
}

# Stops the container as an orchestrator would and checks that zerocast
# ended on its own: exit status 0, well inside podman's grace period
# (after which podman would SIGKILL it: status 137).
check_stop() { # CONTAINER
  local grace=20 t0 ms status
  t0=$(date +%s%N)
  podman stop -t "$grace" "$1" >/dev/null
  ms=$((($(date +%s%N) - t0) / 1000000))
  status=$(podman inspect -f '{{.State.ExitCode}}' "$1")
  has_log "$1" 'zerocast: stopping' ||
    die "$1: no 'zerocast: stopping' after podman stop: SIGTERM did not reach zerocast"
  [ "$status" = 0 ] || die "$1: zerocast exited $status on podman stop (0 wanted; 137 = killed after ${grace} s)"
  [ "$ms" -lt $((grace * 1000 / 2)) ] || die "$1: podman stop took $ms ms"
  say "podman stop: zerocast exited 0 in $ms ms"
}

# Starts IMAGE ARGS... with its port 8080 published on a free loopback
# port and ZEROCAST_TOKEN set (and the caller's podman run options in
# the array run_opts, if it has one); waits until zerocast streams. Sets
# $c (the container) and $url (the viewer's address from outside).
start_streaming() { # NAME IMAGE ARGS...
  local name=$1 result port
  local -a opts=()
  [ -z "${run_opts+set}" ] || opts=("${run_opts[@]}")
  shift
  c=$name-$$
  containers+=("$c")
  # The token through the environment, as an orchestrator passes secrets.
  podman run -d --name "$c" -p 127.0.0.1::8080 -e ZEROCAST_TOKEN="$TOKEN" "${opts[@]}" "$@" >/dev/null
  result=$(wait_log "$c" 'zerocast: streaming with video mode' 120)
  if [ "$result" != match ]; then
    clog "$c" | tail -40 >&2
    die "$name: zerocast did not stream ($result)"
  fi
  # A headless desktop streams first and prints its URLs once it is ready
  # (GNOME Shell started on the stream's monitor, its terminal open).
  result=$(wait_log "$c" 'zerocast: serving ' 120)
  if [ "$result" != match ]; then
    clog "$c" | tail -40 >&2
    die "$name: zerocast streamed but never printed its URL ($result)"
  fi
  # ZEROCAST_TOKEN is the view token: the view-only URL carries it (the
  # first URL carries a generated control token).
  has_log "$c" "zerocast: view-only URL http://0\.0\.0\.0:8080/\?token=$TOKEN" ||
    die "$name: zerocast did not take its view token from ZEROCAST_TOKEN: $(clog "$c" | grep 'zerocast:' | head -5)"
  port=$(podman port "$c" 8080/tcp | sed -n '1s/.*:\([0-9]*\)$/\1/p')
  [ -n "$port" ] || die "$name: no published port for 8080"
  url="http://127.0.0.1:$port/?token=$TOKEN"
  say "$name streams ($(clog "$c" | grep -o 'video mode .*' | head -1)); viewer at $url"
  # From outside the container, without the token: refused.
  python3 - "$port" <<'PY' || die "$name: /metrics was served without the token"
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10)
    sys.exit(1)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)
PY
}

test_gnome() {
  local c url
  # The image as shipped: GNOME Shell with a terminal, frames reach a
  # browser outside; the shell's shutdown is the one to time.
  start_streaming zc-gnome-shell "$GNOME_IMAGE" --listen 0.0.0.0:8080
  has_log "$c" 'source: headless GNOME Shell' ||
    die "GNOME image: the desktop is not GNOME Shell: $(clog "$c" | grep -m2 zerocast:)"
  node tests/e2e/container-viewer.mjs "$url" frames ||
    die "GNOME image: the viewer outside the container got no frames of the shell"
  check_stop "$c"
  # Bare Mutter with the colour window: the colours arrive, in place.
  start_streaming zc-gnome-colours "$GNOME_IMAGE" --headless 640x480 --desktop mutter \
    --listen 0.0.0.0:8080
  node tests/e2e/container-viewer.mjs "$url" colours 640x480 ||
    die "GNOME image: the viewer outside the container did not get the colour window's colours"
  check_stop "$c"
}

# The Sway image's desktop itself, whatever zerocast can do with it: a
# headless Sway as the image's user with foot mapped in it.
check_sway_desktop() {
  local out
  out=$(podman run --rm --entrypoint bash "$SWAY_IMAGE" -c '
    set -u
    export XDG_RUNTIME_DIR=$(mktemp -d)
    chmod 700 "$XDG_RUNTIME_DIR"
    unset SWAYSOCK
    printf "xwayland disable\nexec foot\n" >"$XDG_RUNTIME_DIR/config"
    WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
      sway -c "$XDG_RUNTIME_DIR/config" >"$XDG_RUNTIME_DIR/sway.log" 2>&1 &
    for _ in $(seq 300); do # 30 s
      SWAYSOCK=$(ls "$XDG_RUNTIME_DIR"/sway-ipc.* 2>/dev/null) && break
      sleep 0.1
    done
    export SWAYSOCK
    for _ in $(seq 300); do
      swaymsg -t get_tree 2>/dev/null | grep -q "\"app_id\": \"foot\"" && break
      sleep 0.1
    done
    echo "user $(id -un), $(sway --version)"
    swaymsg -t get_outputs | grep -o "\"name\": \"HEADLESS-1\""
    swaymsg -t get_tree | grep -o "\"app_id\": \"foot\"" || tail -20 "$XDG_RUNTIME_DIR/sway.log"
  ' 2>&1) || true
  grep -q '"app_id": "foot"' <<<"$out" ||
    die "Sway image: headless Sway with foot did not come up as the image's user: $out"
  say "Sway image: $(echo "$out" | head -1): HEADLESS-1 with foot mapped"
}

# The Sway image as shipped (sid: xdg-desktop-portal-wlr 0.8 captures
# in shared memory): zerocast --sway streams frames of the size asked for
# to a browser outside, the browser's keys reach foot in the image's
# desktop (they type a command whose file appears in a folder shared with
# the host), and podman stop ends it cleanly.
test_sway_streams() {
  local c url out
  out=$(mktemp -d "$CACHE/tmp/sway-out.XXXXXX")
  chmod 777 "$out" # the image's user (uid 1000) writes here
  local -a run_opts=(-e ZEROCAST_CONTROL_TOKEN="$CONTROL_TOKEN" -v "$out:/zc-out")
  start_streaming zc-sway "$SWAY_IMAGE" --sway 960x540 --listen 0.0.0.0:8080
  has_log "$c" 'source: .*Sway' ||
    die "Sway image: the source is not Sway: $(clog "$c" | grep -m2 zerocast:)"
  # The control token: the viewer's keys are obeyed.
  url="${url%%\?*}?token=$CONTROL_TOKEN"
  node tests/e2e/container-viewer.mjs "$url" type 960x540 "$out/typed-in-sway" /zc-out/typed-in-sway ||
    { clog "$c" | tail -20 >&2; die "Sway image: frames of 960x540 or typed keys did not get through"; }
  rm -rf "$out"
  check_stop "$c"
}

# Where the portal cannot capture (Debian 13's xdg-desktop-portal-wlr 0.7
# without a GPU: ZC_SWAY_RELEASE=trixie), the desktop still comes up and
# zerocast --sway says why it cannot stream and exits with zerocast's "no
# source" status.
test_sway_cannot_stream() {
  local c=zc-test-sway-$$ result status
  check_sway_desktop
  containers+=("$c")
  podman run -d --name "$c" "$SWAY_IMAGE" --sway --listen 0.0.0.0:8080 >/dev/null
  result=$(wait_log "$c" 'zerocast: streaming with video mode' 120)
  [ "$result" = exited ] || { clog "$c" | tail -20 >&2; die "Sway image ($SWAY_RELEASE): $result, want an exit (its portal cannot capture here)"; }
  status=$(podman inspect -f '{{.State.ExitCode}}' "$c")
  has_log "$c" 'cannot (stream|capture)' ||
    { clog "$c" | tail -20 >&2; die "Sway image exited ($status) without saying why"; }
  [ "$status" = 3 ] || die "Sway image exited $status, want 3 (no source)"
  say "Sway image ($SWAY_RELEASE) starts and says why it cannot stream (exit 3): $(clog "$c" | grep -E 'cannot (stream|capture)' | head -1)"
}

t_start=$SECONDS
mkdir -p "$(dirname "$CACHE")"
need_podman
write_config
make_base trixie
[ "$SWAY_RELEASE" = trixie ] || make_base "$SWAY_RELEASE"
# Each image's build stage gets a name of its own, so the prune below
# keeps it as cache while dropping what older sources left (Dockerfile.sway
# on trixie shares Dockerfile.gnome's). The two images build at once: each
# is mostly long single-threaded apt steps, so on a fresh machine the two
# overlap on two cores.
build_both() {
  build_image packaging/Dockerfile.gnome "$BUILD_IMAGE" --target build &&
    build_image packaging/Dockerfile.gnome "$GNOME_IMAGE" &
  local gnome_build=$!
  { [ "$SWAY_RELEASE" = trixie ] ||
    build_image packaging/Dockerfile.sway "$SWAY_BUILD_IMAGE" --target build --build-arg RELEASE="$SWAY_RELEASE"; } &&
    build_image packaging/Dockerfile.sway "$SWAY_IMAGE" --build-arg RELEASE="$SWAY_RELEASE" &
  local sway_build=$!
  wait "$gnome_build" || exit 1
  wait "$sway_build" || exit 1
}
build_both
podman image prune -f >/dev/null
say "store: $(du -sh "$CACHE/storage" | cut -f1) in $CACHE"
[ -n "$build_only" ] && exit 0

[ -d tests/e2e/node_modules/playwright-core ] ||
  npm ci --prefix tests/e2e --no-audit --no-fund >/dev/null ||
  die "npm ci --prefix tests/e2e failed: no browser driver for the viewer"
command -v chromium >/dev/null || die "chromium is missing (scripts/setup.sh installs it)"
test_gnome
t_sway=$SECONDS
if [ "$SWAY_RELEASE" = trixie ]; then
  test_sway_cannot_stream
  sway_verdict="Sway ($SWAY_RELEASE) said why it cannot stream"
else
  test_sway_streams
  sway_verdict="Sway ($SWAY_RELEASE) streamed, took typed keys and stopped cleanly"
fi
say "Sway checked in $((SECONDS - t_sway)) s"
say "PASSED: both images built, GNOME streamed (shell, colours) and stopped cleanly, $sway_verdict ($((SECONDS - t_start)) s)"
