#!/usr/bin/env bash
# The demo command: installs dependencies, builds, fetches a Debian guest and
# boots it (on a PVM host, which cannot run a stock kernel to userspace, it
# says so and boots myvmm's own test kernel instead).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
BUILD_DIR=${BUILD_DIR:-$top/build} "$top/scripts/build.sh"
exec "$top/scripts/demo.sh" "${BUILD_DIR:-$top/build}"
