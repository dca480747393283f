#!/usr/bin/env bash
# The main job on the shipped example: compile it for Cortex-M4, verify the C bit-exactly, and run the
# firmware under QEMU (mps2-an386), which compares its scores with the TS reference and prints PASS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
npm run build --silent
npx bnn-gen --target cortex-m4 -o out/example
npx bnn-gen verify
make -C out/example run
