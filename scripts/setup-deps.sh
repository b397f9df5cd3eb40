#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, if any is missing.
# Runs apt-get as root, or through sudo when not root. Idempotent and quiet
# when everything is there already.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config python3
  libboost1.81-dev libboost-json1.81-dev libboost-log1.81-dev
  libboost-test1.81-dev libboost-filesystem1.81-dev
  libcli11-dev libfmt-dev
  python3-prometheus-client
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
conflicting=()
if dpkg-query -W -f='${Status}' libboost1.74-dev 2>/dev/null | grep -q "install ok installed"; then
  conflicting+=(libboost1.74-dev)  # conflicts with libboost1.81-dev
fi
[ ${#missing[@]} -eq 0 ] && [ ${#conflicting[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-deps: installing ${missing[*]:-nothing}${conflicting:+, removing ${conflicting[*]}}" >&2
"${sudo[@]}" apt-get update -q >/dev/null
if [ ${#conflicting[@]} -gt 0 ]; then
  "${sudo[@]}" apt-get remove -y -q "${conflicting[@]}" >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
