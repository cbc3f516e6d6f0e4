#!/usr/bin/env bash
# bench/display.sh: cost of the SDL display. For each case the test kernel's
# fb-anim scenario runs SECS seconds (default 10):
#   full   the guest redraws the whole 1024x768x32 screen continuously
#   small  the guest redraws one 64x64 square continuously
#   none   the guest only spins (vCPU speed), with --display sdl and none
# Prints: frames the guest drew per second, frames the UI presented per
# second (myvmm's "display:" log line), rows copied per second, and host CPU
# of the whole myvmm process (utime+stime from /proc/PID/stat, % of one core).
# Runs under a private Xvfb when $DISPLAY is unset.
#
#   BUILD_DIR=build [KERNEL=...elf] [SECS=10] bench/display.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
KERNEL=${KERNEL:-$BUILD_DIR/tests/guest/testkernel.elf}
SECS=${SECS:-10}
TMP=$(mktemp -d)
XPID=
cleanup() { [ -n "$XPID" ] && kill "$XPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
for c in "$MYVMM" "$KERNEL"; do [ -e "$c" ] || { echo "missing $c" >&2; exit 2; }; done
if [ -z "${DISPLAY:-}" ]; then
	command -v Xvfb >/dev/null || { echo "no \$DISPLAY and no Xvfb (apt-get install xvfb)" >&2; exit 2; }
	export DISPLAY=:$((200 + $$ % 500))
	Xvfb "$DISPLAY" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
	XPID=$!
	sleep 1
fi
HZ=$(getconf CLK_TCK)

# run LABEL DISPLAY REGION
run() {
	local label=$1 disp=$2 region=$3 out=$TMP/$1.out log=$TMP/$1.log
	"$MYVMM" --kernel "$KERNEL" --cmdline "tk=fb-anim tk.region=$region" --display "$disp" \
		--log "$log" --console "file:$out" --timeout $((SECS + 30)) </dev/null >/dev/null 2>&1 &
	local pid=$!
	# wait for the first full second of animation, then measure SECS seconds
	for _ in $(seq 200); do grep -q "anim $region [0-9]*/s" "$out" 2>/dev/null && break; sleep 0.1; done
	local t0 c0 t1 c1
	t0=$(date +%s.%N); c0=$(awk '{print $14+$15}' /proc/$pid/stat)
	local n0; n0=$(grep -c "anim $region [0-9]*/s" "$out" || true)
	sleep "$SECS"
	t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' /proc/$pid/stat)
	kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
	python3 - "$label" "$region" "$out" "$log" "$t0" "$t1" "$c0" "$c1" "$HZ" "$n0" <<'PY'
import re, sys
label, region, out, log, t0, t1, c0, c1, hz, n0 = sys.argv[1:]
wall = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / int(hz) / wall * 100
rates = [int(m) for m in re.findall(r"anim %s (\d+)/s" % region, open(out, errors="replace").read())][int(n0):]
rates = sorted(rates) or [0]
med = rates[len(rates) // 2]
fps = rows = "-"
m = re.search(r"display: (\d+) frames presented \(([\d.]+) fps\), \d+ texture updates, (\d+) rows copied in ([\d.]+) s", open(log).read())
if m:
    fps = m.group(2)
    rows = "%.0f" % (int(m.group(3)) / float(m.group(4)))
unit = "iter/s" if region == "none" else "frames/s"
print("%-12s guest %8d %-8s ui %6s fps  rows/s %8s  myvmm cpu %5.1f%%" % (label, med, unit, fps, rows, cpu))
PY
}

echo "# $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), ${SECS}s per case"
run full-sdl sdl full
run small-sdl sdl small
run spin-sdl sdl none
run spin-none none none
