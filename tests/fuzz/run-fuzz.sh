#!/bin/sh
# Short libFuzzer run of every target (CI and by hand).
#
#   tests/fuzz/run-fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Configures a clang build directory (build-fuzz, or $ZC_FUZZ_BUILD) with
# -Dfuzzing=true and ASan+UBSan, builds the fuzz targets and runs each for
# SECONDS_PER_TARGET (default 20) from its seed corpus in
# tests/fuzz/corpus/<target>/ (new inputs go to a scratch copy, not into
# the tree). Exits non-zero when a target crashes; the crashing input is
# left in $ZC_FUZZ_BUILD/fuzz-out/<target>/ — copy it to
# tests/fuzz/regressions/<target>/ so the fuzz-regress suite replays it.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

seconds=${1:-20}
[ $# -gt 0 ] && shift
targets=${*:-wire h264 format input cursor}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${ZC_FUZZ_BUILD:-$root/build-fuzz}

if ! command -v clang >/dev/null; then
  echo "run-fuzz.sh: clang not found: apt-get install clang libclang-rt-14-dev" >&2
  exit 1
fi

# -fsanitize=fuzzer-no-link gives the libraries under test (zcserver,
# zcgst) the coverage instrumentation libFuzzer steers by; the targets
# themselves link -fsanitize=fuzzer (tests/fuzz/meson.build).
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dcuda=disabled -Dnvcc=disabled
fi
for t in $targets; do
  ninja -C "$build" "tests/fuzz/fuzz-$t"
done

# UBSan findings are crashes too; GLib's own allocations at exit are not
# ours to judge here (the sanitizer suite checks leaks).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export G_SLICE=always-malloc G_DEBUG=gc-friendly

status=0
for t in $targets; do
  out=$build/fuzz-out/$t
  rm -rf "$out"
  mkdir -p "$out/corpus"
  cp "$root/tests/fuzz/corpus/$t/"* "$out/corpus/"
  echo "== fuzz-$t: $seconds s"
  if ! (cd "$out" && "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      corpus "$root/tests/fuzz/regressions/$t" > log.txt 2>&1); then
    echo "fuzz-$t FAILED; reproducer(s): $(ls "$out" | grep -E '^(crash|leak|timeout|oom)-' || true)" >&2
    tail -40 "$out/log.txt" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|cov: ' "$out/log.txt" | tail -4
done
exit $status
