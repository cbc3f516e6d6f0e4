#!/usr/bin/env bash
# bench/firmware.sh: time from process start to the BIOS banner, to GRUB's
# first line and to the test kernel's exit, myvmm (IDE and virtio-blk) vs
# QEMU's pc machine, on the same GRUB disk image (scripts/mkgrubdisk.sh).
# Usage: bench/firmware.sh [BUILD_DIR] [RUNS]   (default build, 1 run each)
# Output: LABEL run banner_s grub_s exit_s status
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-1}
myvmm=$build/myvmm
tk=$build/tests/guest/testkernel.mb.elf
for f in "$myvmm" "$tk"; do [ -e "$f" ] || { echo "firmware.sh: $f missing; build first" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$here/scripts/mkgrubdisk.sh" "$tk" "$work/disk.img" tk=info
# SeaBIOS prints its banner and forwards int 10h text (GRUB's "GRUB loading")
# to the serial port only with etc/sercon-port (le16 0x3f8); myvmm adds it
# without a display, QEMU needs it given.
printf '\370\003' >"$work/sercon"

# Runs a command, timestamps the milestones in its output (stdout+stderr).
stamp() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
marks = {"banner": b"SeaBIOS (version", "grub": b"GRUB loading"}
seen, buf = {}, b""
while True:
    c = os.read(p.stdout.fileno(), 65536)
    if not c:
        break
    buf = (buf + c)[-4096:]
    for k, m in marks.items():
        if k not in seen and m in buf:
            seen[k] = time.monotonic() - t0
rc = p.wait()
end = time.monotonic() - t0
f = lambda k: "%.2f" % seen[k] if k in seen else "-"
print("%s %s %s %.2f %d" % (sys.argv[1], f("banner"), f("grub"), end, rc))
PY
}

echo "# label run banner_s grub_s exit_s status (expected status 1: debug-exit 0)"
for i in $(seq 1 "$runs"); do
	stamp "myvmm-ide $i" "$myvmm" --display none --disk "$work/disk.img,if=ide" --timeout 300
	stamp "myvmm-virtio $i" "$myvmm" --display none --disk "$work/disk.img" --timeout 300
	if command -v qemu-system-x86_64 >/dev/null; then
		stamp "qemu-pc $i" timeout 300 qemu-system-x86_64 -M pc -enable-kvm \
			-cpu host,-arch-capabilities -m 512 -nodefaults -no-user-config -nographic \
			-serial stdio -drive "file=$work/disk.img,format=raw,if=ide" \
			-fw_cfg "name=etc/sercon-port,file=$work/sercon" \
			-device isa-debug-exit,iobase=0xf4,iosize=4
	fi
done
