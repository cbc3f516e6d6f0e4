"""The boot tests' framework: run myvmm (to completion, or live with its
stdout read line by line), the assertion helpers, the expectations shared
by several areas (e820 map, PASS line, one-line errors, disk images) and
the registry the area modules fill with @boot_test.

A failed check raises TestFailure; nothing is ever skipped.
"""
import os
import queue
import re
import subprocess
import tempfile
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


def bad(ctx, what, argv, keyword, env=None):
    r = ctx.run(raw_argv=argv, env=env)
    check(r.rc == 2, "%s: exit status %s, want 2" % (what, r.rc), r)
    lines = [l for l in r.err.splitlines() if l.strip()]
    check(len(lines) == 1, "%s: want exactly one line on stderr, got %d" % (what, len(lines)), r)
    check(lines[0].startswith("myvmm:"), "%s: stderr line does not start with 'myvmm:'" % what, r)
    check(keyword.lower() in lines[0].lower(), "%s: stderr does not mention %r" % (what, keyword), r)
    check("Traceback" not in r.err and "Segmentation" not in r.err, "%s: noise on stderr" % what, r)
    check(r.out == "", "%s: unexpected stdout" % what, r)


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


# ------------------------------------------------------------------ registry

class BootTest:
    def __init__(self, name, fn, timeout, labels, serial):
        self.name, self.fn, self.timeout, self.labels, self.serial = name, fn, timeout, labels, serial


TESTS = {}   # name -> BootTest, in registration order


def boot_test(timeout, labels=(), serial=False):
    """Registers test_<name>(ctx) as the ctest test boot.<name>.

    timeout: ctest TIMEOUT in seconds; labels: labels beside "boot";
    serial: RUN_SERIAL (never beside other tests under ctest -j).
    This registry is the only list of boot tests: CMake reads it with
    run_boot_tests.py --list-cmake at configure time."""
    def reg(fn):
        if not fn.__name__.startswith("test_"):
            raise ValueError("boot test %s: the name must start with test_" % fn.__name__)
        name = fn.__name__[5:]
        if name in TESTS:
            raise ValueError("boot test %s registered twice" % name)
        TESTS[name] = BootTest(name, fn, int(timeout), tuple(labels), bool(serial))
        return fn
    return reg
