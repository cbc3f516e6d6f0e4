#!/usr/bin/env bash
# Installs what myvmm needs to build and test, from Debian's packages.
# Only missing packages are installed; safe to run again.
set -euo pipefail
PKGS=(build-essential cmake pkg-config check libsubunit-dev libfdt-dev libaio-dev liburing-dev
      libsdl2-dev python3 xz-utils cpio qemu-system-x86 binutils
      clang libclang-rt-14-dev time xvfb xdotool x11-apps imagemagick libsdl2-2.0-0
      seabios grub-pc-bin grub-common libslirp-dev libslirp0 qemu-utils libjansson-dev gdb curl
      qemu-system-common
      zlib1g-dev lava-dispatcher python3-yaml python3-jinja2 man-db e2fsprogs libseccomp-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
