#!/bin/sh
# The install_consumer test: maestro used by a downstream CMake project.
#
#   run.sh SOURCE_DIR BUILD_DIR CXX_COMPILER
#
# 1. `cmake --install BUILD_DIR` into a temporary prefix, then configure,
#    build and run tests/consumer with find_package(maestro) from it.
# 2. Configure, build and run tests/consumer with add_subdirectory of
#    SOURCE_DIR (skipped when MAESTRO_CONSUMER_SKIP_SUBDIRECTORY=1).
# Each run must print `maestro consumer: 1 stage(s)`. Parallelism follows
# CMAKE_BUILD_PARALLEL_LEVEL. Everything is removed at exit.
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR CXX_COMPILER" >&2
  exit 2
fi
source_dir=$1
build_dir=$2
cxx=$3
expected='maestro consumer: 1 stage(s)'

work=$(mktemp -d "${TMPDIR:-/tmp}/maestro-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

generator=
if command -v ninja >/dev/null 2>&1; then
  generator='-GNinja'
fi

now() { date +%s; }

# Runs the consumer binary in $1 and checks its output.
check_output() {
  output=$("$1/maestro_consumer")
  echo "$output"
  if [ "$output" != "$expected" ]; then
    echo "FAIL: expected '$expected'" >&2
    exit 1
  fi
}

echo "== find_package(maestro) after cmake --install"
start=$(now)
cmake --install "$build_dir" --prefix "$work/prefix"
cmake -S "$source_dir/tests/consumer" -B "$work/find-package" $generator \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$work/find-package"
check_output "$work/find-package"
echo "find_package mode: $(( $(now) - start )) s"

if [ "${MAESTRO_CONSUMER_SKIP_SUBDIRECTORY:-0}" = 1 ]; then
  echo "== add_subdirectory: skipped (MAESTRO_CONSUMER_SKIP_SUBDIRECTORY=1)"
  exit 0
fi

echo "== add_subdirectory(maestro)"
start=$(now)
cmake -S "$source_dir/tests/consumer" -B "$work/subdirectory" $generator \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
  -DMAESTRO_CONSUMER_SUBDIRECTORY=ON -DMAESTRO_SOURCE_DIR="$source_dir"
cmake --build "$work/subdirectory"
check_output "$work/subdirectory"
echo "add_subdirectory mode: $(( $(now) - start )) s"
