#!/usr/bin/env bash
# Checks every C source and header against .clang-format (CI runs it from
# scripts/test.sh). `scripts/check-format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2> /tmp/zc-format.$$; then
  grep -m 20 'error:' /tmp/zc-format.$$ >&2 || true
  rm -f /tmp/zc-format.$$
  echo "check-format: files differ from .clang-format; run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/zc-format.$$
echo "check-format: ${#files[@]} files follow .clang-format"
