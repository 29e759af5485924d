#!/usr/bin/env bash
# Installs, builds (warnings as errors) and runs every test:
#   1. the format check (.clang-format),
#   2. every meson suite (unit, element, integration, server, e2e, gpu,
#      reliability, fuzz-regress) in build/,
#   3. the whole suite again under ASan + UBSan + LeakSanitizer
#      (scripts/test-sanitizers.sh, build-asan/),
#   4. a short libFuzzer run of each parser (tests/fuzz/run-fuzz.sh, build-fuzz/).
#
#   scripts/test.sh                 all of it (what CI runs)
#   scripts/test.sh --suite element only those meson suites, in build/
#   ZC_QUICK=1 scripts/test.sh      steps 1 and 2 only
#
# Each suite starts the private dbus / PipeWire / WirePlumber / headless
# Mutter it needs and stops it afterwards; tests that need a GPU exit 77
# (skipped) and say why.
set -uo pipefail
cd "$(dirname "$0")/.."

ZC_WERROR=true scripts/setup.sh || exit 1
failed=()

scripts/check-format.sh || failed+=("format")

# Tests that start Mutter or Chromium are marked not parallel; the rest run
# two at a time on a 2-core machine.
meson test -C build --print-errorlogs --num-processes 2 "$@" || failed+=("meson suites")

if [ $# -eq 0 ] && [ -z "${ZC_QUICK:-}" ]; then
  scripts/test-sanitizers.sh || failed+=("sanitizers")
  tests/fuzz/run-fuzz.sh 20 || failed+=("fuzzing")
fi

# One closing line for people and CI alike.
python3 - build/meson-logs/testlog.json "${#failed[@]}" <<'PY'
import json, sys
counts = {}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    counts[r] = counts.get(r, 0) + 1
ok = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
bad = sum(v for k, v in counts.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
print(f"meson suites: {ok} passed, {bad} failed, {counts.get('SKIP', 0)} skipped")
PY
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "test.sh: everything passed"
