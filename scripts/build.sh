#!/usr/bin/env bash
# build.sh BUILD_DIR [CMAKE_ARGS...]: installs missing packages, configures
# and builds everything in BUILD_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=${1:?usage: build.sh BUILD_DIR [CMAKE_ARGS...]}
shift
"$here/setup-deps.sh"
jobs=${MAESTRO_JOBS:-$(nproc)}
cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -j "$jobs"
