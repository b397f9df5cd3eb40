#!/usr/bin/env bash
# chromium.sh DIR: CTest's fixture for the browser test. Finds Debian's
# chromium, installing it (scripts/setup-deps.sh) when it is missing and
# this user can; writes DIR/chromium (its path) or DIR/skipped (why not,
# exit 77: CTest reports the test skipped, and CI fails on a skip).
set -uo pipefail
dir=${1:?usage: chromium.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
rm -f "$dir/chromium" "$dir/skipped"
skip() {
  echo "$1" > "$dir/skipped"
  echo "skipped: $1"
  exit 77
}
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    skip "chromium is not installed, and installing it needs root or sudo (apt-get install chromium)"
  fi
  if ! "$root/scripts/setup-deps.sh" chromium >"$dir/install.log" 2>&1; then
    skip "chromium is not installed and could not be installed: $(tail -1 "$dir/install.log")"
  fi
fi
path=$(command -v chromium) || skip "chromium is not on PATH after installing it"
# It must start: a headless run that prints the DOM of an empty page.
if ! timeout 60 "$path" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$dir/probe-profile" --dump-dom about:blank >"$dir/probe.log" 2>&1; then
  skip "chromium does not start headless here: $(tail -1 "$dir/probe.log")"
fi
rm -rf "$dir/probe-profile"
printf '%s' "$path" > "$dir/chromium"
echo "chromium: $path"
