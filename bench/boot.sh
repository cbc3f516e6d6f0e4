#!/usr/bin/env bash
# bench/boot.sh [N=30]: whole-VMM lifecycle (process start to process exit)
# of myvmm vs QEMU microvm (and kvmtool if installed), same guest, interleaved.
# Builds nothing: BUILD_DIR (default ./build) must hold myvmm and the test kernel.
#
# Scenarios (all end in a write to the isa-debug-exit port 0xf4):
#   null  157-byte PVH ELF made here: prints "ok", exits. Pure VMM overhead.
#         (cmdline "bench": myvmm rejects an empty --cmdline)
#   exit  test kernel, "tk=exit tk.code=21": the minimal test-kernel boot.
#   info  test kernel, "tk=info" (N/3 runs): more guest work, prints a lot.
# Exit status 0 unless a VMM failed to run a scenario.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

N=${1:-30}
BUILD_DIR=${BUILD_DIR:-./build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
ELF=${ELF:-$BUILD_DIR/tests/guest/testkernel.elf}
QEMU=${QEMU:-qemu-system-x86_64}
MEM=128M
CODE=21                      # debug-exit value; every VMM exits (21<<1)|1 = 43
STATUS=$(( (CODE << 1) | 1 ))

bench_need python3 "$QEMU" || exit 2
[ -x "$BENCH_TIME" ] || { echo "boot.sh: $BENCH_TIME missing (apt-get install time)" >&2; exit 2; }
[ -x "$MYVMM" ] || { echo "boot.sh: no myvmm at $MYVMM (set BUILD_DIR)" >&2; exit 2; }
[ -r "$ELF" ] || { echo "boot.sh: no test kernel at $ELF" >&2; exit 2; }
[ -w /dev/kvm ] || { echo "boot.sh: /dev/kvm not usable" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NULL_ELF=$tmp/null.elf
bench_null_elf "$NULL_ELF" "$CODE"

# QEMU 7.2 with "-cpu host" aborts on some hosts (PVM: "failed to set MSR
# 0x10a"); fall back to host without arch-capabilities there.
QCPU=host
sh -c '"$@" </dev/null >/dev/null 2>&1; exit $?' sh "$QEMU" -M microvm -enable-kvm \
	-cpu host -m $MEM -nodefaults -no-user-config -nographic -serial none \
	-kernel "$NULL_ELF" -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null
[ $? -eq $STATUS ] || QCPU=host,-arch-capabilities

myvmm_cmd() { # ELF CMDLINE
	echo "$MYVMM --kernel $1 --cmdline '$2' --console none --mem $MEM"
}
qemu_cmd() {
	echo "$QEMU -M microvm -enable-kvm -cpu $QCPU -m $MEM -nodefaults -no-user-config" \
		"-nographic -serial none -kernel $1 -append '$2'" \
		"-device isa-debug-exit,iobase=0xf4,iosize=4"
}

if command -v lkvm >/dev/null 2>&1; then
	echo "note: lkvm found, but kvmtool has no isa-debug-exit device; it is" \
		"not timed here (the guest would halt forever). Reference from" \
		"HOST-NOTES: kvmtool 24 ms / 2.0 MiB for a one-line guest."
fi

echo "boot.sh: N=$N, mem $MEM, myvmm=$MYVMM, QEMU -cpu $QCPU, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %-10s %9s %9s %9s %9s\n' scenario vmm "med ms" "p90 ms" "min ms" "RSS MiB"

failed=0
scenario() { # NAME RUNS ELF CMDLINE EXPECTED_STATUS
	local name=$1 runs=$2 elf=$3 cl=$4 st=$5 out
	out=$(bench_interleave "$runs" \
		"floor|0|/bin/true" \
		"myvmm|$st|$(myvmm_cmd "$elf" "$cl")" \
		"myvmm-nopit|$st|$(myvmm_cmd "$elf" "$cl") --no-pit" \
		"qemu|$st|$(qemu_cmd "$elf" "$cl")") || failed=1
	echo "$out" | while read -r label med p90 min rss _; do
		printf '%-8s %-10s %9s %9s %9s %9s\n' "$name" "$label" "$med" "$p90" "$min" "$rss"
	done
	echo "$out" | python3 -c '
import sys
d = {l.split()[0]: [float(x) for x in l.split()[1:]] for l in sys.stdin if l.strip()}
q = d["qemu"]
name = sys.argv[1]
for label in ("myvmm", "myvmm-nopit"):
    m = d[label]
    print(f"{name:8} {label}/qemu: wall {m[0]/q[0]:.2f}x, RSS {m[3]/q[3]:.2f}x;"
          f" /kvmtool(24 ms ref): {m[0]/24:.2f}x"
          + ("" if name == "info" else "; target <=15 ms & <3 MiB: "
             + ("MET" if m[0] <= 15 and m[3] < 3 else "NOT MET")))
' "$name"
}

scenario null "$N" "$NULL_ELF" "bench" "$STATUS"
scenario exit "$N" "$ELF" "tk=exit tk.code=$CODE" "$STATUS"
scenario info $(( (N + 2) / 3 )) "$ELF" "tk=info" 1
echo "(floor = the harness forking /usr/bin/time + /bin/true; it is included in every figure;"
echo " myvmm-nopit = --no-pit: no in-kernel i8254, whose KVM setup/teardown costs ~15 ms here)"

if [ $failed -ne 0 ]; then
	echo "boot.sh: a VMM failed to run (see messages above)" >&2
	exit 1
fi
exit 0
