#!/usr/bin/env bash
# The README's first command: build everything (installing missing Debian
# packages) and run the bundled demo. Needs no network beyond Debian's
# mirrors and no API key: the demo's agents are small local scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
"$here/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release
exec "$root/demo/run-demo.sh" "$root/build/apps/maestro-async"
