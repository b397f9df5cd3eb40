#!/usr/bin/env bash
# run-demo.sh MAESTRO_ASYNC: runs the bundled demo in a fresh copy under
# build/demo-run, so that the source tree stays clean and each run starts
# from nothing.
set -euo pipefail
bin=$(realpath "${1:?usage: run-demo.sh PATH/TO/maestro-async}")
here=$(cd "$(dirname "$0")" && pwd)
work=${MAESTRO_DEMO_DIR:-$(dirname "$here")/build/demo-run}
rm -rf "$work"
mkdir -p "$work"
cp -r "$here/tasks.jsonl" "$here/maestro.json" "$here/agents" "$work/"
cd "$work"
echo "== maestro-async detect (in $work)"
"$bin" detect --tasks-file tasks.jsonl
