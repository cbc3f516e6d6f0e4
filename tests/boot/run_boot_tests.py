#!/usr/bin/env python3
"""End-to-end boot tests for myvmm: boot the freestanding test kernel
(tests/guest) and assert what the guest printed, the exit status and the
messages on stderr.  Stdlib only.

    run_boot_tests.py --myvmm PATH --elf PATH --bzimage PATH [--mb PATH] [--only NAME]

Each test is one function test_<name>(ctx); a failed check raises TestFailure.
Exit status: 0 all selected tests passed, 1 a test failed, 2 usage error.
Nothing is ever skipped: without /dev/kvm every test fails and says why.
"""
import argparse
import datetime
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time

MiB = 1 << 20
GiB = 1 << 30
SAFETY_TIMEOUT = 30          # --timeout given to every boot (seconds)
PROC_TIMEOUT = 60            # Python-side kill if myvmm ignores its own --timeout


class TestFailure(Exception):
    pass


def check(cond, msg, res=None):
    """Raise TestFailure with msg (and the boot's output, if given) unless cond."""
    if not cond:
        if res is not None:
            msg += "\n" + res.describe()
        raise TestFailure(msg)


class Result:
    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err, self.elapsed = argv, rc, out, err, elapsed
        self.lines = [l.rstrip("\r") for l in out.splitlines()]
        self.tk = [l for l in self.lines if l.startswith("TK: ")]

    def describe(self):
        return ("  command: %s\n  exit status: %s, %.2f s\n  --- stdout ---\n%s\n"
                "  --- stderr ---\n%s" % (" ".join(self.argv), self.rc, self.elapsed,
                                          self.out.rstrip(), self.err.rstrip()))

    def has(self, line):
        return line in self.tk

    def grep(self, regex):
        return [m for m in (re.match(regex, l) for l in self.tk) if m]


class Ctx:
    def __init__(self, myvmm, elf, bzimage, mb=None):
        self.myvmm, self.elf, self.bzimage = myvmm, elf, bzimage
        self.mb = mb or os.path.join(os.path.dirname(elf), "testkernel.mb.elf")
        self.tmp = tempfile.mkdtemp(prefix="myvmm-boot-")

    def kernel(self, kind):
        return self.elf if kind == "pvh" else self.bzimage

    def argv(self, kernel=None, cmdline=None, extra=(), timeout=SAFETY_TIMEOUT):
        a = [self.myvmm]
        if kernel:
            a += ["--kernel", kernel]
        if cmdline is not None:
            a += ["--cmdline", cmdline]
        a += list(extra)
        if timeout is not None:
            a += ["--timeout", str(timeout)]
        return a

    def run(self, kernel=None, cmdline=None, extra=(), timeout=SAFETY_TIMEOUT, env=None,
            raw_argv=None):
        """Runs myvmm to completion with stdin=/dev/null; returns a Result."""
        argv = raw_argv or self.argv(kernel, cmdline, extra, timeout)
        e = dict(os.environ)
        e.update(env or {})
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=e, timeout=PROC_TIMEOUT)
        except subprocess.TimeoutExpired as ex:
            raise TestFailure("myvmm did not exit within %d s (its --timeout ignored?): %s"
                              % (PROC_TIMEOUT, " ".join(argv)))
        r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
        return r

    def boot(self, kind, scen, extra=(), args="", **kw):
        return self.run(self.kernel(kind), ("tk=%s %s" % (scen, args)).strip(), extra, **kw)

    def path(self, name):
        return os.path.join(self.tmp, name)


class Live:
    """A running myvmm whose stdout lines are collected by a reader thread."""

    def __init__(self, argv, stdin=subprocess.PIPE, **kw):
        self.argv = argv
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, **kw)
        self.q = queue.Queue()
        self.lines = []
        self.err = b""
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()
        self.err_thread = threading.Thread(target=self._read_err, daemon=True)
        self.err_thread.start()

    def _read(self):
        for l in self.p.stdout:
            self.q.put(l.decode("utf-8", "replace").rstrip("\r\n"))
        self.q.put(None)

    def _read_err(self):
        self.err = self.p.stderr.read()

    def wait_line(self, line, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                l = self.q.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if l is None:
                self.eof = True
                break
            self.lines.append(l)
            if l == line:
                return
        self.kill()
        raise TestFailure("never saw %r on stdout; got %r; stderr %r" % (line, self.lines, self.err))

    def finish(self, timeout=20):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("myvmm did not exit within %d s: %s" % (timeout, " ".join(self.argv)))
        elapsed = time.monotonic() - self.t0
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        while not self.eof:
            l = self.q.get(timeout=5)
            if l is None:
                self.eof = True
                break
            self.lines.append(l)
        self.err_thread.join(5)
        return Result(self.argv, rc, "\n".join(self.lines), self.err.decode("utf-8", "replace"),
                      elapsed)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


# ---------------------------------------------------------------- expectations

def expected_e820(mem):
    e = [(0, 0x9fc00, 1), (0x9fc00, 0xa0000, 2), (0xe0000, 0x100000, 2),
         (0x100000, min(mem, 3 * GiB), 1)]
    if mem > 3 * GiB:
        e.append((4 * GiB, 4 * GiB + mem - 3 * GiB, 1))
    return e


def check_e820(r, mem):
    got = [(int(m.group(2), 16), int(m.group(3), 16), int(m.group(4)))
           for m in r.grep(r"TK: e820 (\d+) ([0-9a-f]+) ([0-9a-f]+) (\d+)$")]
    want = expected_e820(mem)
    check(got == want, "e820 for --mem %d MiB: got %s, want %s" % (
        mem >> 20, [(hex(a), hex(b), t) for a, b, t in got],
        [(hex(a), hex(b), t) for a, b, t in want]), r)
    ram = sum(b - a for a, b, t in want if t == 1) >> 20
    check(r.has("TK: ram %d" % ram), "expected 'TK: ram %d'" % ram, r)


def check_pass(r, scen, code=1):
    check(r.rc == code, "tk=%s: exit status %s, want %d" % (scen, r.rc, code), r)
    check(r.has("TK: PASS %s" % scen), "no 'TK: PASS %s' line" % scen, r)
    check(not r.grep(r"TK: FAIL"), "guest printed a FAIL line", r)


def require_kvm():
    dev = "/dev/kvm"
    if not os.path.exists(dev):
        raise TestFailure("/dev/kvm does not exist: these boot tests need KVM "
                          "(load kvm_intel/kvm_amd or kvm_pvm); they do not skip")
    if not os.access(dev, os.R_OK | os.W_OK):
        raise TestFailure("/dev/kvm is not readable and writable by this user: "
                          "add the user to the kvm group")


def sum32(data):
    return sum(data) & 0xffffffff


# ------------------------------------------------------------------------ tests

def info_test(ctx, kind):
    mem = 128 * MiB
    r = ctx.boot(kind, "info", ["--mem", "128M", "--cpus", "2"])
    host_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    check_pass(r, "info")
    check(r.has("TK: myvmm test kernel (%s)" % ("pvh" if kind == "pvh" else "linux64")),
          "banner names the wrong boot mode", r)
    # console=ttyS0 is added to a command line that names no console
    check(r.has("TK: cmdline tk=info console=ttyS0"), "command line not passed", r)
    check_e820(r, mem)
    check(r.grep(r"TK: madt cpus 2 "), "expected 'madt cpus 2'", r)
    check(r.has("TK: s5 slp_typ 5"), "expected 's5 slp_typ 5'", r)
    check(r.has("TK: pci0 yes"), "expected 'pci0 yes'", r)
    check(r.grep(r"TK: rsdp 0x[0-9a-f]+ rev \d+ ok$"), "RSDP missing or bad", r)
    acpi = r.grep(r"TK: acpi (\S+) 0x[0-9a-f]+ \d+ (\S+)$")
    tables = {m.group(1) for m in acpi}
    check({"FACP", "APIC", "DSDT"} <= tables, "missing ACPI tables, got %s" % tables, r)
    bad = [m.group(0) for m in acpi if m.group(2) != "ok"]
    check(not bad, "ACPI tables with bad checksums: %s" % bad, r)
    m = r.grep(r"TK: rtc (\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)$")
    check(m, "no rtc line", r)
    t = datetime.datetime(*(int(x) for x in m[0].groups()))
    check(abs((t - host_now).total_seconds()) <= 60,
          "RTC %s is more than a minute from host UTC %s" % (t, host_now), r)


def test_info_pvh(ctx):
    info_test(ctx, "pvh")


def test_info_bzimage(ctx):
    info_test(ctx, "bz")


def test_e820_layouts(ctx):
    for mem_s, mem in (("3G", 3 * GiB), ("5G", 5 * GiB), ("8G", 8 * GiB)):
        r = ctx.boot("pvh", "info", ["--mem", mem_s])
        check_pass(r, "info")
        check_e820(r, mem)


def test_cpus(ctx):
    for kind, n in (("pvh", 1), ("pvh", 2), ("bz", 2), ("pvh", 8)):
        r = ctx.boot(kind, "smp", ["--cpus", str(n), "--mem", "64M"])
        check_pass(r, "smp")
        check(r.has("TK: cpus online %d" % n), "%s: expected 'cpus online %d'" % (kind, n), r)
        for i in range(1, n):
            check(r.has("TK: ap %d up" % i), "%s --cpus %d: AP %d did not come up" % (kind, n, i), r)
        check(len(r.grep(r"TK: ap \d+ up")) == n - 1, "wrong number of 'ap up' lines", r)
    # The test kernel counts at most TK_MAX_CPUS (32) MADT entries, so with 64
    # it may print 32: then the APIC table length proves the 64 LAPIC entries.
    r = ctx.boot("pvh", "info", ["--cpus", "64", "--mem", "64M"])
    check_pass(r, "info")
    m = r.grep(r"TK: madt cpus (\d+) ")
    apic = r.grep(r"TK: acpi APIC 0x[0-9a-f]+ (\d+) ok$")
    check(m and apic, "no madt/APIC lines", r)
    n, apic_len = int(m[0].group(1)), int(apic[0].group(1))
    check(n == 64 or (n == 32 and apic_len >= 44 + 64 * 8),
          "--cpus 64: madt cpus %d, APIC table %d bytes (< 44 + 64 LAPIC entries)" % (n, apic_len), r)


def test_poweroff(ctx):
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "poweroff", ["--mem", "64M"])
        check(r.rc == 0, "tk=poweroff (%s): exit status %s, want 0" % (kind, r.rc), r)
        check(r.has("TK: poweroff"), "no 'TK: poweroff' line", r)
        check(not r.grep("TK: FAIL"), "guest printed FAIL", r)


def test_reset_restart(ctx):
    for how in ("cf9", "kbd", "acpi"):
        scen = "reset-" + how
        r = ctx.boot("pvh", scen, ["--mem", "64M"])
        check_pass(r, scen)
        banners = [i for i, l in enumerate(r.tk) if l.startswith("TK: myvmm test kernel")]
        check(len(banners) == 2, "%s: want 2 banners (boot, reboot), got %d" % (scen, len(banners)), r)
        check(r.has("TK: resetting via %s" % how), "no 'resetting via' line", r)
        check(r.tk.index("TK: rebooted") > banners[1], "'rebooted' not after the second banner", r)
        r = ctx.boot("pvh", scen, ["--mem", "64M", "--no-reboot"])
        check(r.rc == 0, "%s --no-reboot: exit status %s, want 0" % (scen, r.rc), r)
        banners = [l for l in r.tk if l.startswith("TK: myvmm test kernel")]
        check(len(banners) == 1, "%s --no-reboot: want 1 banner, got %d" % (scen, len(banners)), r)
        check(not r.has("TK: rebooted"), "--no-reboot but the guest rebooted", r)
        check(not r.grep("TK: FAIL"), "guest printed FAIL", r)


def test_debug_exit(ctx):
    for n in (0, 1, 5, 42):
        r = ctx.boot("pvh", "exit", ["--mem", "64M"], args="tk.code=%d" % n)
        check(r.has("TK: exit %d" % n), "no 'TK: exit %d'" % n, r)
        check(r.rc == ((n << 1) | 1) & 0xff, "tk.code=%d: exit status %s, want %d"
              % (n, r.rc, (n << 1) | 1), r)


def test_timeout(ctx):
    for t, lo, hi in (("2", 2.0, 3.0), ("0.5", 0.5, 1.5)):
        r = ctx.boot("pvh", "hang", ["--mem", "64M"], timeout=t)
        check(r.rc == 124, "--timeout %s: exit status %s, want 124" % (t, r.rc), r)
        check(lo <= r.elapsed <= hi, "--timeout %s: took %.2f s, want %.1f-%.1f s"
              % (t, r.elapsed, lo, hi), r)
        check("timeout" in r.err.lower(), "stderr does not mention the timeout", r)
        if t == "2":  # 0.5 s may pass before the guest prints on a loaded host
            check(r.has("TK: hanging"), "guest never reached the hang", r)


def test_internal_error(ctx):
    for kind, efer in (("pvh", None), ("bz", "500")):
        r = ctx.boot(kind, "int3", ["--mem", "64M"])
        check(r.rc == 3, "tk=int3 (%s): exit status %s, want 3" % (kind, r.rc), r)
        for word in ("RIP", "CR0", "EFER", "code at RIP: cc"):
            check(word in r.err, "register dump lacks %r" % word, r)
        if efer:  # long mode: EFER.LME|LMA in the dump
            check(re.search(r"EFER 0*%s\b" % efer, r.err), "EFER %s not in the 64-bit dump" % efer, r)
        if os.path.exists("/sys/module/kvm_pvm"):
            check("PVM" in r.err and "hint" in r.err, "no PVM hint on a PVM host", r)
        check(r.has("TK: int3"), "guest never reached int3", r)


def bad(ctx, what, argv, keyword, env=None):
    r = ctx.run(raw_argv=argv, env=env)
    check(r.rc == 2, "%s: exit status %s, want 2" % (what, r.rc), r)
    lines = [l for l in r.err.splitlines() if l.strip()]
    check(len(lines) == 1, "%s: want exactly one line on stderr, got %d" % (what, len(lines)), r)
    check(lines[0].startswith("myvmm:"), "%s: stderr line does not start with 'myvmm:'" % what, r)
    check(keyword.lower() in lines[0].lower(), "%s: stderr does not mention %r" % (what, keyword), r)
    check("Traceback" not in r.err and "Segmentation" not in r.err, "%s: noise on stderr" % what, r)
    check(r.out == "", "%s: unexpected stdout" % what, r)


def test_bad_inputs(ctx):
    m, elf, bz = ctx.myvmm, ctx.elf, ctx.bzimage
    T = ["--timeout", "10"]
    data = open(bz, "rb").read()
    rnd = ctx.path("random.bin")
    with open(rnd, "wb") as f:
        f.write(os.urandom(8192))
    old = bytearray(data)
    old[0x206:0x208] = (0x0205).to_bytes(2, "little")
    oldp = ctx.path("old-protocol.bzImage")
    open(oldp, "wb").write(old)
    no64 = bytearray(data)
    no64[0x236] &= ~1
    no64p = ctx.path("no64.bzImage")
    open(no64p, "wb").write(no64)
    trunc = ctx.path("truncated.bzImage")
    open(trunc, "wb").write(data[:600])
    big = ctx.path("big.initrd")
    with open(big, "wb") as f:
        f.truncate(40 * MiB)
    cases = [
        ("no --kernel", [m] + T, "kernel"),
        ("missing kernel", [m, "--kernel", ctx.path("nonexistent")] + T, "no such file"),
        ("directory kernel", [m, "--kernel", ctx.tmp] + T, "directory"),
        ("random bytes", [m, "--kernel", rnd] + T, "not a bzImage"),
        ("protocol 2.05", [m, "--kernel", oldp] + T, "2.05"),
        ("no XLF_KERNEL_64", [m, "--kernel", no64p] + T, "64-bit"),
        ("truncated bzImage", [m, "--kernel", trunc] + T, "short"),
        ("missing initrd", [m, "--kernel", elf, "--initrd", ctx.path("nonexistent")] + T, "initrd"),
        ("initrd > RAM", [m, "--kernel", elf, "--mem", "32M", "--initrd", big] + T, "initrd"),
        ("--mem 0", [m, "--kernel", elf, "--mem", "0"] + T, "--mem"),
        ("--mem abc", [m, "--kernel", elf, "--mem", "abc"] + T, "--mem"),
        ("--mem 1K", [m, "--kernel", elf, "--mem", "1K"] + T, "small"),
        ("--mem 64T", [m, "--kernel", elf, "--mem", "64T"] + T, "--mem"),
        ("--cpus 0", [m, "--kernel", elf, "--cpus", "0"] + T, "--cpus"),
        ("--cpus 300", [m, "--kernel", elf, "--cpus", "300"] + T, "--cpus"),
        ("--cpus x", [m, "--kernel", elf, "--cpus", "x"] + T, "--cpus"),
        ("unknown option", [m, "--kernel", elf, "--frobnicate"] + T, "--frobnicate"),
        ("--console bogus", [m, "--kernel", elf, "--console", "bogus"] + T, "console"),
    ]
    for what, argv, kw in cases:
        bad(ctx, what, argv, kw)
    bad(ctx, "no KVM device", [m, "--kernel", elf] + T, "module",
        env={"MYVMM_KVM_DEV": "/nonexistent"})


def initrd_test(ctx, kind):
    data = os.urandom(100000)
    p = ctx.path("initrd-%s.bin" % kind)
    open(p, "wb").write(data)
    r = ctx.boot(kind, "info", ["--mem", "64M", "--initrd", p])
    check_pass(r, "info")
    m = r.grep(r"TK: initrd 0x([0-9a-f]+) (\d+) sum ([0-9a-f]{8})$")
    check(m, "%s: no initrd line" % kind, r)
    addr, size, s = int(m[0].group(1), 16), int(m[0].group(2)), int(m[0].group(3), 16)
    check(size == 100000, "initrd size %d, want 100000" % size, r)
    check(s == sum32(data), "initrd sum %08x, want %08x" % (s, sum32(data)), r)
    check(addr >= 0x100000 and addr % 4096 == 0 and addr + size <= 64 * MiB,
          "initrd address 0x%x not page-aligned inside RAM" % addr, r)


def test_initrd(ctx):
    initrd_test(ctx, "pvh")
    initrd_test(ctx, "bz")


def test_console_file(ctx):
    p = ctx.path("console.txt")
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--console", "file:" + p])
    check(r.rc == 1, "exit status %s, want 1" % r.rc, r)
    check(not r.tk, "TK lines on stdout with --console file:", r)
    content = open(p, "rb").read().decode("utf-8", "replace")
    tk = [l.rstrip("\r") for l in content.splitlines() if l.startswith("TK: ")]
    check("TK: PASS info" in tk and "TK: pci0 yes" in tk,
          "console file lacks the TK lines: %r" % content[:400], r)


def test_console_input(ctx):
    argv = ctx.argv(ctx.elf, "tk=serial-irq", ["--mem", "64M"], 30)
    v = Live(argv)
    v.wait_line("TK: ready")
    v.p.stdin.write(b"a\x01\x01q")
    v.p.stdin.flush()
    r = v.finish()
    check_pass(r, "serial-irq")
    rx = [m.group(1) for m in r.grep(r"TK: rx ([0-9a-f]{2})$")]
    check(rx == ["61", "01", "71"], "received %s, want 61 01 71" % rx, r)

    v = Live(argv)
    v.wait_line("TK: ready")
    t = time.monotonic()
    v.p.stdin.write(b"\x01x")
    v.p.stdin.flush()
    r = v.finish()
    check(r.rc == 0, "Ctrl-A x: exit status %s, want 0" % r.rc, r)
    check(time.monotonic() - t < 3, "Ctrl-A x took %.1f s" % (time.monotonic() - t), r)
    check(not r.grep(r"TK: rx "), "bytes of Ctrl-A x reached the guest", r)


def test_console_quit(ctx):
    """Ctrl-A x on a piped stdin (no interrupts needed in the guest)."""
    v = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M"], 30))
    v.wait_line("TK: hanging")
    t = time.monotonic()
    v.p.stdin.write(b"\x01x")
    v.p.stdin.flush()
    r = v.finish()
    dt = time.monotonic() - t
    check(r.rc == 0, "Ctrl-A x: exit status %s, want 0" % r.rc, r)
    check(dt < 3, "Ctrl-A x took %.1f s to stop the VM" % dt, r)
    check("Traceback" not in r.err, "noise on stderr", r)


def pty_run(ctx, extra, action, want_rc, timeout=SAFETY_TIMEOUT):
    """Runs tk=hang on a pty; action(proc, master) once 'TK: hanging' shows."""
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        check(before[3] & termios.ICANON and before[3] & termios.ECHO,
              "fresh pty is not in canonical echo mode")
        argv = ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M"] + extra, timeout)
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave)
        buf = b""
        raw_seen = False
        acted = False
        while time.monotonic() - t0 < 20:
            rd, _, _ = select.select([master], [], [], 0.05)
            if rd:
                try:
                    buf += os.read(master, 4096)
                except OSError:
                    pass
            if not acted and b"TK: hanging" in buf:
                raw_seen = not (termios.tcgetattr(slave)[3] & termios.ICANON)
                action(p, master)
                acted = True
            if acted and p.poll() is not None:
                break
        if p.poll() is None:
            p.kill()
            p.wait()
            raise TestFailure("%s: myvmm did not exit; output %r" % (extra, buf))
        # drain what is left
        while select.select([master], [], [], 0.05)[0]:
            try:
                buf += os.read(master, 4096)
            except OSError:
                break
        after = termios.tcgetattr(slave)
        out = buf.decode("utf-8", "replace")
        check(acted, "%s: never saw 'TK: hanging' on the pty: %r" % (extra, out))
        check(raw_seen, "%s: the terminal was not put in raw mode while running" % extra)
        check(p.returncode == want_rc, "%s: exit status %s, want %d; output %r"
              % (extra, p.returncode, want_rc, out))
        for flag in ("ICANON", "ECHO", "ISIG"):
            bit = getattr(termios, flag)
            check(after[3] & bit == before[3] & bit,
                  "%s: lflag %s not restored after exit (before %#x after %#x)"
                  % (extra, flag, before[3], after[3]))
        check(after == before, "%s: termios not restored exactly: %s vs %s" % (extra, before, after))
    finally:
        os.close(master)
        os.close(slave)


def test_pty_restore(ctx):
    pty_run(ctx, [], lambda p, m: os.write(m, b"\x01x"), 0)
    pty_run(ctx, [], lambda p, m: None, 124, timeout=1)
    pty_run(ctx, [], lambda p, m: p.send_signal(signal.SIGTERM), 143)


def test_signals(ctx):
    for sig, want in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        sf = ctx.path("signal-%d.json" % sig)
        v = Live(ctx.argv(ctx.elf, "tk=hang", ["--mem", "64M", "--status-file", sf]),
                 stdin=subprocess.DEVNULL)
        v.wait_line("TK: hanging")
        t = time.monotonic()
        v.p.send_signal(sig)
        r = v.finish()
        dt = time.monotonic() - t
        check(r.rc == want, "%s: exit status %s, want %d" % (sig.name, r.rc, want), r)
        check(dt < 3, "%s: took %.1f s to exit" % (sig.name, dt), r)
        st = json.load(open(sf))
        check(st.get("reason") == "signal" and st.get("signal") == int(sig)
              and st.get("exit_code") == want, "%s: status file %r" % (sig.name, st), r)


def status_of(ctx, kind, scen, extra=(), args="", timeout=SAFETY_TIMEOUT):
    p = ctx.path("status-%s.json" % scen)
    if os.path.exists(p):
        os.unlink(p)
    r = ctx.boot(kind, scen, ["--mem", "64M", "--cpus", "2", "--status-file", p] + list(extra),
                 args=args, timeout=timeout)
    try:
        with open(p) as f:
            st = json.load(f)
    except (OSError, ValueError) as e:
        raise TestFailure("status file for tk=%s unreadable: %s\n%s" % (scen, e, r.describe()))
    check(st.get("exit_code") == r.rc, "status exit_code %s but process exit status %s"
          % (st.get("exit_code"), r.rc), r)
    check(st.get("cpus") == 2, "status cpus %s, want 2" % st.get("cpus"), r)
    check(st.get("memory_bytes") == 64 * MiB, "status memory_bytes %s" % st.get("memory_bytes"), r)
    check(st.get("kernel") == ctx.kernel(kind), "status kernel %r" % st.get("kernel"), r)
    lines = st.get("last_console_lines")
    check(isinstance(lines, list) and r.tk and r.tk[-1] in [l.rstrip("\r") for l in lines],
          "last_console_lines %r lacks the last TK line %r" % (lines, r.tk[-1:]), r)
    return r, st


def test_status_file(ctx):
    cases = [("poweroff", [], "", "poweroff", 0),
             ("exit", [], "tk.code=5", "debug-exit", 11),
             ("hang", [], "", "timeout", 124),
             ("int3", [], "", "internal-error", 3),
             ("reset-cf9", ["--no-reboot"], "", "reset", 0)]
    for scen, extra, args, reason, code in cases:
        r, st = status_of(ctx, "pvh", scen, extra, args, timeout=1 if scen == "hang" else SAFETY_TIMEOUT)
        check(st.get("reason") == reason, "tk=%s: reason %r, want %r" % (scen, st.get("reason"), reason), r)
        check(r.rc == code, "tk=%s: exit status %s, want %d" % (scen, r.rc, code), r)
        check(isinstance(st.get("wall_time_ms"), int), "wall_time_ms not an integer", r)
    r, st = status_of(ctx, "pvh", "reset-cf9")
    check(r.rc == 1 and st.get("reason") == "debug-exit" and st.get("resets") == 1,
          "reset then PASS: exit %s reason %r resets %r, want 1 debug-exit 1"
          % (r.rc, st.get("reason"), st.get("resets")), r)
    r, st = status_of(ctx, "pvh", "exit", args="tk.code=5")
    check(st.get("debug_exit_value") == 5, "debug_exit_value %r" % st.get("debug_exit_value"), r)
    r, st = status_of(ctx, "pvh", "info", ["--expect", "PASS info"])
    check(r.rc == 0 and st.get("reason") == "expect-match",
          "--expect: exit %s reason %r, want 0 expect-match" % (r.rc, st.get("reason")), r)
    r, st = status_of(ctx, "pvh", "info", ["--expect-fail", "TK: PASS"])
    check(r.rc == 5, "--expect-fail: exit status %s, want 5" % r.rc, r)
    check(st.get("reason") == "expect-fail-match", "--expect-fail reason %r" % st.get("reason"), r)


def test_marker(ctx):
    log = ctx.path("marker.log")
    r, st = status_of(ctx, "pvh", "marker", ["--log", log])
    check_pass(r, "marker")
    text = open(log, errors="replace").read()
    check("guest reached userspace at" in text, "log lacks the marker message: %r" % text[-500:], r)
    check(isinstance(st.get("boot_marker_ms"), int) and 0 <= st["boot_marker_ms"] <= r.elapsed * 1000 + 50,
          "boot_marker_ms %r not a plausible number" % st.get("boot_marker_ms"), r)


def test_qemu_reference(ctx):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise TestFailure("qemu-system-x86_64 not found: apt-get install qemu-system-x86")
    # arch-capabilities off: on a PVM host QEMU 7.2 aborts setting MSR 0x10a.
    base = [qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host,-arch-capabilities", "-nodefaults",
            "-no-user-config", "-nographic", "-serial", "stdio", "-m", "128M",
            "-kernel", ctx.elf, "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    r = ctx.run(raw_argv=base + ["-append", "tk=info"])
    check_pass(r, "info")
    check(r.grep(r"TK: e820 "), "QEMU: no e820 lines", r)
    check(r.grep(r"TK: madt cpus 1 "), "QEMU: no 'madt cpus 1'", r)
    r = ctx.run(raw_argv=base + ["-smp", "2", "-append", "tk=smp"])
    check_pass(r, "smp")
    check(r.has("TK: cpus online 2") and r.has("TK: ap 1 up"), "QEMU -smp 2: AP not up", r)
    r = ctx.run(raw_argv=base + ["-append", "tk=exit tk.code=42"])
    check(r.rc == 85, "QEMU tk=exit tk.code=42: exit status %s, want 85" % r.rc, r)


def test_many_vms(ctx):
    n = 20
    procs = []
    t0 = time.monotonic()
    for i in range(n):
        out = open(ctx.path("many-%d.out" % i), "wb+")
        argv = ctx.argv(ctx.elf, "tk=info", ["--mem", "64M"], 90)
        procs.append((subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT), out))
    failures = []
    for i, (p, out) in enumerate(procs):
        try:
            rc = p.wait(timeout=max(1, 100 - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        out.close()
        if rc != 1 or "TK: PASS info" not in text:
            failures.append("VM %d: exit %s\n%s" % (i, rc, text[-600:]))
    check(not failures, "%d of %d VMs failed:\n%s" % (len(failures), n, "\n".join(failures)))


# ------------------------------------------------------------ virtio and CI

SECTOR = 512


def make_image(ctx, name, size):
    """A file of `size` random bytes in the temp dir; returns (path, bytes)."""
    data = os.urandom(size)
    p = ctx.path(name)
    with open(p, "wb") as f:
        f.write(data)
    return p, data


def sectors_sum(data, first, count):
    return sum32(data[first * SECTOR:(first + count) * SECTOR])


def file_md5(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def odirect_dir(ctx):
    """A directory whose file system accepts O_DIRECT (tmpfs does not):
    the temp dir if it works there, else a directory beside myvmm (the build dir)."""
    cands = [ctx.tmp, os.path.join(os.path.dirname(ctx.myvmm), "boot-test-odirect")]
    for d in cands:
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, ".odirect-probe")
        try:
            with open(p, "wb") as f:
                f.write(bytes(4096))
            fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
            try:
                import mmap
                buf = mmap.mmap(-1, 4096)
                os.preadv(fd, [buf], 0)
            finally:
                os.close(fd)
            return d
        except OSError:
            continue
        finally:
            try:
                os.unlink(p)
            except OSError:
                pass
    raise TestFailure("no directory supporting O_DIRECT among %s" % cands)


def check_blk_read(r, data, sector, count, serial, disk=0, scen="blk-read"):
    check_pass(r, scen)
    cap = len(data) // SECTOR
    check(r.has("TK: blk%d capacity %d ro 0 serial %s" % (disk, cap, serial)),
          "expected 'blk%d capacity %d ro 0 serial %s'" % (disk, cap, serial), r)
    want = sectors_sum(data, sector, count)
    m = r.grep(r"TK: blk read %d %d sum ([0-9a-f]{8})$" % (sector, count))
    check(m, "no 'blk read %d %d sum' line" % (sector, count), r)
    check(int(m[0].group(1), 16) == want, "guest sum %s, host sum %08x" % (m[0].group(1), want), r)
    return int(m[0].group(1), 16)


def test_virtio_blk_read(ctx):
    img, data = make_image(ctx, "read.img", 4 * MiB)
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "blk-read", ["--mem", "64M", "--disk", img + ",serial=SN-1"],
                     args="tk.sector=3 tk.count=16")
        check_blk_read(r, data, 3, 16, "SN-1")
        check(r.grep(r"TK: pci 00:[0-9a-f]{2}\.\d 1af4:1042 class 010000$"),
              "%s: no virtio-blk PCI function (1af4:1042 class 010000) listed" % kind, r)
    # The same read through an indirect descriptor table.
    r = ctx.boot("pvh", "blk-indirect", ["--mem", "64M", "--disk", img],
                 args="tk.sector=3 tk.count=16")
    check_pass(r, "blk-indirect")
    want = sectors_sum(data, 3, 16)
    check(r.has("TK: blk indirect read 3 16 sum %08x" % want),
          "indirect read: want sum %08x" % want, r)


def blk_write_case(ctx, kind, directory, cache):
    img = os.path.join(directory, "write-%s-%s.img" % (kind, (cache or "default").replace("=", "-")))
    orig = os.urandom(4 * MiB)
    with open(img, "wb") as f:
        f.write(orig)
    spec = img + ("," + cache if cache else "")
    r = ctx.boot(kind, "blk-write", ["--mem", "64M", "--disk", spec],
                 args="tk.sector=100 tk.count=8 tk.seed=7")
    try:
        got = open(img, "rb").read()
    finally:
        if directory != ctx.tmp:
            os.unlink(img)
    what = "%s %s" % (kind, cache or "cache=writeback")
    check(r.rc == 0, "%s: exit status %s, want 0 (poweroff)" % (what, r.rc), r)
    for l in ("TK: blk write 100 8 status 0", "TK: blk flush status 0", "TK: blk verify ok",
              "TK: poweroff"):
        check(r.has(l), "%s: no %r line" % (what, l), r)
    check(not r.grep("TK: FAIL"), "guest printed FAIL", r)
    check(len(got) == len(orig), "%s: image size changed %d -> %d" % (what, len(orig), len(got)), r)
    pat = bytes((7 + 7 * i + (i >> 9)) & 0xff for i in range(8 * SECTOR))
    lo, hi = 100 * SECTOR, 108 * SECTOR
    check(got[lo:hi] == pat, "%s: bytes at sector 100..107 are not the guest's pattern" % what, r)
    check(got[:lo] == orig[:lo] and got[hi:] == orig[hi:],
          "%s: bytes outside sectors 100..107 changed" % what, r)


def test_virtio_blk_write(ctx):
    blk_write_case(ctx, "pvh", ctx.tmp, None)
    blk_write_case(ctx, "bz", ctx.tmp, None)
    d = odirect_dir(ctx)
    if d != ctx.tmp:
        print("note: %s lacks O_DIRECT; cache=none image in %s" % (ctx.tmp, d), flush=True)
    try:
        blk_write_case(ctx, "pvh", d, "cache=none")
    finally:
        if d != ctx.tmp:
            shutil.rmtree(d, ignore_errors=True)


def test_virtio_blk_ro(ctx):
    img, data = make_image(ctx, "ro.img", 1 * MiB)
    before = file_md5(img)
    r = ctx.boot("pvh", "blk-ro", ["--mem", "64M", "--disk", img + ",ro"])
    check_pass(r, "blk-ro")
    check(r.has("TK: blk ro write status 1"), "write to a ro disk did not fail with status 1", r)
    check(file_md5(img) == before, "read-only image changed", r)


def test_virtio_blk_two(ctx):
    a, da = make_image(ctx, "two-a.img", 4 * MiB)
    b, db = make_image(ctx, "two-b.img", 2 * MiB)
    r = ctx.boot("pvh", "blk-two", ["--mem", "64M", "--disk", a + ",serial=DISK-A",
                                    "--disk", b + ",ro,serial=DISK-B"])
    check_pass(r, "blk-two")
    for i, (d, ser, ro) in enumerate(((da, "DISK-A", 0), (db, "DISK-B", 1))):
        line = "TK: blk%d capacity %d ro %d serial %s" % (i, len(d) // SECTOR, ro, ser)
        check(r.has(line), "expected %r" % line, r)
        line = "TK: blk%d read 0 1 sum %08x" % (i, sectors_sum(d, 0, 1))
        check(r.has(line), "expected %r" % line, r)


def test_virtio_blk_errors(ctx):
    m, elf = ctx.myvmm, ctx.elf
    T = ["--timeout", "10", "--mem", "64M", "--cmdline", "tk=blk-read"]
    odd = ctx.path("odd.img")
    open(odd, "wb").write(os.urandom(1000))
    d = ctx.path("adir")
    os.makedirs(d, exist_ok=True)
    missing = ctx.path("missing.img")
    bad(ctx, "missing image", [m, "--kernel", elf, "--disk", missing] + T, missing)
    bad(ctx, "directory image", [m, "--kernel", elf, "--disk", d] + T, "directory")
    bad(ctx, "1000-byte image", [m, "--kernel", elf, "--disk", odd] + T, "multiple of 512")
    bad(ctx, "unknown disk option", [m, "--kernel", elf, "--disk", odd + ",frob"] + T, "frob")

    img, data = make_image(ctx, "locked.img", 1 * MiB)
    holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", img], 30),
                  stdin=subprocess.DEVNULL)
    try:
        holder.wait_line("TK: hanging")
        bad(ctx, "image held by another VM", [m, "--kernel", elf, "--disk", img] + T, "in use")
        bad(ctx, "image held rw, second ro", [m, "--kernel", elf, "--disk", img + ",ro"] + T, "in use")
    finally:
        holder.kill()
    # Released when the holder dies.
    r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img])
    check_pass(r, "blk-read")
    # Read-only opens share the image.
    holder = Live(ctx.argv(elf, "tk=hang", ["--mem", "64M", "--disk", img + ",ro"], 30),
                  stdin=subprocess.DEVNULL)
    try:
        holder.wait_line("TK: hanging")
        r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img + ",ro"])
        check_pass(r, "blk-read")
        check(r.has("TK: blk read 0 8 sum %08x" % sectors_sum(data, 0, 8)), "wrong sum", r)
        check(r.grep(r"TK: blk0 capacity 2048 ro 1 "), "second ro VM: disk not ro", r)
    finally:
        holder.kill()


def test_virtio_hostile(ctx):
    img, data = make_image(ctx, "hostile.img", 1 * MiB)
    before = file_md5(img)
    r = ctx.boot("pvh", "hostile", ["--mem", "64M", "--disk", img])
    check_pass(r, "hostile")   # exit 1: myvmm survived and the guest finished
    check("Segmentation" not in r.err and "Aborted" not in r.err, "myvmm crashed", r)
    m = r.grep(r"TK: hostile loop status 0x([0-9a-f]+) used ([01])$")
    check(m and int(m[0].group(1), 16) & 0x40, "descriptor loop did not set NEEDS_RESET (0x40)", r)
    check(m[0].group(2) == "0", "a looping chain was completed (used 1)", r)
    m = r.grep(r"TK: hostile badaddr (\S+) status 0x([0-9a-f]+) blk \d+$")
    check(m and m[0].group(1) in ("needs_reset", "ioerr"),
          "bad buffer address: want needs_reset or ioerr", r)
    m = r.grep(r"TK: hostile qsize3 (\S+) size \d+ enable \d+ status 0x([0-9a-f]+)$")
    check(m and m[0].group(1) == "needs_reset" and int(m[0].group(2), 16) & 0x40,
          "queue size 3: want needs_reset", r)
    check(r.has("TK: hostile read 0 1 sum %08x" % sectors_sum(data, 0, 1)),
          "device unusable after reset: wrong or missing read sum", r)
    check(file_md5(img) == before, "hostile guest changed the image", r)


def test_virtio_rng(ctx):
    seen = []
    for _ in range(2):
        r = ctx.boot("pvh", "rng", ["--mem", "64M"])
        check_pass(r, "rng")
        m = r.grep(r"TK: rng ([0-9a-f]{128})$")
        check(m, "no 'rng <128 hex digits>' line", r)
        h = m[0].group(1)
        check(len(set(h[i:i + 2] for i in range(0, 128, 2))) > 1, "all 64 bytes equal", r)
        seen.append(h)
    check(seen[0] != seen[1], "two boots got the same 64 random bytes: %s" % seen[0])


def test_virtio_console(ctx):
    r = ctx.boot("pvh", "vcons", ["--mem", "64M", "--console", "virtio"])
    check_pass(r, "vcons")
    check(r.has("TK: vcons sent"), "no 'vcons sent'", r)
    check("hello from hvc0" in r.lines, "stdout lacks the hvc0 line 'hello from hvc0'", r)


def test_pvpanic(ctx):
    sf = ctx.path("panic.json")
    r = ctx.boot("pvh", "panic", ["--mem", "64M", "--status-file", sf])
    check(r.rc == 4, "tk=panic: exit status %s, want 4" % r.rc, r)
    check("guest panicked" in r.err, "stderr lacks 'guest panicked'", r)
    check(r.has("TK: panicking") and r.grep(r"TK: pvpanic events 0x[0-9a-f]*[13579bdf]$"),
          "pvpanic device missing or PANICKED event not offered", r)
    check(not r.grep("TK: FAIL"), "guest kept running after the panic write", r)
    st = json.load(open(sf))
    check(st.get("reason") == "panic" and st.get("exit_code") == 4, "status file %r" % st, r)


def test_virtio_blk_bench_qd(ctx):
    img, data = make_image(ctx, "bench.img", 4 * MiB)
    before = file_md5(img)
    runs = [("randread", 1, 8)] * 3 + [("seqread", 1, 4)] * 3
    for mode, mib, qd in runs:
        r = ctx.boot("pvh", "blk-bench", ["--mem", "64M", "--disk", img],
                     args="tk.mode=%s tk.mib=%d tk.qd=%d" % (mode, mib, qd))
        check_pass(r, "blk-bench")
        m = r.grep(r"TK: bench %s bytes (\d+) ticks \d+ us (\d+)$" % mode)
        check(m and int(m[0].group(1)) == mib * MiB,
              "%s qd %d: no bench line with %d bytes" % (mode, qd, mib * MiB), r)
    check(file_md5(img) == before, "read benchmark changed the image")


def test_qemu_reference_virtio(ctx):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise TestFailure("qemu-system-x86_64 not found: apt-get install qemu-system-x86")
    img, data = make_image(ctx, "qemu.img", 4 * MiB)
    want = sectors_sum(data, 3, 16)
    r = ctx.boot("pvh", "blk-read", ["--mem", "64M", "--disk", img + ",serial=SN-1"],
                 args="tk.sector=3 tk.count=16")
    ours = check_blk_read(r, data, 3, 16, "SN-1")
    argv = [qemu, "-M", "pc", "-m", "256M", "-enable-kvm", "-cpu", "host,-arch-capabilities",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", ctx.elf,
            "-append", "tk=blk-read tk.sector=3 tk.count=16",
            "-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on,serial=SN-1"]
    r = ctx.run(raw_argv=argv)
    theirs = check_blk_read(r, data, 3, 16, "SN-1")
    check(ours == theirs == want, "sums differ: myvmm %08x QEMU %08x host %08x" % (ours, theirs, want))


def test_multiboot(ctx):
    mem = 128 * MiB
    data = os.urandom(50000)
    p = ctx.path("mb-initrd.bin")
    open(p, "wb").write(data)
    r = ctx.run(ctx.mb, "tk=info", ["--mem", "128M", "--initrd", p])
    check_pass(r, "info")
    check(r.tk and r.tk[0] == "TK: myvmm test kernel (multiboot)",
          "first line is not the multiboot banner", r)
    # console=ttyS0 is added to a command line that names no console
    check(r.has("TK: cmdline tk=info console=ttyS0"), "command line not passed", r)
    check_e820(r, mem)
    m = r.grep(r"TK: initrd 0x([0-9a-f]+) (\d+) sum ([0-9a-f]{8})$")
    check(m and int(m[0].group(2)) == len(data) and int(m[0].group(3), 16) == sum32(data),
          "initrd line wrong: want size %d sum %08x" % (len(data), sum32(data)), r)
    check(r.grep(r"TK: rsdp 0x[0-9a-f]+ rev \d+ ok$"), "RSDP not found by scanning", r)


def test_config_examples(ctx):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")
    cfg = ctx.path("configs")
    run = ctx.path("cwd")
    os.makedirs(cfg, exist_ok=True)
    os.makedirs(run, exist_ok=True)
    for n in ("test-kernel.conf", "ci-boot.conf", "desktop.conf"):
        shutil.copy(os.path.join(src, n), cfg)
    m = ctx.myvmm
    # The example's kernel path (../build/...) is relative to the file: give the built one.
    r = ctx.run(raw_argv=[m, "--config", os.path.join(cfg, "test-kernel.conf"), "--kernel", ctx.elf])
    check_pass(r, "info")
    check_e820(r, 128 * MiB)
    check(r.grep(r"TK: madt cpus 2 "), "cpus = 2 from the file not applied", r)

    # ci-boot.conf: relative console file and status file, expect on PASS.
    argv = [m, "--config", os.path.join(cfg, "ci-boot.conf"), "--kernel", ctx.bzimage]
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=run, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=PROC_TIMEOUT)
    r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    check(r.rc == 0, "ci-boot.conf: exit status %s, want 0 (expect matched)" % r.rc, r)
    check(not r.tk, "ci-boot.conf: TK lines on stdout despite console = file:", r)
    status = os.path.join(cfg, "ci-status.json")   # status-file: relative to the config file
    check(os.path.exists(status), "ci-boot.conf: no %s (status-file resolves against the "
          "config's directory)" % status, r)
    st = json.load(open(status))
    check(st.get("reason") == "expect-match" and st.get("exit_code") == 0 and st.get("name") == "ci-boot",
          "ci-boot.conf: status %r" % st, r)
    # console = file:ci-console.log is not a path key: it is relative to the cwd.
    logs = [q for q in (os.path.join(run, "ci-console.log"), os.path.join(cfg, "ci-console.log"))
            if os.path.exists(q)]
    check(logs, "ci-boot.conf: ci-console.log neither in the cwd nor beside the config", r)
    tk = [l.rstrip("\r") for l in open(logs[0], errors="replace").read().splitlines()
          if l.startswith("TK: ")]
    # myvmm stops as soon as the partial line "TK: PASS" matches the expect
    # regex, so the log may end there without " info\n".
    check("TK: myvmm test kernel (linux64)" in tk and "TK: pci0 yes" in tk
          and any(l.startswith("TK: PASS") for l in tk),
          "ci-boot.conf: console log %s lacks the TK lines" % logs[0], r)

    r = ctx.run(raw_argv=[m, "--config", os.path.join(cfg, "desktop.conf"), "--kernel", ctx.elf,
                          "--display", "none", "--timeout", str(SAFETY_TIMEOUT)])
    check_pass(r, "smp")
    check(r.has("TK: cpus online 2"), "desktop.conf: want 2 CPUs online", r)

    badf = os.path.join(cfg, "bad.conf")
    with open(badf, "w") as f:
        f.write("[machine]\nmem = 64M\nfrobnicate = 1\n")
    bad(ctx, "unknown key in a config file", [m, "--config", badf, "--kernel", ctx.elf], "bad.conf:3:")


def test_check_host(ctx):
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"])
    text = r.out + r.err
    check(r.rc == 0, "--check: exit status %s, want 0 on this host" % r.rc, r)
    m = re.search(r"backend:\s+(.*)", text)
    check(m, "--check does not name the backend", r)
    want = "PVM" if os.path.exists("/sys/module/kvm_pvm") else ("VMX", "SVM")
    check(any(w in m.group(1) for w in ((want,) if isinstance(want, str) else want)),
          "--check backend %r, want %s" % (m.group(1), want), r)
    check(re.search(r"capabilities:.*IRQCHIP=yes", text), "--check lists no capabilities", r)
    check("can run VMs" in text, "--check gives no verdict", r)
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"], env={"MYVMM_KVM_DEV": "/nonexistent"})
    text = r.out + r.err
    check(r.rc not in (0, None), "--check without KVM: exit status %s, want non-zero" % r.rc, r)
    check("/nonexistent" in text and "cannot run" in text, "--check without KVM gives no reason", r)


def test_expect_regex(ctx):
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--expect", "TK: PASS (info|smp)"])
    check(r.rc == 0, "--expect ERE alternation: exit status %s, want 0" % r.rc, r)
    check(r.has("TK: PASS info"), "no PASS line", r)
    r = ctx.boot("pvh", "info", ["--mem", "64M", "--expect-fail", "TK: (PASS|FAIL)"])
    check(r.rc == 5, "--expect-fail: exit status %s, want 5" % r.rc, r)
    check([l for l in r.err.splitlines() if "expect-fail" in l], "no stderr line about --expect-fail", r)
    m, elf = ctx.myvmm, ctx.elf
    bad(ctx, "bad --expect regex", [m, "--kernel", elf, "--expect", "TK: (PASS", "--timeout", "10"],
        "regular expression")
    bad(ctx, "bad --expect-fail regex", [m, "--kernel", elf, "--expect-fail", "[z-a]",
                                         "--timeout", "10"], "regular expression")


def irq_read_check(r, scen, dev, data):
    """The request a tk=msix|intx scenario completed: rng bytes or sector 0."""
    if dev == "blk":
        want = "TK: %s blk read 0 1 status 0 sum %08x" % (scen, sectors_sum(data, 0, 1))
        check(r.has(want), "expected %r" % want, r)
    else:
        m = r.grep(r"TK: %s rng 64 ([0-9a-f]{128})$" % scen)
        check(m and len(set(m[0].group(1)[i:i + 2] for i in range(0, 128, 2))) > 1,
              "no 'TK: %s rng 64 <random hex>' line" % scen, r)


def test_msix(ctx):
    """MSI-X through KVM GSI routes + irqfds: queue vector, masking/PBA, config vector."""
    img, data = make_image(ctx, "msix.img", 1 * MiB)
    for dev, extra in (("rng", []), ("blk", ["--disk", img])):
        r = ctx.boot("pvh", "msix", ["--mem", "64M"] + extra, args="tk.dev=%s" % dev)
        check_pass(r, "msix")
        check(r.grep(r"TK: msix dev %s [0-9a-f]{2}\.0 entries 2 table " % dev),
              "%s: no MSI-X table of 2 entries" % dev, r)
        check(r.has("TK: msix config vector 0 queue0 vector 1 (out of range: 0xffff 0xffff)"),
              "%s: vectors not accepted, or out-of-range ones not refused" % dev, r)
        check(r.has("TK: msix vector 0x42 fired 1"), "%s: queue vector 0x42 did not fire" % dev, r)
        irq_read_check(r, "msix", dev, data)
        check(r.has("TK: msix masked fired 0 pba 0x2"), "%s: masked vector fired or not pending" % dev, r)
        check(r.has("TK: msix masked pending ok"), "%s: pending vector not delivered on unmask" % dev, r)
        check(r.grep(r"TK: msix config vector 0x41 fired 1 status 0x[0-9a-f]*[4-7c-f][0-9a-f]$"),
              "%s: no config interrupt for NEEDS_RESET" % dev, r)
    r = ctx.boot("bz", "msix", ["--mem", "64M"])
    check(r.rc == 255 and r.has("TK: FAIL msix: needs pvh"), "bzImage: want 'FAIL msix: needs pvh'", r)


def test_intx(ctx):
    """INTx pin A -> IOAPIC GSI 16 + slot % 4 (the _PRT's), level-triggered, deasserted by the ISR read."""
    img, data = make_image(ctx, "intx.img", 1 * MiB)
    for dev, extra in (("rng", []), ("blk", ["--disk", img])):
        r = ctx.boot("pvh", "intx", ["--mem", "64M"] + extra, args="tk.dev=%s" % dev)
        check_pass(r, "intx")
        m = r.grep(r"TK: intx dev %s ([0-9a-f]{2})\.0 pin 1 line (\d+) " % dev)
        check(m, "%s: no 'intx dev' line" % dev, r)
        slot, line = int(m[0].group(1), 16), int(m[0].group(2))
        check(line == 16 + slot % 4, "%s: slot %d INTA# line %d, want GSI %d" % (dev, slot, line,
                                                                                 16 + slot % 4), r)
        for rnd in (1, 2):
            check(r.grep(r"TK: intx round %d fired 1 isr 0x1 spurious [01] remote_irr 0$" % rnd),
                  "%s: round %d: want one interrupt with ISR bit 0 and remote IRR clear" % (dev, rnd), r)
        check(r.has("TK: intx gsi %d vector 0x43 fired 2" % line), "%s: no 'intx gsi %d ... fired 2'"
              % (dev, line), r)
        irq_read_check(r, "intx", dev, data)


def test_net_ping(ctx):
    # --net user (libslirp): ARP + ICMP echo to the gateway 10.0.2.2, which
    # slirp answers itself: no network beyond this host is needed.
    for kind in ("pvh", "bz"):
        r = ctx.boot(kind, "net", ["--net", "user", "--mem", "64M"])
        check_pass(r, "net")
        check(r.has("TK: net mac 52:54:00:12:34:56"), "default MAC not in config space", r)
        check(r.grep(r"TK: net arp 10\.0\.2\.2 is [0-9a-f]{2}(:[0-9a-f]{2}){5}$"),
              "no ARP reply from the gateway", r)
        check(r.has("TK: net ping reply seq 1"), "no ICMP echo reply", r)
    r = ctx.boot("pvh", "net", ["--net", "user,mac=02:00:00:aa:bb:cc", "--mem", "64M"])
    check_pass(r, "net")
    check(r.has("TK: net mac 02:00:00:aa:bb:cc"), "mac= not applied", r)
    r = ctx.run(raw_argv=[ctx.myvmm, "--check"])
    check(re.search(r"user network:\s+available", r.out + r.err),
          "--check does not report user networking available", r)
    # Without --net there is no virtio-net: the guest says so.
    r = ctx.boot("pvh", "net", ["--mem", "64M"])
    check(r.grep(r"TK: FAIL net: no virtio-net"), "virtio-net present without --net", r)


def free_udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_net_hostfwd(ctx):
    import socket
    port = free_udp_port()
    argv = ctx.argv(ctx.elf, "tk=net-echo", ["--mem", "64M", "--net",
                                             "user,hostfwd=udp:127.0.0.1:%d-:7" % port])
    live = Live(argv, stdin=subprocess.DEVNULL)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    try:
        live.wait_line("TK: net echo ready")
        for msg in (b"hello from the host", bytes(range(256)) * 4):
            c.sendto(msg, ("127.0.0.1", port))
            try:
                data, src = c.recvfrom(4096)
            except socket.timeout:
                live.kill()
                raise TestFailure("no UDP echo from the guest via hostfwd 127.0.0.1:%d" % port)
            check(data == msg, "echo differs: sent %d bytes, got %d" % (len(msg), len(data)))
            check(src == ("127.0.0.1", port), "echo came from %s, want the forwarded port" % (src,))
        c.sendto(b"quit", ("127.0.0.1", port))
        c.recvfrom(4096)
    finally:
        c.close()
    r = live.finish()
    check_pass(r, "net-echo")
    check(r.has("TK: net echo 19") and r.has("TK: net echo 1024") and r.has("TK: net echo 4"),
          "guest did not report the three datagrams", r)
    # The host port is taken: a clear error naming it, exit 2.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    busy = blocker.getsockname()[1]
    try:
        r = ctx.boot("pvh", "net-echo", ["--net", "user,hostfwd=udp:127.0.0.1:%d-:7" % busy])
    finally:
        blocker.close()
    check(r.rc == 2, "hostfwd on a busy port: exit status %s, want 2" % r.rc, r)
    check("%d" % busy in r.err and "hostfwd" in r.err, "no error naming the busy port", r)
    bad(ctx, "bad hostfwd", ctx.argv(ctx.elf, "tk=net", ["--net", "user,hostfwd=udp::1-:x"]),
        "hostfwd")


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--myvmm", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--mb", help="multiboot test kernel (default: testkernel.mb.elf beside --elf)")
    ap.add_argument("--only", action="append", help="run only this test (repeatable); "
                    "one of: " + ", ".join(TESTS))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    names = a.only or list(TESTS)
    for n in names:
        if n not in TESTS:
            ap.error("unknown test %r; tests: %s" % (n, ", ".join(TESTS)))
    for f in (a.myvmm, a.elf, a.bzimage):
        if not os.path.isfile(f):
            print("FAIL: %s does not exist; build first" % f)
            return 1
    ctx = Ctx(os.path.abspath(a.myvmm), os.path.abspath(a.elf), os.path.abspath(a.bzimage),
              os.path.abspath(a.mb) if a.mb else None)
    failed = []
    try:
        for n in names:
            t0 = time.monotonic()
            try:
                require_kvm()
                TESTS[n](ctx)
                print("PASS %s (%.1f s)" % (n, time.monotonic() - t0), flush=True)
            except TestFailure as e:
                print("FAIL %s (%.1f s): %s" % (n, time.monotonic() - t0, e), flush=True)
                failed.append(n)
    finally:
        if not a.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
