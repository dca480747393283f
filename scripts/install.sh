#!/usr/bin/env bash
# Installs what bnn-gen needs on Debian 12 (run as root): Debian toolchains, then the npm dependencies.
#   bash scripts/install.sh            toolchains for firmware (arm-none-eabi-gcc, newlib, qemu-system-arm)
#   bash scripts/install.sh --test     also emscripten and host tools used by the test suite
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm make gcc cmake)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(emscripten libglib2.0-dev python3-torch python3-onnx openocd chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install.sh: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: need root to run apt-get (missing: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
