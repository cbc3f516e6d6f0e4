#!/bin/sh
# run-debian-boot.sh CASE MYVMM CACHE_DIR WORK_DIR
#
# Boots Debian 12's packaged kernel (fetched by scripts/fetch-debian-guest.sh
# into CACHE_DIR) under myvmm and checks what the guest printed against the
# machine myvmm built: the e820 map, the ACPI tables, the MADT's CPUs.
#   CASE vmlinux_pvh    vmlinux (ELF, PVH entry), 2 vCPUs, 512M
#   CASE cloud_bzimage  cloud bzImage (LZ4) via the 64-bit boot protocol entry
# What the test expects depends on the host:
#   VMX/SVM (kvm_intel/kvm_amd loaded): the guest must reach the initramfs's
#     "myvmm-demo: userspace up" (myvmm exits 0 through --expect).
#   otherwise (PVM: software virtualization): KVM's instruction emulator gives
#     up on the first instruction it cannot emulate (cmpxchg16b, int3, ...):
#     myvmm must exit 3 with a register dump, after the kernel printed what
#     this case reliably reaches here.
# MYVMM_DEBIAN_HOST=hw|pvm overrides the host detection.
set -u

case_=$1 myvmm=$2 cache=$3 work=$4
mkdir -p "$work"
log="$work/$case_.console.log"
err="$work/$case_.stderr.log"
rm -f "$log" "$err"

host=${MYVMM_DEBIAN_HOST:-}
if [ -z "$host" ]; then
	if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
		host=hw
	else
		host=pvm
	fi
fi

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# need DESC ERE: the console log must contain a line matching ERE.
need() {
	if grep -Eq -- "$2" "$log"; then echo "ok:   $1"; else fail "$1 (no line matching /$2/)"; fi
}
# never DESC ERE: no console line may match ERE.
never() {
	if grep -Eq -- "$2" "$log"; then fail "$1: $(grep -E -m1 -- "$2" "$log")"; else echo "ok:   $1"; fi
}

# Measured here (2 cores, PVM, other jobs running): vmlinux_pvh ends after
# 70-120 s; cloud_bzimage spends 150-200 s in the decompressor before
# "Linux version" and ends after 190-240 s. ctest's TIMEOUT is 300.
case $case_ in
vmlinux_pvh)   kernel=$cache/vmlinux;       limit=280 ;;
cloud_bzimage) kernel=$cache/vmlinuz-cloud; limit=280 ;;
*) echo "unknown case $case_"; exit 2 ;;
esac
for f in "$kernel" "$cache/initramfs.cpio.gz"; do
	[ -s "$f" ] || { echo "missing $f: run scripts/fetch-debian-guest.sh $cache"; exit 1; }
done

# 512M guest: RAM above 1 MiB ends at 0x1fffffff (no hole below 4 GiB is hit).
cmdline="console=ttyS0 earlyprintk=ttyS0"
start=$(date +%s)
"$myvmm" --kernel "$kernel" --initrd "$cache/initramfs.cpio.gz" --cpus 2 --mem 512M \
	--cmdline "$cmdline" --timeout ${MYVMM_DEBIAN_TIMEOUT:-$limit} --console "file:$log" \
	--expect 'myvmm-demo: userspace up' >"$err" 2>&1 </dev/null
rc=$?
end=$(date +%s)
touch "$log"
echo "host=$host case=$case_ myvmm exit=$rc after $((end - start)) s; console: $log"
echo "last console line: $(tail -n 1 "$log")"

# What both kernels print before anything this host's emulator can trip on
# (measured here: vmlinux PVH reaches "Memory: ..." at ~70 s, then stops at
# cmpxchg16b; see the report in tests/debian/CMakeLists.txt).
need "kernel banner"            '^\[ *[0-9.]+\] Linux version 6\.'
need "command line passed"      "Command line: $cmdline"
# e820 (src layout): low RAM up to the EBDA, then a reserved hole up to 1 MiB
# (the kernel merges 0x9fc00-0x9ffff and 0xe0000-0xfffff when both are given
# as reserved), then RAM from 1 MiB to the end of the 512 MiB guest.
need "e820 low RAM"             'BIOS-e820: \[mem 0x0000000000000000-0x000000000009fbff\] usable'
if grep -Eq 'BIOS-e820: \[mem 0x000000000009fc00-0x00000000000fffff\] reserved' "$log"; then
	echo "ok:   e820 reserved 0x9fc00-0xfffff"
else
	need "e820 EBDA reserved"   'BIOS-e820: \[mem 0x000000000009fc00-0x000000000009ffff\] reserved'
	need "e820 BIOS area reserved" 'BIOS-e820: \[mem 0x00000000000e0000-0x00000000000fffff\] reserved'
fi
need "e820 RAM from 1 MiB"      'BIOS-e820: \[mem 0x0000000000100000-0x000000001fffffff\] usable'
n=$(grep -Ec 'BIOS-e820: \[mem 0x[0-9a-f]+-0x[0-9a-f]+\] usable' "$log")
[ "$n" = 2 ] && echo "ok:   exactly 2 usable e820 ranges" || fail "expected 2 usable e820 ranges, saw $n"
need "last_pfn matches 512M"    'last_pfn = 0x20000 '
# ACPI: the kernel found and checksummed our RSDP -> XSDT -> FADT/DSDT/MADT.
need "ACPI RSDP"                'ACPI: RSDP 0x[0-9A-F]+ [0-9A-F]+ \(v02 '
need "ACPI XSDT"                'ACPI: XSDT 0x[0-9A-F]+ '
need "ACPI FACP"                'ACPI: FACP 0x[0-9A-F]+ '
need "ACPI DSDT"                'ACPI: DSDT 0x[0-9A-F]+ '
need "ACPI APIC (MADT)"         'ACPI: APIC 0x[0-9A-F]+ '
need "FADT PM timer"            'ACPI: PM-Timer IO Port: 0x[0-9a-f]+'
need "MADT IOAPIC"              'IOAPIC\[0\]: apic_id [0-9]+, version [0-9]+, address 0xfec00000, GSI 0-23'
need "SMP config from MADT"     'Using ACPI \(MADT\) for SMP configuration information'
need "MADT lists 2 CPUs"        'Allowing 2 CPUs, 0 hotplug CPUs'
never "no ACPI errors"          'ACPI (BIOS )?(Error|Warning)|Invalid checksum|ACPI: Unable to'
never "no panic"                'Kernel panic|BUG: |Oops'
never "no SMP config fallback"  'No local APIC present|APIC: disable|SMP motherboard not detected'

if [ "$host" = hw ]; then
	need "kernel started /init"     'Run /init as init process'
	need "busybox userspace up"     '^myvmm-demo: userspace up'
	need "both CPUs online"         'smp: Brought up 1 node, 2 CPUs'
	[ $rc = 0 ] || fail "myvmm exit status $rc, expected 0 (--expect matched)"
else
	# PVM: the guest's code runs through KVM's instruction emulator, which
	# stops on an instruction it cannot emulate. That must be reported as an
	# emulation failure (exit 3) with a register dump, never a hang or crash.
	if [ $rc = 124 ] && [ $case_ = cloud_bzimage ] && [ $fails = 0 ]; then
		# The cloud kernel's LZ4 decompression takes minutes here; on a
		# loaded machine the failure point can lie past the time limit.
		# Everything above was checked; vmlinux_pvh checks exit 3.
		echo "WARNING: timed out after the checked lines, before the emulation failure (slow host)"
		echo "all checks passed (exit status not checked: timeout)"
		exit 0
	fi
	# Measured: both kernels get to the page allocator, then stop at the
	# first cmpxchg16b (not emulated by this host's KVM).
	need "memory map set up"        '\] Memory: [0-9]+K/523896K available'
	[ $rc = 3 ] || fail "myvmm exit status $rc, expected 3 (emulation failure on a PVM host)"
	if grep -Eq 'RIP [0-9a-f]{16} +RSP [0-9a-f]{16}' "$err" && grep -q 'CR0 ' "$err"; then
		echo "ok:   register dump on stderr"
	else
		fail "no register dump (RIP/RSP/CR0) on myvmm's stderr"
	fi
fi

if [ $fails != 0 ]; then
	echo "--- myvmm stderr ($err) ---"; tail -n 20 "$err"
	echo "--- console tail ($log) ---"; tail -n 30 "$log"
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
