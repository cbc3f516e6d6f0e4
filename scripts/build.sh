#!/usr/bin/env bash
# Configures and builds myvmm into BUILD_DIR (default ./build).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMYVMM_WERROR=ON -DMYVMM_FUZZ=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
