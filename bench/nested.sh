#!/bin/sh
# bench/nested.sh: Debian's kernel (L2) under myvmm and under QEMU -enable-kvm,
# both inside one L1 boot of the nested tier (tests/nested: QEMU TCG with
# SVM), with the same kernel, initramfs and an 80 MiB raw disk on L1's tmpfs
# (myvmm cache=writeback, QEMU's default cache: both on L1's page cache).
# Prints time to userspace (vm start to L2's /init line, polled 0.25 s) and
# Linux's virtio-blk sequential read / write (dd iflag/oflag=direct, bs=1M,
# 64 MiB; the better of two), with myvmm/QEMU ratios.
# Usage: bench/nested.sh [BUILD_DIR]   (default ./build, myvmm built there)
# Everything runs in software emulation: absolute figures say little, the
# ratios compare the two VMMs' device paths under the same conditions.
set -eu
build=${1:-./build}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$build/bench-nested
"$top/tests/nested/run-nested.sh" "$build/myvmm" "${MYVMM_DEBIAN_CACHE:-$build/debian-cache}" \
	"$work" bench,benchqemu >&2
python3 - "$work/share/out" <<'PY'
import re, sys, os
out = sys.argv[1]

def mbs(line):
    """MB/s from the guest's 'N bytes in S s' line (timed with /proc/uptime)."""
    m = re.search(r'(\d+) bytes in ([0-9.]+) s', line or '')
    return int(m.group(1)) / float(m.group(2)) / 1e6 if m and float(m.group(2)) > 0 else None

res = {}
for run in ('bench', 'benchqemu'):
    d = os.path.join(out, run)
    con = open(os.path.join(d, 'console.log'), errors='replace').read()
    r = {'up': None, 'read': [], 'write': []}
    try:
        r['up'] = float(open(os.path.join(d, 'up_secs')).read())
    except (OSError, ValueError):
        pass
    for ln in con.splitlines():
        m = re.match(r'NT bench_(read|write) (.*)', ln.strip())
        if m and mbs(m.group(2)):
            r[m.group(1)].append(mbs(m.group(2)))
    res[run] = r

def fmt(v, unit):
    return '%.1f %s' % (v, unit) if v else 'n/a'

m, q = res['bench'], res['benchqemu']
rows = [('time to userspace', m['up'], q['up'], 's'),
        ('virtio-blk seq read 1M direct', max(m['read'] or [0]), max(q['read'] or [0]), 'MB/s'),
        ('virtio-blk seq write 1M direct', max(m['write'] or [0]), max(q['write'] or [0]), 'MB/s')]
print('%-32s %12s %12s %14s' % ('L2 workload (inside L1)', 'myvmm', 'QEMU', 'myvmm/QEMU'))
for name, a, b, unit in rows:
    ratio = '%.2f' % (a / b) if a and b else 'n/a'
    print('%-32s %12s %12s %14s' % (name, fmt(a, unit), fmt(b, unit), ratio))
PY
