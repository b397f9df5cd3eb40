#!/usr/bin/env bash
# The README's second command: a from-scratch build and the whole test suite
# under CTest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=${MAESTRO_TEST_BUILD_DIR:-$root/build-test}
rm -rf "$dir"
"$here/build.sh" "$dir" -DCMAKE_BUILD_TYPE=Debug
cd "$dir"
"$here/run-ctest.sh" --output-on-failure -j "${MAESTRO_JOBS:-$(nproc)}"
