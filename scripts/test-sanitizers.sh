#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan (or $ZC_ASAN_BUILD) and runs the test suite there.
#   scripts/test-sanitizers.sh [meson test arguments, e.g. --suite server]
# LeakSanitizer runs at every sanitized process's exit; leaks inside GLib,
# GStreamer, PipeWire and friends that are not ours are listed, each with
# its reason, in tests/lsan.supp. Anything else fails the test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${ZC_ASAN_BUILD:-build-asan}

if [ ! -f "$build/build.ninja" ]; then
  # b_lundef=false: the plugin is a shared object whose ASan symbols come
  # from the executable that loads it. CUDA is loaded at run time anyway;
  # the GPU tests skip without a GPU.
  meson setup "$build" -Dwerror=true -Db_sanitize=address,undefined \
    -Db_lundef=false
fi
ninja -C "$build"

# The plugin scanner is not built with ASan and could not load our
# ASan-built plugin: scan in-process instead.
export GST_REGISTRY_FORK=no
# fast_unwind_on_malloc=0 gives whole stacks through GLib's callbacks, which
# the suppressions match on; halt on the first UBSan report so it fails.
# A small quarantine keeps RSS-bound tests (slow viewer, churn) meaningful:
# freed memory is reused soon instead of held back by the 256 MB default.
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:detect_odr_violation=0:quarantine_size_mb=16
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# GLib's slice allocator and gc-unfriendly memory hide leaks from LSan.
export G_SLICE=always-malloc G_DEBUG=gc-friendly
# Tests that compare memory use skip that under ASan (quarantine).
export ZC_SANITIZERS=1

start=$(date +%s)
status=0
# Sanitized processes run 2-3x slower: give every test 3x its timeout.
run_tests() {
  meson test -C "$build" --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 "$@" || status=$?
}
if [ $# -gt 0 ]; then
  run_tests "$@"
else
  # server-cli starts zerocast with a TLS certificate; once GnuTLS's GIO
  # module is loaded, GCC 12's LeakSanitizer crashes in its own tracer
  # ("Tracer caught signal 11") while scanning thread-local storage, and
  # use_tls=0 instead reports GLib's per-thread buffers as leaks. That
  # one test runs with ASan and UBSan but without LeakSanitizer.
  mapfile -t tests < <(meson test -C "$build" --list 2>/dev/null |
    sed -n 's|^[^ ]* / ||p' | grep -vx server-cli)
  run_tests "${tests[@]}"
  ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 run_tests server-cli
fi
echo "sanitizer suite: $(( $(date +%s) - start )) s, exit $status"
exit $status
