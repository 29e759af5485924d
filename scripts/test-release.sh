#!/usr/bin/env bash
# Builds and tests zerocast on another Debian release, in a chroot of it.
#   scripts/test-release.sh RELEASE [meson test arguments]
#   scripts/test-release.sh RELEASE --shell [CMD ARGS...]
#   scripts/test-release.sh RELEASE --prepare    only make or update the chroot
# RELEASE: trixie (Debian 13), sid, or bookworm (Debian 12).
#
# The chroot is a minimal debootstrap of RELEASE with the packages of
# scripts/packages/RELEASE.txt (plus nodejs and npm for the e2e suite), made
# once and kept in ${ZC_CHROOT_DIR:-/var/cache/zerocast/chroots}/RELEASE;
# when the package list changes it is updated (the list's hash is stored in
# it). The source tree is mounted at its own absolute path inside, so the
# build lands in build-RELEASE/ of this tree and several worktrees can use
# one chroot at once. The test run builds with -Dwerror=true and runs every
# meson suite there (e2e with RELEASE's own chromium and node), then prints
# one closing line for the release. --shell runs CMD (default: bash) in the
# chroot with the tree mounted, from the tree's root; one argument is run by
# bash -c, several as a command line.
#
# Mounts live in a mount namespace of this invocation only (unshare): they
# are never visible to the host or to a concurrent invocation, and the kernel
# drops them when the last process inside exits, also when this script fails
# or is killed. A lock on the chroot keeps an update from running under a
# test run: runs share it, an update takes it alone.
#
# Environment: ZC_CHROOT_DIR (where chroots live), ZC_MIRROR (Debian mirror;
# default: the host's, from /etc/apt), ZC_CHROOT_REBUILD=1 (start afresh).
# Needs root, debootstrap and unshare (util-linux).
set -uo pipefail
cd "$(dirname "$0")/.."
tree=$(pwd -P)

usage() {
  echo "usage: $0 trixie|sid|bookworm [meson test args] | RELEASE --shell [CMD...]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
release=$1
shift
case "$release" in
  bookworm | trixie | sid) ;;
  *) echo "test-release: unknown release '$release' (trixie, sid or bookworm)" >&2; usage ;;
esac
shell=0 prepare_only=0
case "${1:-}" in
  --shell) shell=1; shift ;;
  --prepare) prepare_only=1; shift ;;
esac

say() { echo "test-release $release: $*"; }
# The one line a reader (and scripts/test.sh) looks for.
closing() {
  echo "release $release: $*"
}
die() {
  say "$*" >&2
  closing "FAILED ($*)"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v unshare >/dev/null || die "unshare is missing: apt-get install util-linux"

list="scripts/packages/$release.txt"
[ -f "$list" ] || die "no package list $list"
# node runs the e2e suite. Its modules (playwright-core, plain JavaScript)
# are the tree's own, installed by the host's npm (scripts/setup.sh): npm
# in the chroot would add some 340 packages.
extra="nodejs"
# Bump when the way the chroot is prepared changes, to update old chroots.
recipe=1
want=$( (cat "$list"; echo "$extra $recipe") | sha256sum | cut -d' ' -f1)

base=${ZC_CHROOT_DIR:-/var/cache/zerocast/chroots}
root=$base/$release
mkdir -p "$base" || die "cannot create $base"

# The mirror the host uses (deb822 or one-line format), else Debian's.
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      /(^|\n)Types:[^\n]*deb([ \t]|$)/ && /(^|\n)Suites:[ \t]*[a-z]+([ \t]|$)/ {
        for (i = 1; i <= NF; i++)
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); print a[2]; exit } }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
}
mirror=${ZC_MIRROR:-$(host_mirror | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}

# Runs "$@" inside the chroot, in a mount namespace of its own with /proc,
# /sys, /dev, /dev/pts, /dev/shm and the tree (and its git directory, read
# only, when that lies outside the tree) bound at their own paths.
git_dir=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
case "$git_dir" in "$tree"/* | "") git_dir="" ;; esac
in_chroot() {
  unshare --mount --propagation private {lock}>&- -- /bin/bash -euc '
    root=$1 tree=$2 git_dir=$3
    shift 3
    for d in /proc /sys /dev /dev/pts /dev/shm; do
      mkdir -p "$root$d"
      mount --bind "$d" "$root$d"
    done
    mkdir -p "$root$tree"
    mount --bind "$tree" "$root$tree"
    if [ -n "$git_dir" ]; then
      mkdir -p "$root$git_dir"
      mount --bind "$git_dir" "$root$git_dir"
      mount -o remount,bind,ro "$root$git_dir"
    fi
    cd "$root$tree"
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      TERM="${TERM:-dumb}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      ZC_RELEASE="$ZC_RELEASE" /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$tree" "$@"
  ' in-chroot "$root" "$tree" "$git_dir" "$@"
}
export ZC_RELEASE=$release

# Makes or updates the chroot; the caller holds the lock alone.
prepare() {
  if [ -n "${ZC_CHROOT_REBUILD:-}" ] || [ ! -f "$root/.zerocast-debootstrap" ]; then
    say "making a $release chroot in $root from $mirror (debootstrap, about 30 s)"
    rm -rf "$root.new"
    if ! debootstrap --variant=minbase "$release" "$root.new" "$mirror" \
      >"$base/$release-debootstrap.log" 2>&1; then
      tail -n 5 "$base/$release-debootstrap.log" >&2
      rm -rf "$root.new"
      die "cannot fetch Debian $release from $mirror (debootstrap failed, log: $base/$release-debootstrap.log)"
    fi
    # sid's Release file on this archive can be past its Valid-Until.
    echo 'Acquire::Check-Valid-Until "false";' >"$root.new/etc/apt/apt.conf.d/99zerocast"
    echo 'APT::Install-Recommends "false";' >>"$root.new/etc/apt/apt.conf.d/99zerocast"
    touch "$root.new/.zerocast-debootstrap"
    rm -rf "$root"
    mv "$root.new" "$root"
    unset ZC_CHROOT_REBUILD
  fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
  say "installing ${#packages[@]} packages of $list (+ $extra)"
  in_chroot /bin/sh -c 'apt-get -q update && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
    sh "${packages[@]}" $extra >"$base/$release-apt.log" 2>&1 || {
    grep -E '^(E:|W:)' "$base/$release-apt.log" | tail -n 8 >&2
    die "cannot install the $release packages (log: $base/$release-apt.log)"
  }
  echo "$want" >>"$root/.zerocast-packages"
}

# Installing only adds packages, so every list installed so far is still
# satisfied: worktrees with different lists share one chroot without
# reinstalling at each switch.
up_to_date() {
  [ -z "${ZC_CHROOT_REBUILD:-}" ] && grep -qx "$want" "$root/.zerocast-packages" 2>/dev/null
}
exec {lock}>"$base/$release.lock"
flock -s "$lock"
if ! up_to_date; then
  flock -u "$lock"
  flock -x "$lock"
  # Someone else may have updated it while we waited.
  up_to_date || prepare
  flock -s "$lock"
fi

if [ $prepare_only -eq 1 ]; then
  say "chroot ready in $root"
  exit 0
fi
# Runs in_chroot "$@" and returns its status. Without a terminal the child
# gets a process group of its own and a signal to this script is passed on
# to all of it (meson, the tests and their daemons), so nothing outlives an
# interrupted run; at a terminal it stays in the foreground (the terminal's
# Ctrl-C reaches it directly, and an interactive shell can read).
run_in_chroot() {
  if [ -t 0 ]; then
    in_chroot "$@"
    return
  fi
  local child status
  set -m
  in_chroot "$@" &
  child=$!
  set +m
  trap 'kill -TERM -- -$child 2>/dev/null' TERM INT HUP
  wait $child
  status=$?
  # wait returns early when a trapped signal arrives: wait for the end.
  while kill -0 $child 2>/dev/null; do
    wait $child
    status=$?
  done
  trap - TERM INT HUP
  return $status
}

if [ $shell -eq 1 ]; then
  [ $# -gt 0 ] || set -- bash
  if [ $# -eq 1 ]; then
    set -- /bin/bash -c "$1"
  fi
  run_in_chroot "$@"
  exit $?
fi

versions=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' \
  libgstreamer1.0-0 libpipewire-0.3-0t64 libpipewire-0.3-0 wireplumber mutter chromium nodejs 2>/dev/null |
  awk '$1 == "ii" { sub(/-[^-]*$/, "", $3); sub(/^[0-9]+:/, "", $3); sub(/:.*/, "", $2);
    printf "%s%s %s", sep, $2, $3; sep = ", " }')
say "$versions"

if [ -f tests/e2e/package-lock.json ] && [ ! -d tests/e2e/node_modules/playwright-core ]; then
  die "tests/e2e/node_modules is missing: run scripts/setup.sh (or npm ci --prefix tests/e2e) on the host first"
fi

build=build-$release
start=$(date +%s)
rm -f "$build/meson-logs/testlog.json"
run_in_chroot /bin/bash -euc '
  build=$1
  shift
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Dwerror=true
  elif ! meson configure "$build" -Dwerror=true >/dev/null; then
    meson setup --wipe "$build" -Dwerror=true
  fi
  ninja -C "$build"
  echo "--- meson suites ($build)"
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
' test-release "$build" "$@"
status=$?
secs=$(($(date +%s) - start))

counts=$(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {}
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        counts[r] = counts.get(r, 0) + 1
except OSError:
    sys.exit(1)
ok = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
bad = sum(v for k, v in counts.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
print(f"{ok} passed, {bad} failed, {counts.get('SKIP', 0)} skipped")
PY
) || counts="build failed, no tests ran"
if [ $status -eq 0 ]; then
  closing "PASSED: $counts in ${secs} s ($versions)"
else
  closing "FAILED: $counts in ${secs} s ($versions)"
fi
exit $status
