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
echo "== maestro-async detect   (in $work)"
"$bin" detect --tasks-file tasks.jsonl
echo
echo "== maestro-async run"
set +e
"$bin" run --tasks-file tasks.jsonl
code=$?
set -e
echo "(exit code $code)"
echo
echo "== maestro-async list"
"$bin" list
for g in api web-ui; do
  echo
  echo "== maestro-async status --group-id $g"
  "$bin" status --group-id "$g"
done
echo
echo "== what the agents wrote"
find src docs -type f | sort | while read -r f; do echo "--- $f"; cat "$f"; done
exit $code
