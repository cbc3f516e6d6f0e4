#!/bin/sh
# Builds a BIOS-bootable raw disk image: GRUB 2 (Debian's grub-pc-bin) boot.img
# in the MBR, core.img embedded from sector 1, and the kernel inside GRUB's
# memdisk (a tar in core.img), loaded with `multiboot`. No loop devices, no
# root-only operations, nothing installed on the host's disk.
# Usage: mkgrubdisk.sh KERNEL OUT.img [KERNEL ARGS] (default args: tk=info)
set -eu
kernel=${1:?usage: mkgrubdisk.sh KERNEL OUT.img [ARGS]}
out=${2:?usage: mkgrubdisk.sh KERNEL OUT.img [ARGS]}
args=${3:-tk=info}
grubdir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
[ -f "$grubdir/boot.img" ] || { echo "mkgrubdisk: $grubdir/boot.img missing; apt-get install grub-pc-bin grub-common" >&2; exit 2; }
command -v grub-mkimage >/dev/null || { echo "mkgrubdisk: grub-mkimage missing; apt-get install grub-common" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/md"
# Without its debug information (315 KiB -> 57 KiB for the test kernel): the
# BIOS reads core.img sector by sector, and on a PVM host every IDE data-port
# access is emulated, so each sector dropped is boot time saved.
strip -o "$tmp/md/kernel" "$kernel" 2>/dev/null || cp "$kernel" "$tmp/md/kernel"
(cd "$tmp/md" && tar -cf "$tmp/memdisk.tar" --format=ustar kernel)
cat > "$tmp/early.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
echo "GRUB: loading kernel"
multiboot (memdisk)/kernel $args
boot
CFG
# No compression: LZMA decoding runs in the instruction emulator on PVM hosts
# (about a minute for this image); the image is only read once by the BIOS.
grub-mkimage -O i386-pc -C none -d "$grubdir" -o "$tmp/core.img" -p '(memdisk)/' \
	-c "$tmp/early.cfg" -m "$tmp/memdisk.tar" \
	biosdisk memdisk tar multiboot serial terminal echo
core_sectors=$(( ($(stat -c %s "$tmp/core.img") + 511) / 512 ))
# The embedding area ends where a first partition would start (1 MiB).
[ "$core_sectors" -lt 2047 ] || { echo "mkgrubdisk: core.img too big ($core_sectors sectors)" >&2; exit 1; }
rm -f "$out"
truncate -s 4M "$out"
# boot.img loads LBA 1 (its default kernel sector); diskboot.img (first
# sector of core.img) carries the blocklist for the rest, filled by grub-mkimage.
dd if="$grubdir/boot.img" of="$out" bs=446 count=1 conv=notrunc status=none
printf '\125\252' | dd of="$out" bs=1 seek=510 conv=notrunc status=none
dd if="$tmp/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
