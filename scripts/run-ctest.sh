#!/usr/bin/env bash
# run-ctest.sh [CTEST_ARGS...]: ctest in the current build directory. Tests
# that cannot run here (the full-disk test without root, the Slurm tests
# where no cluster can come up) are reported by CTest as skipped, and why
# is printed after CTest's summary. Under CI (CI set) a skipped test fails
# the run, so that a green CI means every test ran.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest "$@" 2>&1 | tee "$log" || status=$?
if grep -q '(Skipped)' "$log"; then
  # Why, from the skipped tests' own output (CTest keeps it in LastTest.log).
  grep -h -o -E '(^skipped: .*|is skipped because .*)' Testing/Temporary/LastTest*.log 2>/dev/null |
    sed 's/\x1b\[[0-9;]*m//g' | sort -u | sed 's/^/run-ctest: /' >&2 || true
fi
if [ "$status" -eq 0 ] && [ -n "${CI:-}" ] && grep -q '(Skipped)' "$log"; then
  echo "run-ctest: a test was skipped; under CI every test must run" >&2
  exit 1
fi
exit "$status"
