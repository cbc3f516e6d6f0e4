#!/bin/sh
# demo.sh [BUILD_DIR]   (default ./build; build myvmm there first)
#
# Shows myvmm booting a guest on this host:
#  - KVM with VMX/SVM: fetches Debian 12's kernel and a busybox initramfs
#    (scripts/fetch-debian-guest.sh) and boots them to a shell on this
#    terminal; 'poweroff' in the guest ends the demo (myvmm exits 0),
#    Ctrl-A x quits at any time.
#  - KVM on PVM (software virtualization): a stock kernel cannot reach
#    userspace there, so it boots the project's test kernel instead
#    (tk=info, then tk=smp on 2 vCPUs).
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

echo "demo: this host's /dev/kvm is PVM (software virtualization without VMX/SVM): a stock Debian kernel stops in KVM's instruction emulator before userspace, so booting myvmm's test kernel instead." >&2
tk=$build/tests/guest/testkernel.elf
[ -f "$tk" ] || { echo "demo: $tk not found: build the 'testkernel' target" >&2; exit 2; }

# The test kernel reports PASS through the debug-exit port: write of 0 -> exit 1.
run() {
	echo "demo: \$ myvmm --kernel $tk $*" >&2
	rc=0
	"$myvmm" --kernel "$tk" --timeout 60 "$@" || rc=$?
	[ $rc = 1 ] || { echo "demo: myvmm exited $rc (expected 1: test kernel PASS)" >&2; exit 1; }
}
run --cmdline tk=info
run --cmdline tk=smp --cpus 2
echo "demo: done" >&2
