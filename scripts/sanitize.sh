#!/usr/bin/env bash
# The sanitizer configurations: the whole suite under ASan+UBSan, and the
# tests labelled `embedding` (a host running the io_context on several
# threads) under TSan.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
jobs=${MAESTRO_JOBS:-$(nproc)}

asan=${MAESTRO_ASAN_BUILD_DIR:-$root/build-asan}
"$here/build.sh" "$asan" -DCMAKE_BUILD_TYPE=Debug -DMAESTRO_SANITIZE=address,undefined \
  -DMAESTRO_BUILD_BENCHMARKS=OFF
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$here/run-ctest.sh" --output-on-failure -j "$jobs" -LE install)

tsan=${MAESTRO_TSAN_BUILD_DIR:-$root/build-tsan}
if ! grep -q 'embedding_tests' "$root/tests/CMakeLists.txt"; then
  echo "sanitize: no embedding tests yet, TSan configuration skipped" >&2
  exit 0
fi
cmake -S "$root" -B "$tsan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAESTRO_SANITIZE=thread \
  -DMAESTRO_BUILD_BENCHMARKS=OFF -DMAESTRO_BUILD_APPS=OFF >/dev/null
cmake --build "$tsan" -j "$jobs" --target embedding_tests
(cd "$tsan" && TSAN_OPTIONS=halt_on_error=1 "$here/run-ctest.sh" --output-on-failure -L embedding)
