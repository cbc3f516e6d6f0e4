#!/usr/bin/env bash
# The test command: installs dependencies, builds with warnings as errors and
# runs every test (unit, boot, reference, Debian kernel) through ctest.
# KVM tests need /dev/kvm: without it they fail, they are never skipped.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
BUILD_DIR=${BUILD_DIR:-$top/build} "$top/scripts/build.sh"
cd "${BUILD_DIR:-$top/build}"
ctest --output-on-failure -j2 "$@"
