#!/usr/bin/env python3
"""Snapshot and restore end to end: the test kernel runs a counting workload
(tk=snap-count) under myvmm with --api-sock, is paused and snapshotted
through the API (PUT /snapshot/create), the process is SIGKILLed, and a new
myvmm restores it (--restore, or PUT /snapshot/load) and must finish with
the right sum and every tick exactly once.

    run_snapshot_tests.py --myvmm PATH --elf PATH --only NAME

Nothing is skipped: without /dev/kvm the tests fail and say why.
"""
import os
import re
import subprocess
import sys
import time

PROC_TIMEOUT = 90


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402
from vmmtest import TestFailure, check  # noqa: E402,F401


def Vm(ctx, name, args):
    """myvmm in the background (tests/lib/vmmtest.py), its API socket up."""
    vm = vmmtest.VMM(ctx, ["--console", "stdio"] + args,
                     sock=os.path.join(ctx.tmp, name + ".sock"), timeout=80)
    vm.wait_sock()
    return vm


def wait_text(vm, pat, timeout=40):
    """Until the console matches pat (or myvmm exited)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if re.search(pat, vm.text()) or vm.p.poll() is not None:
            return
        time.sleep(0.02)
    raise TestFailure("timed out after %d s waiting for %r%s" % (timeout, pat, vm.describe()))


def expected_sum(n):
    return (n * (n + 1) * (2 * n + 1) // 6) & 0xffffffff


def check_ticks(before, after, n):
    """Every tick 1..n exactly once across both processes, in order."""
    ticks = [int(t) for t in re.findall(r"TK: tick (\d+)", before + after)]
    check(ticks == list(range(1, n + 1)),
          "ticks across the snapshot are %s, want 1..%d once each" % (ticks, n))
    m = re.search(r"TK: count sum (\d+)", after)
    check(m and int(m.group(1)) == expected_sum(n),
          "sum after restore: %s, want %d" % (m and m.group(1), expected_sum(n)))
    check("TK: PASS snap-count" in after, "no PASS after restore:\n" + after[-1500:])


def boot_and_snapshot(ctx, name, ticks=40, at=10, extra=None, cmd_extra=""):
    """Boots snap-count, pauses after tick `at`, snapshots, SIGKILLs. Returns
    (state path, mem path, console text before the kill)."""
    vm = Vm(ctx, name, ["--kernel", ctx.elf, "--mem", "64M", "--cmdline",
                        "tk=snap-count tk.ticks=%d tk.period=50 %s" % (ticks, cmd_extra)] +
            (extra or []))
    try:
        wait_text(vm, r"TK: tick %d\b" % at)
        st, body = vm.call("PUT", "/snapshot/create", {
            "snapshot_path": os.path.join(ctx.tmp, name + ".snap"),
            "mem_file_path": os.path.join(ctx.tmp, name + ".mem")})
        check(st == 400 and "Paused" in body["fault_message"],
              "create while running: %s %s" % (st, body))
        st, body = vm.call("PATCH", "/vm", {"state": "Paused"})
        check(st == 204, "pause: %s %s" % (st, body))
        t0 = time.monotonic()
        st, body = vm.call("PUT", "/snapshot/create", {
            "snapshot_path": os.path.join(ctx.tmp, name + ".snap"),
            "mem_file_path": os.path.join(ctx.tmp, name + ".mem"), "snapshot_type": "Full"})
        ms = (time.monotonic() - t0) * 1000
        check(st == 204, "snapshot create: %s %s" % (st, body))
        print("snapshot create: %.1f ms" % ms)
    finally:
        vm.kill()
    before = vm.text()
    check("TK: PASS" not in before, "finished before the snapshot")
    return os.path.join(ctx.tmp, name + ".snap"), os.path.join(ctx.tmp, name + ".mem"), before


def restore_cli(ctx, snap, mem=None, extra=None):
    spec = snap + ("," + "mem=" + mem if mem else "")
    t0 = time.monotonic()
    p = subprocess.run([ctx.myvmm, "--restore", spec, "--timeout", "80"] + (extra or []),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), \
        time.monotonic() - t0


def t_count_restore(ctx):
    """--restore: the workload finishes with the right sum, no tick lost or repeated."""
    snap, mem, before = boot_and_snapshot(ctx, "a")
    st = os.stat(mem)
    print("mem file: %d bytes apparent, %d bytes allocated; state file %d bytes" %
          (st.st_size, st.st_blocks * 512, os.path.getsize(snap)))
    check(st.st_blocks * 512 < st.st_size // 4, "the memory file is not sparse")
    # The default memory file name: SNAPSHOT.mem.
    os.rename(mem, snap + ".mem")
    rc, out, err, secs = restore_cli(ctx, snap)
    check(rc == 1, "restore exit %d (want 1, the test kernel's PASS):\n%s%s" % (rc, out, err))
    m = re.search(r"restored \S+ in (\d+) ms", err)
    check(m, "no restore line on stderr: %s" % err)
    print("restore: %s ms from process start to the VM ready; whole run %.2f s" %
          (m.group(1), secs))
    check_ticks(before, out, 40)
    check(not re.search(r"tick 1\b", out) or "TK: tick 11" in out, out)


def t_api_load(ctx):
    """PUT /snapshot/load in wait-for-config mode, paused, then resumed; and the
    create/load rules (paused only, before start only)."""
    snap, mem, before = boot_and_snapshot(ctx, "b")
    vm = Vm(ctx, "b2", [])
    try:
        for body, want in [
                ({"snapshot_path": snap}, "required"),
                ({"snapshot_path": snap, "mem_file_path": mem, "enable_diff_snapshots": "yes"},
                 "must be true or false"),
                ({"snapshot_path": snap, "mem_backend": {"backend_type": "Uffd",
                                                          "backend_path": mem}}, "File"),
                ({"snapshot_path": snap, "mem_file_path": mem, "bogus": 1}, "unknown field"),
                ({"snapshot_path": snap + ".nope", "mem_file_path": mem}, "No such file")]:
            st, b = vm.call("PUT", "/snapshot/load", body)
            check(st == 400 and want in b["fault_message"], "load %s: %s %s" % (body, st, b))
        st, b = vm.call("PUT", "/snapshot/load", {
            "snapshot_path": snap,
            "mem_backend": {"backend_type": "File", "backend_path": mem}, "resume_vm": False})
        check(st == 204, "load: %s %s" % (st, b))
        time.sleep(0.5)
        check("TK: tick" not in vm.text(), "ran while restored paused: " + vm.text())
        st, b = vm.call("PUT", "/snapshot/load", {"snapshot_path": snap, "mem_file_path": mem})
        check(st == 400 and "before the instance is started" in b["fault_message"],
              "second load: %s %s" % (st, b))
        st, b = vm.call("PUT", "/snapshot/create", {"snapshot_path": snap + "2",
                                                   "mem_file_path": mem})
        check(st == 400 and "restored from" in b["fault_message"],
              "create onto the mapped memory file: %s %s" % (st, b))
        st, b = vm.call("PATCH", "/vm", {"state": "Resumed"})
        check(st == 204, "resume: %s %s" % (st, b))
        rc = vm.wait(PROC_TIMEOUT)
    finally:
        vm.kill()
    out = vm.text()
    check(rc == 1, "exit %d:\n%s" % (rc, out))
    check_ticks(before, out, 40)


def t_disk(ctx):
    """A disk write made before the snapshot is in the image (host bytes), and
    the restored virtio-blk reads it back and writes again."""
    img = os.path.join(ctx.tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    snap, mem, before = boot_and_snapshot(ctx, "c", ticks=20, at=5, extra=["--disk", img],
                                          cmd_extra="tk.disk=1 tk.seed=7")
    check("TK: disk wrote" in before, before)

    def pattern(seed, n):
        return bytes((seed * 13 + i * 7 + (i >> 9)) & 0xff for i in range(n))
    with open(img, "rb") as f:
        data = f.read(16 * 512)
    check(data[:4096] == pattern(7, 4096), "the write before the snapshot is not in the image")
    check(data[4096:] == bytes(4096), "sectors 8-15 written before the restore")
    rc, out, err, _ = restore_cli(ctx, snap, mem)
    check(rc == 1 and "TK: disk verified" in out, "exit %d:\n%s%s" % (rc, out, err))
    check_ticks(before, out, 20)
    with open(img, "rb") as f:
        data = f.read(16 * 512)
    check(data[4096:] == pattern(8, 4096), "the write after the restore is not in the image")


def t_concurrent(ctx):
    """Two restores of one snapshot at once share its memory file copy-on-write
    and both finish right; the memory file is unchanged."""
    snap, mem, before = boot_and_snapshot(ctx, "d")
    with open(mem, "rb") as f:
        h0 = hash(f.read())
    ps = [subprocess.Popen([ctx.myvmm, "--restore", snap + ",mem=" + mem, "--timeout", "80"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE) for _ in range(2)]
    for p in ps:
        out, err = p.communicate(timeout=PROC_TIMEOUT)
        out = out.decode(errors="replace")
        check(p.returncode == 1, "exit %d: %s%s" % (p.returncode, out, err.decode()))
        check_ticks(before, out, 40)
    with open(mem, "rb") as f:
        check(hash(f.read()) == h0, "a restored VM wrote into the shared memory file")


def t_bad_snapshots(ctx):
    """Damaged or mismatched snapshots: one clear line, exit 2, no guest run."""
    img = os.path.join(ctx.tmp, "e.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    snap, mem, _ = boot_and_snapshot(ctx, "e", ticks=30, at=3, extra=["--disk", img])
    with open(snap, "rb") as f:
        good = f.read()

    def variant(name, data):
        p = os.path.join(ctx.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x40
    wrongver = bytearray(good)
    wrongver[8] = 99
    small_mem = variant("small.mem", b"\0" * 4096)
    cases = [
        (variant("flip.snap", bytes(flipped)), mem, r"corrupted \(.*checksum mismatch\)"),
        (variant("trunc.snap", good[:len(good) - 100]), mem, r"truncated"),
        (variant("ver.snap", bytes(wrongver)), mem, r"format version 99; this myvmm reads"),
        (variant("junk.snap", b"hello world" * 10), mem, r"not a myvmm snapshot"),
        (snap, small_mem, r"memory file .* is 4096 bytes, but the snapshot's guest RAM is"),
        (snap, mem + ".missing", r"memory file .*: No such file"),
    ]
    for s, m, pat in cases:
        rc, out, err, _ = restore_cli(ctx, s, m)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 2 and len(lines) == 1 and re.search(pat, lines[0]),
              "%s: exit %d, stderr %r (want one line matching %r)" % (s, rc, err, pat))
        check("TK:" not in out, "the guest ran: " + out)
        print("ok: %s" % lines[0])
    # A configuration that cannot be rebuilt: the disk is gone.
    os.unlink(img)
    rc, out, err, _ = restore_cli(ctx, snap, mem)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == 2 and len(lines) == 1 and "e.img" in lines[0] and "TK:" not in out,
          "missing disk: exit %d, stderr %r" % (rc, err))
    print("ok: %s" % lines[0])
    rc, out, err, _ = restore_cli(ctx, snap, mem, ["--kernel", ctx.elf])
    check(rc == 2 and "comes from the snapshot" in err, "restore + kernel: %d %r" % (rc, err))


TESTS = {
    "count_restore": t_count_restore,
    "api_load": t_api_load,
    "disk": t_disk,
    "concurrent": t_concurrent,
    "bad_snapshots": t_bad_snapshots,
}


if __name__ == "__main__":
    sys.exit(vmmtest.main(TESTS, "myvmm-snap-"))
