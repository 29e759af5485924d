#!/usr/bin/env bash
# install: `meson install` into a scratch DESTDIR, then check the installed
# tree works with none of the build tree's help.
#   test-install.sh BUILDDIR SOURCEDIR
# 1. exactly the expected files are installed: zerocast, the plugin, the
#    colour window --headless shows, the viewer's files; no test or
#    benchmark binary;
# 2. the plugin directory is GStreamer's own for the prefix (so an install
#    into /usr needs no GST_PLUGIN_PATH);
# 3. the installed zerocast --help runs;
# 4. gst-inspect-1.0 finds pipewirezerocopysrc with GST_PLUGIN_SYSTEM_PATH
#    pointing only into the DESTDIR;
# 5. the installed zerocast serves the installed viewer with no
#    ZEROCAST_WEB_DIR, and stops cleanly on SIGTERM.
set -euo pipefail
build=$(realpath "$1")
source=$(realpath "$2")
fails=0

dest=$(mktemp -d "${TMPDIR:-/tmp}/zc-install-XXXXXX")
zc_pid=
cleanup() {
  [ -n "$zc_pid" ] && kill "$zc_pid" 2>/dev/null && wait "$zc_pid" 2>/dev/null
  rm -rf "$dest"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

# GStreamer's plugin directory relative to its prefix: ours must be the
# same relative to our prefix.
gst_prefix=$(pkg-config --variable=prefix gstreamer-1.0)
gst_plugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
plugindir=${gst_plugins#"$gst_prefix"/}

# The build's own layout, as meson resolved it.
eval "$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "bindir", "libexecdir", "datadir"):
    print(f"{k}={opts[k]!s}")
')"
rel() { case "$1" in /*) echo "${1#"$prefix"/}" ;; *) echo "$1" ;; esac; }
bindir=$(rel "$bindir") libexecdir=$(rel "$libexecdir") datadir=$(rel "$datadir")
root="$dest$prefix"

if ! meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest/install.log" 2>&1; then
  cat "$dest/install.log"
  echo "not ok - meson install --destdir failed"
  exit 1
fi
rm "$dest/install.log"
ok "meson install --destdir $dest (prefix $prefix)"

# 1. Exactly the expected files.
expected=$(
  {
    echo "$bindir/zerocast"
    echo "$plugindir/libgstpipewirezerocopy.so"
    echo "$libexecdir/zerocast/zc-colour-client"
    (cd "$source" && find web -type f) | sed "s|^|$datadir/zerocast/|"
  } | sort
)
installed=$( (cd "$root" && find . -type f -o -type l) | sed 's|^\./||' | sort)
outside=$( (cd "$dest" && find . \( -type f -o -type l \) -not -path "./${prefix#/}/*") | head -5)
if [ "$installed" = "$expected" ] && [ -z "$outside" ]; then
  ok "installed exactly: $(echo "$installed" | tr '\n' ' ')"
else
  bad "installed files differ from the expected set (< expected, > installed):"
  diff <(echo "$expected") <(echo "$installed") | sed 's/^/#   /' || true
  [ -z "$outside" ] || echo "#   outside the prefix: $outside"
fi
if echo "$installed" | grep -E '(^|/)(test-|zc-test-|zc-run-session|zc-bench|zc-soak|zc-gpu-bench|fuzz-)' >/dev/null; then
  bad "a test or benchmark binary was installed"
else
  ok "no test or benchmark binary installed"
fi

# 2. GStreamer's own plugin directory for this prefix (checked by the
# file list above), which with --prefix=/usr is GStreamer's system one.
case "$gst_plugins" in
  "$gst_prefix"/*) ok "plugin dir $prefix/$plugindir is GStreamer's for the prefix ($gst_plugins under $gst_prefix)" ;;
  *) bad "GStreamer's plugin dir $gst_plugins is not under its prefix $gst_prefix" ;;
esac

# The installed programs run with none of the test environment.
unset GST_PLUGIN_PATH ZEROCAST_WEB_DIR ZC_BUILD_ROOT ZC_SOURCE_ROOT ZC_COLOUR_CLIENT
export GST_REGISTRY="$dest/registry.bin"

# 3. zerocast --help.
if out=$("$root/$bindir/zerocast" --help 2>&1) && echo "$out" | grep -q -- '--headless'; then
  ok "installed zerocast --help"
else
  bad "installed zerocast --help failed: $out"
fi

# 4. The installed plugin alone. A sanitizer build's plugin needs the ASan
# runtime loaded first, which Debian's gst-inspect-1.0 is not built with:
# preload it (leak checking off: this checks the install, not
# gst-inspect's own allocations).
preload=()
if ldd "$root/$plugindir/libgstpipewirezerocopy.so" 2>/dev/null | grep -q libasan; then
  preload=(env "LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)"
    "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
fi
if out=$(GST_PLUGIN_SYSTEM_PATH="$root/$plugindir" "${preload[@]}" gst-inspect-1.0 pipewirezerocopysrc 2>&1) &&
  echo "$out" | grep -q 'pipewire-node-id' &&
  echo "$out" | grep -q "$root/$plugindir/libgstpipewirezerocopy.so"; then
  ok "gst-inspect-1.0 pipewirezerocopysrc from $root/$plugindir"
else
  bad "gst-inspect-1.0 pipewirezerocopysrc against the DESTDIR failed: $out"
fi

# 5. The installed viewer, served by the installed zerocast. A marker in
# the installed copy tells it apart from the source tree's.
index="$root/$datadir/zerocast/web/index.html"
echo "<!-- installed copy $$ -->" >>"$index"
log="$dest/zerocast.log"
# The token comes from the environment, as containers pass it.
token=zc-install-token-$$
ZEROCAST_TOKEN=$token "$root/$bindir/zerocast" --test-pattern 160x120 --listen 127.0.0.1:0 >"$log" 2>&1 &
zc_pid=$!
url=
for _ in $(seq 1 300); do # 30 s
  url=$(sed -n 's/^zerocast: serving \(http[^ ]*\).*/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$zc_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  bad "installed zerocast did not serve: $(cat "$log")"
else
  # The first URL also controls (its own generated control token); the
  # view-only URL carries the view token, which ZEROCAST_TOKEN sets.
  view_url=$(sed -n 's/^zerocast: view-only URL \(http[^ ]*\).*/\1/p' "$log")
  case "$view_url" in
    *"?token=$token") ok "ZEROCAST_TOKEN is the view token ($view_url)" ;;
    *) bad "ZEROCAST_TOKEN was not used: '$view_url' ($(cat "$log"))" ;;
  esac
  if python3 - "$url" "$index" <<'PY'; then
import sys, urllib.error, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=10).read()
want = open(sys.argv[2], "rb").read()
if body != want:
    sys.exit("GET / is not the installed index.html")
try:
    urllib.request.urlopen(sys.argv[1].split("?")[0] + "metrics", timeout=10)
    sys.exit("/metrics without the token was served")
except urllib.error.HTTPError as e:
    if e.code != 401:
        sys.exit(f"/metrics without the token: HTTP {e.code}, want 401")
PY
    ok "installed zerocast serves the installed viewer without ZEROCAST_WEB_DIR; /metrics wants the token"
  else
    bad "serving from the install failed; log: $(cat "$log")"
  fi
fi
if [ -n "$zc_pid" ]; then
  kill -TERM "$zc_pid"
  status=0
  wait "$zc_pid" || status=$?
  zc_pid=
  if [ "$status" -eq 0 ]; then
    ok "installed zerocast exits 0 on SIGTERM"
  else
    bad "installed zerocast exited $status on SIGTERM: $(tail -5 "$log")"
  fi
fi

if [ "$fails" -gt 0 ]; then
  echo "FAIL install: $fails check(s) failed"
  exit 1
fi
echo "PASS install"
