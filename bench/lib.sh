# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench/*.sh scripts. Source it; needs
# bash, python3 and GNU time (/usr/bin/time, Debian package "time").
#
#   bench_need CMD...              fail (return 1, message) if a command is missing
#   bench_null_elf PATH [CODE]     write a 157-byte PVH ELF that prints "ok" on
#                                  COM1 and writes CODE to debug-exit port 0xf4
#   bench_interleave N SPEC...     run every SPEC N times, interleaved (round
#                                  robin, so machine noise hits all equally);
#                                  print one stats line per SPEC
#   bench_median / bench_p90       read numbers on stdin, print the statistic
#
# A SPEC is one string "LABEL|EXPECTED_STATUS|COMMAND" (COMMAND is split like
# a shell would, with python's shlex). Each run is fork + exec of
# `/usr/bin/time -f %M -o F COMMAND` with stdin/stdout on /dev/null; wall
# time is measured from fork to wait4() in the harness, RSS is GNU time's %M
# (max RSS of the VMM process, KiB). The harness cost is the same for every
# SPEC; measure it with a "/bin/true" SPEC (see boot.sh's "floor" line).
#
# Output of bench_interleave, one line per SPEC, space separated:
#   LABEL median_ms p90_ms min_ms median_rss_mib runs failures
# A run whose exit status differs from EXPECTED_STATUS is a failure; the
# first failure's stderr tail is printed to stderr. Return status: 0 if no
# SPEC failed, 1 otherwise.

BENCH_TIME=${BENCH_TIME:-/usr/bin/time}

bench_need() {
	local c rc=0
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "bench: missing command '$c'" >&2
			rc=1
		fi
	done
	return $rc
}

bench_median() {
	python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print(f"{s.median(v):.2f}" if v else "nan")'
}

bench_p90() {
	python3 -c 'import sys; v=sorted(float(x) for x in sys.stdin.read().split()); print(f"{v[max(0,-(-len(v)*9//10)-1)]:.2f}" if v else "nan")'
}

bench_null_elf() {
	python3 - "$1" "${2:-0}" <<'EOF'
import struct, sys
# 32-bit code at the PVH entry: print "ok\n" on COM1, out 0xf4 <- code, hlt.
code = bytes([0xBA, 0xF8, 0x03, 0, 0,          # mov edx, 0x3f8
              0xB0, 0x6F, 0xEE, 0xB0, 0x6B, 0xEE, 0xB0, 0x0A, 0xEE,  # out "ok\n"
              0xB8]) + struct.pack('<I', int(sys.argv[2], 0)) + bytes([
              0xE7, 0xF4,                       # out 0xf4, eax
              0xF4, 0xEB, 0xFD])                # 1: hlt; jmp 1b
base, ehsz, phsz = 0x100000, 52, 32
noff = ehsz + 2 * phsz
coff = noff + 20
entry = base + coff
# Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point.
note = struct.pack('<III', 4, 4, 18) + b'Xen\0' + struct.pack('<I', entry)
total = coff + len(code)
eh = (b'\x7fELF' + bytes([1, 1, 1, 0]) + bytes(8) +
      struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, entry, ehsz, 0, 0, ehsz, phsz, 2, 0, 0, 0))
load = struct.pack('<8I', 1, 0, base, base, total, total, 7, 0x1000)
pnote = struct.pack('<8I', 4, noff, base + noff, base + noff, 20, 20, 4, 4)
with open(sys.argv[1], 'wb') as f:
    f.write(eh + load + pnote + note + code)
EOF
}

bench_interleave() {
	local n=$1
	shift
	python3 - "$n" "$BENCH_TIME" "$@" <<'EOF'
import os, shlex, statistics, sys, tempfile, time

n, timebin, specs = int(sys.argv[1]), sys.argv[2], []
for s in sys.argv[3:]:
    label, expect, cmd = s.split('|', 2)
    specs.append(dict(label=label, expect=int(expect), argv=shlex.split(cmd),
                      wall=[], rss=[], fail=0, err=None))
tmp = tempfile.mkdtemp(prefix='bench.')
rssf, errf = os.path.join(tmp, 'rss'), os.path.join(tmp, 'err')
devnull = os.open(os.devnull, os.O_RDWR)

def run(sp):
    argv = [timebin, '-f', '%M', '-o', rssf] + sp['argv']
    errfd = os.open(errf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(errfd, 2)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, _ = os.wait4(pid, 0)
    wall = (time.monotonic() - t0) * 1e3
    os.close(errfd)
    code = os.waitstatus_to_exitcode(status)
    try:
        with open(rssf) as f:       # time writes "Command exited..." lines first
            rss = int(f.read().split()[-1]) / 1024.0
    except (OSError, ValueError, IndexError):
        rss = float('nan')
    if code != sp['expect']:
        sp['fail'] += 1
        if sp['err'] is None:
            with open(errf, errors='replace') as f:
                tail = f.read()[-600:]
            sp['err'] = f"exit status {code}, expected {sp['expect']}: {tail.strip()}"
        return
    sp['wall'].append(wall)
    sp['rss'].append(rss)

for i in range(n):
    for sp in specs:
        run(sp)

bad = 0
for sp in specs:
    w = sorted(sp['wall'])
    if sp['fail']:
        bad = 1
        print(f"bench: {sp['label']}: {sp['fail']}/{n} runs failed; first: {sp['err']}",
              file=sys.stderr)
    if w:
        p90 = w[max(0, -(-len(w) * 9 // 10) - 1)]
        print(f"{sp['label']} {statistics.median(w):.2f} {p90:.2f} {w[0]:.2f} "
              f"{statistics.median(sp['rss']):.2f} {len(w)} {sp['fail']}")
    else:
        print(f"{sp['label']} nan nan nan nan 0 {sp['fail']}")
for f in (rssf, errf):
    try: os.unlink(f)
    except OSError: pass
os.rmdir(tmp)
sys.exit(bad)
EOF
}
