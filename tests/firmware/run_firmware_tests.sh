#!/bin/sh
# One firmware end-to-end test per invocation: run_firmware_tests.sh NAME.
# Env: MYVMM (binary), TK_MB (multiboot test kernel), MKGRUBDISK (script).
set -u
name=${1:?usage: run_firmware_tests.sh NAME}
: "${MYVMM:?}" "${TK_MB:?}" "${MKGRUBDISK:?}"
work=$(mktemp -d /tmp/fwtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL $name: $*"; [ -f "$work/out" ] && tail -30 "$work/out"; exit 1; }

mkdisk() { # ARGS -> $work/disk.img
	sh "$MKGRUBDISK" "$TK_MB" "$work/disk.img" "$1" || fail "mkgrubdisk failed"
}
run() { # expected-status myvmm-args...
	want=$1; shift
	"$MYVMM" --console file:"$work/out" --timeout 360 "$@" 2>"$work/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "exit status $rc, expected $want ($(cat "$work/err"))"
}
# The console file holds the guest's bytes as sent (CR LF line ends).
expect() { tr -d '\r' <"$work/out" | grep -q -- "$1" || fail "no line matching '$1'"; }

case $name in
bad_config)
	truncate -s 1M "$work/d.img"
	"$MYVMM" --boot disk --kernel "$TK_MB" --disk "$work/d.img" 2>"$work/err"
	[ $? = 2 ] && grep -q "boot disk" "$work/err" || fail "--boot disk --kernel accepted"
	"$MYVMM" --bios /nonexistent/bios.bin --disk "$work/d.img" 2>"$work/err"
	[ $? = 2 ] && grep -q "bios" "$work/err" || fail "missing --bios not reported"
	"$MYVMM" --boot kernel --disk "$work/d.img" 2>"$work/err"
	[ $? = 2 ] && grep -q -- "--kernel" "$work/err" || fail "--boot kernel without --kernel accepted"
	;;
ide_info|virtio_info)
	mkdisk tk=info
	iface=ide; [ "$name" = virtio_info ] && iface=virtio
	run 1 --disk "$work/disk.img,if=$iface"
	expect "SeaBIOS"
	expect "TK: myvmm test kernel (multiboot)"
	expect "TK: e820 .* 1$"            # RAM from GRUB (BIOS e820)
	expect "TK: rsdp 0x.* ok"          # installed by SeaBIOS from fw_cfg
	expect "TK: acpi FACP .* ok"
	expect "TK: fadt pm1a_evt 0x600"   # where SeaBIOS put the PIIX4 PM block
	expect "TK: s5 slp_typ 5"          # our DSDT, not SeaBIOS's
	expect "TK: PASS info"
	;;
poweroff)
	mkdisk tk=poweroff
	run 0 --disk "$work/disk.img,if=ide"
	expect "TK: poweroff"
	;;
reset)
	# First boot arms CMOS and resets through 0xCF9; the restarted machine
	# goes through the BIOS again and reports the reboot.
	mkdisk tk=reset-cf9
	run 1 --disk "$work/disk.img,if=ide" --timeout 700
	expect "TK: resetting via cf9"
	expect "TK: rebooted"
	[ "$(grep -c "SeaBIOS (version" "$work/out")" -ge 2 ] || fail "the BIOS did not run twice"
	;;
qemu_reference)
	# The same GRUB image on QEMU's pc machine: its SeaBIOS, GRUB and the
	# test kernel's expectations agree with what myvmm gives (ide_info).
	command -v qemu-system-x86_64 >/dev/null ||
		fail "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	mkdisk tk=info
	printf '\370\003' >"$work/sercon" # etc/sercon-port = 0x3f8: BIOS text on serial
	timeout 450 qemu-system-x86_64 -M pc -enable-kvm -cpu host,-arch-capabilities -m 512 \
		-nodefaults -no-user-config -display none -serial "file:$work/out" \
		-drive "file=$work/disk.img,format=raw,if=ide" \
		-fw_cfg "name=etc/sercon-port,file=$work/sercon" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null >/dev/null 2>"$work/err"
	rc=$?
	[ "$rc" = 1 ] || fail "QEMU exit status $rc, expected 1 ($(cat "$work/err"))"
	expect "SeaBIOS"
	expect "TK: myvmm test kernel (multiboot)"
	expect "TK: e820 .* 1$"
	expect "TK: rsdp 0x.* ok"
	expect "TK: PASS info"
	;;
*)
	fail "unknown test"
	;;
esac
echo "PASS $name"
