#!/usr/bin/env bash
# bench/pciscan.sh [N=3]: time of a whole-PCI-space scan in the guest (the
# test kernel's tk=pci-scan: 65,536 CONFIG_ADDRESS writes + CONFIG_DATA reads,
# the pattern of Linux's AGP aperture probe on AMD family 0xf CPUs), myvmm vs
# QEMU -M pc in the same run, and the number of KVM_RUN calls each VMM makes
# for it (strace, 16 buses), which shows the exits coalescing saves (QEMU's count includes SeaBIOS, which -M pc
# runs before the kernel). The
# guest's time comes from the ACPI PM timer. Builds nothing: BUILD_DIR
# (default ./build) must hold myvmm and the test kernel.
set -u
N=${1:-3}
BUILD_DIR=${BUILD_DIR:-./build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
ELF=${ELF:-$BUILD_DIR/tests/guest/testkernel.elf}
QEMU=${QEMU:-qemu-system-x86_64}
[ -x "$MYVMM" ] && [ -r "$ELF" ] || { echo "pciscan.sh: build myvmm and the test kernel first" >&2; exit 2; }
command -v "$QEMU" >/dev/null || { echo "pciscan.sh: $QEMU missing" >&2; exit 2; }

myvmm_run() { timeout 120 "$MYVMM" --kernel "$ELF" --mem 64M --cmdline "tk=pci-scan $1" 2>/dev/null; }
qemu_run() {
	timeout 120 "$QEMU" -M pc -enable-kvm -cpu host,-arch-capabilities -m 64 -nodefaults \
		-no-user-config -nographic -serial stdio -kernel "$ELF" \
		-append "tk=pci-scan $1" -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null
}
us_of() { sed -n 's/.*TK: pciscan reads [0-9]* found [0-9]* us \([0-9]*\).*/\1/p' | tr -d '\r'; }

echo "pciscan.sh: N=$N, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-6s %-8s %12s %12s\n' run vmm "scan ms" "us/read"
for i in $(seq 1 "$N"); do
	for v in myvmm qemu; do
		us=$(${v}_run "" | us_of)
		[ -n "$us" ] || { echo "pciscan.sh: $v printed no pciscan line" >&2; exit 1; }
		awk -v i="$i" -v v="$v" -v us="$us" 'BEGIN { printf "%-6s %-8s %12.1f %12.2f\n", i, v, us / 1000, us / 65536 }'
	done
done
if command -v strace >/dev/null; then
	for v in myvmm qemu; do
		n=$(strace -f -e trace=ioctl -o /dev/stdout bash -c "$(declare -f ${v}_run); MYVMM=$MYVMM QEMU=$QEMU ELF=$ELF; ${v}_run tk.buses=16 >/dev/null" \
			| grep -c 'KVM_RUN')
		echo "KVM_RUN calls, 16 buses (4096 reads): $v $n"
	done
fi
