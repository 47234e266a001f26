#!/usr/bin/env bash
# build.sh - configure and build into ./build (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DVIRTUMANCER_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"
