#!/bin/sh
# bench/fs.sh: virtio-fs, Linux's virtiofs driver (Debian's kernel, L2)
# reading a 256 MiB file never read before (dd bs=1M, timed with L2's
# /proc/uptime) from a share on L1's tmpfs, served by the same virtiofsd
# (Debian 12, QEMU 7.2's) under myvmm (--share, run "fs") and under QEMU
# -enable-kvm (memory-backend-memfd,share=on + vhost-user-fs-pci, run
# "fsqemu"), both inside one L1 boot of the nested tier (QEMU TCG with SVM).
# Usage: bench/fs.sh [BUILD_DIR]   (default ./build, myvmm built there)
# Software emulation throughout: the ratio compares the two VMMs' paths.
set -eu
build=${1:-./build}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$build/bench-fs
NESTED_FS_MIB=256 "$top/tests/nested/run-nested.sh" "$build/myvmm" "${MYVMM_DEBIAN_CACHE:-$build/debian-cache}" \
	"$work" fs,fsqemu >&2
python3 - "$work/share/out" <<'PY'
import os, re, sys
out = sys.argv[1]
secs = {}
for run in ('fs', 'fsqemu'):
    con = open(os.path.join(out, run, 'console.log'), errors='replace').read()
    m = re.search(r'^NT bench_read_secs ([0-9.]+)', con, re.M)
    ok = re.search(r'^NT bench_dd 256\+0 records out', con, re.M)  # NESTED_FS_MIB=256 above
    secs[run] = float(m.group(1)) if m and ok and float(m.group(1)) > 0 else None
print('%-34s %10s %10s %8s' % ('virtio-fs (nested tier)', 'myvmm', 'QEMU', 'ratio'))
m, q = secs['fs'], secs['fsqemu']
mb = lambda s: 256 * 1048576 / s / 1e6 if s else None
fmt = lambda v: '%10.2f' % v if v else '%10s' % '-'
print('%-34s %s %s %8s' % ('read 256 MiB, MB/s', fmt(mb(m)), fmt(mb(q)),
                            '%.2fx' % (q / m) if m and q else '-'))
PY
