#!/usr/bin/env bash
# Installs, builds (warnings as errors) and runs every test, on this
# machine's Debian release and on the newer ones in chroots:
#   1. the format check (.clang-format),
#   2. every meson suite (unit, element, integration, server, e2e, gpu,
#      reliability, fuzz-regress) in build/,
#   3. the whole suite again under ASan + UBSan + LeakSanitizer
#      (scripts/test-sanitizers.sh, build-asan/),
#   4. a short libFuzzer run of each parser (tests/fuzz/run-fuzz.sh, build-fuzz/),
#   5. every meson suite on Debian 13 (trixie) and on sid, each in a chroot
#      of that release with its own packages (scripts/test-release.sh,
#      build-trixie/, build-sid/),
#   6. the GNOME and Sway container images, built and run with podman
#      (scripts/test-containers.sh), with a line of their own.
# Steps 1-4 run on the host's release (Debian 12 in CI); each release ends
# with its own "release NAME: PASSED|FAILED ..." line, and the run with one
# line of totals: every meson test of every release counts once, and so do
# the format check, the sanitizer run and the fuzz run.
#
#   scripts/test.sh                    all of it (what CI runs)
#   scripts/test.sh --release sid      one release only (repeatable;
#                                      also ZC_RELEASES="bookworm sid")
#   scripts/test.sh --suite element    only those meson suites, on every release
#   ZC_QUICK=1 scripts/test.sh         no sanitizers, no fuzzing, no containers
#
# Each suite starts the private dbus / PipeWire / WirePlumber / headless
# Mutter it needs and stops it afterwards; tests that need a GPU exit 77
# (skipped) and say why.
set -uo pipefail
cd "$(dirname "$0")/.."

releases=()
while [ "${1:-}" = "--release" ]; do
  [ $# -ge 2 ] || { echo "test.sh: --release needs a name (bookworm, trixie, sid)" >&2; exit 2; }
  releases+=("$2")
  shift 2
done
[ ${#releases[@]} -gt 0 ] || read -ra releases <<<"${ZC_RELEASES:-bookworm trixie sid}"

# The host's release, as scripts/setup.sh reads it.
host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$host" in
  "" | forky) grep -q sid /etc/debian_version 2>/dev/null && host=sid ;;
esac

run_start=$(date +%s)
failed=()
passed_steps=0 failed_steps=0 # checks that are not meson tests
logs=()
summary=()
tally() { # step name, status
  if [ "$2" -eq 0 ]; then
    passed_steps=$((passed_steps + 1))
  else
    failed+=("$1")
    failed_steps=$((failed_steps + 1))
  fi
}
counts() { # testlog.json -> "N passed, N failed, N skipped"
  python3 - "$1" <<'PY'
import json, sys
counts = {}
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        counts[r] = counts.get(r, 0) + 1
except OSError:
    pass
ok = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
bad = sum(v for k, v in counts.items() if k not in ("OK", "EXPECTEDFAIL", "SKIP"))
print(f"{ok} passed, {bad} failed, {counts.get('SKIP', 0)} skipped")
PY
}

# The chroots of the other releases are made (or updated) in the background
# from the start, at the lowest CPU and I/O priority: on a fresh machine
# that is mostly download and unpacking, which then overlaps the host's
# suites instead of adding to them. Each test run below waits for its
# chroot (a lock in test-release.sh) and reports a failed preparation.
for release in "${releases[@]}"; do
  if [ "$release" != "$host" ] && [ -z "${ZC_NO_PREPARE:-}" ]; then
    nice -n 19 ionice -c 3 scripts/test-release.sh "$release" --prepare \
      >/dev/null 2>&1 &
  fi
done

for release in "${releases[@]}"; do
  if [ "$release" = "$host" ]; then
    start=$(date +%s)
    echo "=== release $release (this machine)"
    if ! ZC_WERROR=true scripts/setup.sh; then
      failed+=("$release setup")
      failed_steps=$((failed_steps + 1))
      summary+=("release $release: FAILED (setup or build)")
      continue
    fi
    scripts/check-format.sh
    tally format $?
    rm -f build/meson-logs/testlog.json
    # Tests that start Mutter or Chromium are marked not parallel; the rest
    # run two at a time on a 2-core machine.
    meson test -C build --print-errorlogs --num-processes 2 "$@"
    status=$?
    [ $status -eq 0 ] || failed+=("$release meson suites")
    logs+=(build/meson-logs/testlog.json)
    line="meson suites $(counts build/meson-logs/testlog.json)"
    if [ $# -eq 0 ] && [ -z "${ZC_QUICK:-}" ]; then
      scripts/test-sanitizers.sh
      s=$?
      tally "$release sanitizers" $s
      [ $s -eq 0 ] && line+=", sanitizers passed" || { line+=", sanitizers FAILED"; status=1; }
      tests/fuzz/run-fuzz.sh 20
      s=$?
      tally "$release fuzzing" $s
      [ $s -eq 0 ] && line+=", fuzzing passed" || { line+=", fuzzing FAILED"; status=1; }
    fi
    [ $status -eq 0 ] && verdict=PASSED || verdict=FAILED
    summary+=("release $release: $verdict: $line in $(($(date +%s) - start)) s")
    echo "${summary[-1]}"
  else
    echo "=== release $release (chroot)"
    out=$(mktemp)
    scripts/test-release.sh "$release" "$@" 2>&1 | tee "$out"
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
      failed+=("$release")
      # Not fetched, not built, or failing outside any test: one failure.
      case "$(counts "build-$release/meson-logs/testlog.json")" in
        *" 0 failed"*) failed_steps=$((failed_steps + 1)) ;;
      esac
    fi
    summary+=("$(grep "^release $release: " "$out" | tail -n 1)")
    [ -n "${summary[-1]}" ] || summary[-1]="release $release: FAILED (no result)"
    rm -f "$out"
    logs+=("build-$release/meson-logs/testlog.json")
  fi
done

# The desktop images (packaging/): built and run with podman on the host,
# once per full run (scripts/test-containers.sh; about 2 min with podman's
# cache from an earlier run, 2.6 min when the sources changed (both build
# stages, trixie's and the Sway image's sid one, compile at once); a fresh
# machine also makes both bases and every apt layer: README.md, Containers).
if [ $# -eq 0 ] && [ -z "${ZC_QUICK:-}" ] && [[ " ${releases[*]} " == *" $host "* ]]; then
  start=$(date +%s)
  echo "=== containers (podman)"
  scripts/test-containers.sh
  s=$?
  tally containers $s
  [ $s -eq 0 ] && verdict=PASSED || verdict=FAILED
  summary+=("containers: $verdict: GNOME and Sway images in $(($(date +%s) - start)) s")
  echo "${summary[-1]}"
fi

wait # the background preparations, long done by now
echo "=== summary ($(($(date +%s) - run_start)) s)"
printf '%s\n' "${summary[@]}"
# Each failed meson test again, with the last lines of its output (CI
# keeps only the tail of a run, and that must say what broke), then one
# closing line of totals for people and CI alike.
python3 - "$passed_steps" "$failed_steps" "${logs[@]}" <<'PY'
import json, sys
ok, bad, skip = int(sys.argv[1]), int(sys.argv[2]), 0
for path in sys.argv[3:]:
    try:
        lines = open(path).readlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line)
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            ok += 1
            continue
        if r["result"] == "SKIP":
            skip += 1
            continue
        bad += 1
        print(f"--- failed in {path.split('/')[0]}: {r['name']} ({r['result']}, "
              f"{r.get('duration', 0):.1f} s); the last lines of its output:")
        for stream in ("stdout", "stderr"):
            tail = (r.get(stream) or "").rstrip().splitlines()[-15:]
            if tail:
                print(f"  {stream}:")
            for text in tail:
                print(f"    {text[:300]}")
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "test.sh: everything passed"
