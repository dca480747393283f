#!/usr/bin/env bash
# Installs everything the tests need, then runs the whole suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
npx tsc -p tsconfig.json
npx vitest run "$@"
