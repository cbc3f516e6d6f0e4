#!/bin/sh
# demo.sh [BUILD_DIR]   (default ./build; build myvmm there first)
#
# Shows myvmm booting a guest on this host:
#  - KVM with VMX/SVM: fetches Debian 12's kernel and a busybox initramfs
#    (scripts/fetch-debian-guest.sh) and boots them to a shell on this
#    terminal; 'poweroff' in the guest ends the demo (myvmm exits 0),
#    Ctrl-A x quits at any time.
#  - KVM on PVM (software virtualization): a stock kernel cannot reach
#    userspace there, so it boots the same kernel and initramfs under myvmm
#    inside an emulated SVM machine (tests/nested/run-nested.sh --demo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-./build}
myvmm=$build/myvmm
[ -x "$myvmm" ] || { echo "demo: $myvmm not found: build first (cmake -S . -B $build && cmake --build $build)" >&2; exit 2; }
[ -c /dev/kvm ] || { echo "demo: /dev/kvm missing: this host cannot run VMs" >&2; exit 2; }

if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ] || [ ! -d /sys/module/kvm_pvm ]; then
	cache=${MYVMM_DEBIAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/myvmm/debian}
	echo "demo: fetching Debian 12's kernel and a busybox initramfs into $cache" >&2
	"$here/fetch-debian-guest.sh" "$cache" >/dev/null
	echo "demo: booting Debian's kernel (2 vCPUs, 512M); 'poweroff' in the guest or Ctrl-A x to quit" >&2
	exec "$myvmm" --kernel "$cache/vmlinuz" --initrd "$cache/initramfs.cpio.gz" \
		--cpus 2 --mem 512M --cmdline "console=ttyS0"
fi

# PVM: Debian's kernel cannot run directly, so the demo takes the nested
# path of tests/nested: QEMU emulates an AMD machine with SVM (TCG), KVM
# runs inside it, and myvmm boots Debian's kernel there.
cache=${MYVMM_DEBIAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/myvmm/debian}
echo "demo: this host's /dev/kvm is PVM (software virtualization without VMX/SVM), where a stock kernel cannot run, so myvmm runs inside an emulated AMD machine with SVM (QEMU TCG) and boots Debian's kernel to a busybox shell there: about 2 minutes on an idle 2-core host; 'poweroff' in the guest ends it, Ctrl-A x quits." >&2
exec "$here/../tests/nested/run-nested.sh" --demo "$myvmm" "$cache" "$build/nested-demo"
