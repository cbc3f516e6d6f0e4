#!/bin/sh
# mkgrubdisk-linux.sh KERNEL INITRD OUT.img "CMDLINE"
# A partitioned BIOS boot disk for Linux, built without loop devices or root:
# an MBR with one bootable Linux partition (1 MiB..end, ext2 made by
# mke2fs -d holding /boot/vmlinuz and /boot/initrd), GRUB 2's boot.img in the
# MBR and its core.img in the gap before the partition (as grub-install does
# on a BIOS/MBR disk). core.img's built-in config loads the kernel and initrd
# from (hd0,msdos1) and boots; GRUB talks on the serial port.
# Needs grub-pc-bin, grub-common, e2fsprogs, python3.
set -eu
kernel=$1 initrd=$2 out=$3 cmdline=$4
grubdir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
[ -f "$grubdir/boot.img" ] || { echo "mkgrubdisk-linux: $grubdir/boot.img missing; apt-get install grub-pc-bin" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/fs/boot"
cp "$kernel" "$tmp/fs/boot/vmlinuz"
gzip -1 <"$initrd" >"$tmp/fs/boot/initrd"
kb=$(( ($(du -sk "$tmp/fs" | cut -f1) * 5 / 4 + 4096) ))
cat >"$tmp/early.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
echo "GRUB: loading Linux from (hd0,msdos1)"
linux (hd0,msdos1)/boot/vmlinuz $cmdline
initrd (hd0,msdos1)/boot/initrd
boot
CFG
grub-mkimage -O i386-pc -C none -d "$grubdir" -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
	-c "$tmp/early.cfg" biosdisk part_msdos ext2 linux serial terminal echo
[ $(( ($(stat -c %s "$tmp/core.img") + 511) / 512 )) -lt 2047 ] || { echo "mkgrubdisk-linux: core.img too big" >&2; exit 1; }
rm -f "$out"
mke2fs -q -F -t ext2 -d "$tmp/fs" -E offset=1048576 "$out" "${kb}k"
total=$(( 2048 + kb * 2 ))
truncate -s $(( total * 512 )) "$out"
python3 - "$out" "$total" <<'PY'
import struct, sys
path, total = sys.argv[1], int(sys.argv[2])
# One primary partition: bootable, type 0x83, LBA 2048 to the end. CHS fields
# are the "use LBA" values (fe ff ff); GRUB and Linux read the LBA fields.
entry = struct.pack('<B3sB3sII', 0x80, b'\xfe\xff\xff', 0x83, b'\xfe\xff\xff', 2048, total - 2048)
with open(path, 'r+b') as f:
    f.seek(446)
    f.write(entry + b'\0' * 48 + b'\x55\xaa')
PY
# boot.img's code (the first 440 bytes: not the disk signature or the table).
dd if="$grubdir/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
