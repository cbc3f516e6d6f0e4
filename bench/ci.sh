#!/usr/bin/env bash
# bench/ci.sh [N=40]: boots per second through a whole scripted CI run of N
# test-kernel boots, two at a time (both cores), myvmm vs QEMU microvm on the
# same PVH ELF in the same run. Each boot must exit with the test kernel's
# PASS status (1), or the run fails. Prints boots/s for each and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
N=${1:-40}
BUILD_DIR=${BUILD_DIR:-$here/../build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
ELF=${ELF:-$BUILD_DIR/tests/guest/testkernel.elf}
QEMU=${QEMU:-qemu-system-x86_64}
JOBS=${JOBS:-2}
SCENARIO=${SCENARIO:-tk=info}
bench_need "$MYVMM" "$QEMU" python3 xargs || exit 2
[[ -f $ELF ]] || { echo "bench: no test kernel at $ELF (build first)" >&2; exit 2; }

cpu="host"
probe=0
timeout 30 "$QEMU" -M microvm -enable-kvm -cpu host -nodefaults -no-user-config -display none \
	-kernel "$ELF" -append "tk=exit tk.code=0" -device isa-debug-exit,iobase=0xf4,iosize=4 \
	</dev/null >/dev/null 2>&1 || probe=$?
if [[ $probe -ne 1 ]]; then
	cpu="host,-arch-capabilities" # QEMU 7.2 cannot set MSR 0x10a on this host
fi

myvmm_cmd="$MYVMM --kernel $ELF --cmdline '$SCENARIO' --mem 128M --console none --timeout 60"
qemu_cmd="$QEMU -M microvm,rtc=on -enable-kvm -cpu $cpu -m 128M -nodefaults -no-user-config \
-display none -serial none -kernel $ELF -append '$SCENARIO' \
-device isa-debug-exit,iobase=0xf4,iosize=4"

# Runs N boots JOBS at a time; prints "seconds failures".
run_batch() {
	local cmd=$1
	python3 - "$N" "$JOBS" "$cmd" <<'PY'
import shlex, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
n, jobs, cmd = int(sys.argv[1]), int(sys.argv[2]), shlex.split(sys.argv[3])
def boot(_):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=120).returncode
t0 = time.monotonic()
with ThreadPoolExecutor(jobs) as ex:
    codes = list(ex.map(boot, range(n)))
dt = time.monotonic() - t0
print(f"{dt:.3f} {sum(1 for c in codes if c != 1)}")
PY
}

echo "bench/ci.sh: $N boots of '$SCENARIO', $JOBS in parallel, load $(cut -d' ' -f1 /proc/loadavg)"
read -r t_m f_m < <(run_batch "$myvmm_cmd")
read -r t_q f_q < <(run_batch "$qemu_cmd")
python3 - "$N" "$t_m" "$f_m" "$t_q" "$f_q" <<'PY'
import sys
n, tm, fm, tq, fq = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"{'vmm':8} {'seconds':>8} {'boots/s':>8} {'failed':>6}")
print(f"{'myvmm':8} {tm:8.2f} {n/tm:8.2f} {fm:6d}")
print(f"{'qemu':8} {tq:8.2f} {n/tq:8.2f} {fq:6d}")
print(f"ratio myvmm/qemu boots per second: {(n/tm)/(n/tq):.2f}x")
PY
if ((f_m || f_q)); then
	echo "bench: some boots did not pass (myvmm $f_m, qemu $f_q)" >&2
	exit 1
fi
