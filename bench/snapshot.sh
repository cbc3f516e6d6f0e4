#!/usr/bin/env bash
# bench/snapshot.sh: snapshot and restore figures of myvmm with the test
# kernel (tk=snap-count), and a CI loop that starts each run from a snapshot
# against one that boots. Builds nothing: BUILD_DIR (default ./build) must
# hold myvmm and the test kernel.
#
# Measured:
#   create     wall time of PUT /snapshot/create on a paused VM (client side)
#   size       state file bytes; memory file apparent and allocated bytes
#   restore    "myvmm --restore" exec -> the first guest console line printed
#              after the restore (restore-to-running), and myvmm's own figure
#              (process start -> VM rebuilt and ready, its stderr line)
#   diff       with machine-config track_dirty_pages: a Full snapshot, 1 s of
#              the workload, then a Diff (create time, allocated bytes), the
#              --snapshot-merge time, and a restore of the merged file
#   loop       runs per second of a loop whose every run ends with the test
#              kernel's PASS: (a) boot the kernel, tk=snap-count tk.ticks=1;
#              (b) restore a snapshot of the same workload taken just before
#              its tick, paused at "TK: count start"
# Environment: BUILD_DIR, MYVMM, ELF, MEM (guest RAM, default 128M), N (loop
# runs, default 20). Exit status 0, 1 if a run failed, 2 if something is missing.
set -u
BUILD_DIR=${BUILD_DIR:-./build}
MYVMM=${MYVMM:-$BUILD_DIR/myvmm}
ELF=${ELF:-$BUILD_DIR/tests/guest/testkernel.elf}
MEM=${MEM:-128M}
N=${N:-20}
[ -x "$MYVMM" ] || { echo "snapshot.sh: no myvmm at $MYVMM (set BUILD_DIR)" >&2; exit 2; }
[ -r "$ELF" ] || { echo "snapshot.sh: no test kernel at $ELF" >&2; exit 2; }
[ -w /dev/kvm ] || { echo "snapshot.sh: /dev/kvm not usable" >&2; exit 2; }
command -v python3 >/dev/null || { echo "snapshot.sh: needs python3" >&2; exit 2; }

exec python3 - "$MYVMM" "$ELF" "$MEM" "$N" <<'PY'
import json, os, re, signal, socket, subprocess, sys, tempfile, time, shutil
myvmm, elf, mem, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tmp = tempfile.mkdtemp(prefix="myvmm-bench-snap-")

def call(sock, method, path, body):
    data = json.dumps(body).encode()
    s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sock)
    s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" %
               (method, path, len(data))).encode() + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(65536)
        if not c: break
        buf += c
    s.close()
    return int(buf.split()[1])

def snapshot(name, cmdline, wait_for):
    sock = os.path.join(tmp, name + ".sock"); out = os.path.join(tmp, name + ".out")
    f = open(out, "wb")
    p = subprocess.Popen([myvmm, "--kernel", elf, "--mem", mem, "--cmdline", cmdline,
                          "--api-sock", sock, "--timeout", "120"], stdout=f,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    t0 = time.monotonic()
    while wait_for.encode() not in open(out, "rb").read():
        if p.poll() is not None or time.monotonic() - t0 > 60:
            sys.exit("snapshot.sh: the guest never printed %r" % wait_for)
        time.sleep(0.005)
    assert call(sock, "PATCH", "/vm", {"state": "Paused"}) == 204
    snap, memf = os.path.join(tmp, name + ".snap"), os.path.join(tmp, name + ".mem")
    t = time.monotonic()
    st = call(sock, "PUT", "/snapshot/create", {"snapshot_path": snap, "mem_file_path": memf})
    ms = (time.monotonic() - t) * 1000
    p.send_signal(signal.SIGKILL); p.wait(); f.close()
    if st != 204:
        sys.exit("snapshot.sh: create answered %d" % st)
    return snap, memf, ms

# 1. create time and size (workload paused mid-run)
snap, memf, create_ms = snapshot("a", "tk=snap-count tk.ticks=1000 tk.period=20", "TK: tick 5\r\n")
st = os.stat(memf)
print("guest RAM %s; state file %d bytes; memory file %.1f MiB apparent, %.1f KiB allocated"
      % (mem, os.path.getsize(snap), st.st_size / 2**20, st.st_blocks * 512 / 1024))
print("create: %.1f ms (PUT /snapshot/create on the paused VM, client side)" % create_ms)

# 2. restore-to-running: exec -> first console line after the restore
rt, own = [], []
for i in range(5):
    t = time.monotonic()
    p = subprocess.Popen([myvmm, "--restore", snap + ",mem=" + memf, "--timeout", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = p.stdout.readline()
    rt.append((time.monotonic() - t) * 1000)
    p.kill(); _, err = p.communicate()
    m = re.search(rb"restored \S+ in (\d+) ms", err)
    if not line.startswith(b"TK: tick") or not m:
        sys.exit("snapshot.sh: restore printed %r / %r" % (line, err))
    own.append(int(m.group(1)))
rt.sort(); own.sort()
print("restore-to-running: median %.1f ms, min %.1f ms (exec -> first guest line after restore; "
      "5 runs); myvmm's own: median %d ms (process start -> VM ready)" %
      (rt[len(rt) // 2], rt[0], own[len(own) // 2]))

# 3. CI loop: boot vs restore, each run to the test kernel's PASS
def loop(argv):
    t = time.monotonic()
    for i in range(n):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60)
        if b"TK: PASS snap-count" not in r.stdout:
            sys.exit("snapshot.sh: a run did not PASS: %r %r" % (r.stdout[-300:], r.stderr[-300:]))
    return n / (time.monotonic() - t)
boot = [myvmm, "--kernel", elf, "--mem", mem, "--cmdline", "tk=snap-count tk.ticks=1 tk.period=10"]
snap2, mem2, _ = snapshot("b", "tk=snap-count tk.ticks=1 tk.period=10", "TK: count start\r\n")
rest = [myvmm, "--restore", snap2 + ",mem=" + mem2]
b = loop(boot); r = loop(rest)
print("CI loop (%d runs each, run = start to PASS): boot %.1f runs/s, restore %.1f runs/s (x%.2f)"
      % (n, b, r, r / b))

# 4. diff snapshots: Full, 1 s of running, Diff; merge; restore the merged file
sock = os.path.join(tmp, "d.sock"); out = open(os.path.join(tmp, "d.out"), "wb")
p = subprocess.Popen([myvmm, "--api-sock", sock, "--timeout", "120"], stdout=out,
                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
while not os.path.exists(sock):
    time.sleep(0.005)
mib = int(mem[:-1]) * (1024 if mem[-1] in "gG" else 1) if mem[-1] in "mMgG" else int(mem)
assert call(sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": mib,
                                             "track_dirty_pages": True}) == 204
assert call(sock, "PUT", "/boot-source", {"kernel_image_path": elf,
            "boot_args": "tk=snap-count tk.ticks=5000 tk.period=20"}) == 204
assert call(sock, "PUT", "/actions", {"action_type": "InstanceStart"}) == 204
while b"TK: tick 5\r\n" not in open(os.path.join(tmp, "d.out"), "rb").read():
    time.sleep(0.005)
res = {}
for kind in ("Full", "Diff"):
    assert call(sock, "PATCH", "/vm", {"state": "Paused"}) == 204
    t = time.monotonic()
    f = os.path.join(tmp, "d-" + kind)
    st = call(sock, "PUT", "/snapshot/create", {"snapshot_path": f + ".snap",
              "mem_file_path": f + ".mem", "snapshot_type": kind})
    res[kind] = ((time.monotonic() - t) * 1000, os.stat(f + ".mem").st_blocks * 512 / 1024)
    if st != 204:
        sys.exit("snapshot.sh: %s create answered %d" % (kind, st))
    assert call(sock, "PATCH", "/vm", {"state": "Resumed"}) == 204
    time.sleep(1)
p.kill(); p.wait(); out.close()
t = time.monotonic()
r = subprocess.run([myvmm, "--snapshot-merge", os.path.join(tmp, "d-Diff.mem") + ",into=" +
                    os.path.join(tmp, "d-Full.mem")], capture_output=True)
merge_ms = (time.monotonic() - t) * 1000
p = subprocess.Popen([myvmm, "--restore", os.path.join(tmp, "d-Diff.snap") + ",mem=" +
                      os.path.join(tmp, "d-Full.mem"), "--timeout", "60"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
line = p.stdout.readline(); p.kill(); p.communicate()
if r.returncode or not line.startswith(b"TK: tick"):
    sys.exit("snapshot.sh: merge/restore of the diff failed: %r %r" % (r.stderr, line))
print("diff (track_dirty_pages): Full create %.1f ms, %.0f KiB allocated; Diff after 1 s "
      "create %.1f ms, %.0f KiB allocated; --snapshot-merge %.1f ms; the merged file restores"
      % (res["Full"][0], res["Full"][1], res["Diff"][0], res["Diff"][1], merge_ms))
shutil.rmtree(tmp, ignore_errors=True)
PY
