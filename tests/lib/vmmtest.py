"""Shared pieces of the python test drivers that run myvmm with --api-sock
(tests/api/run_api_tests.py, tests/snapshot/run_snapshot_tests.py): the
failure type, a small HTTP/1.1 client for the API's unix socket, myvmm in the
background with its console read line by line, and the drivers' main().
A driver imports it with tests/lib on sys.path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def call(sock, method, path, body=None, raw=None, timeout=10):
    """One request on a fresh connection: (status, parsed JSON body or None, ms)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    req = "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n" % (method, path)
    if data or method in ("PUT", "PATCH"):
        req += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall(req.encode() + b"\r\n" + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        check(chunk, "connection closed before a response header: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    check(m, "bad status line %r" % lines[0])
    clen = 0
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.strip().lower() == "content-length":
            clen = int(v)
    while len(rest) < clen:
        chunk = s.recv(65536)
        check(chunk, "connection closed inside the body")
        rest += chunk
    s.close()
    ms = (time.monotonic() - t0) * 1000
    return int(m.group(1)), (json.loads(rest[:clen]) if clen else None), ms


class VMM:
    """myvmm with --api-sock (and --timeout, in seconds) in the background;
    stdout (the guest console) read line by line on a thread, stderr in a file."""

    def __init__(self, ctx, args=(), sock=None, timeout=45):
        self.sock = sock or os.path.join(ctx.tmp, "api-%d.sock" % time.monotonic_ns())
        self.argv = [ctx.myvmm, "--api-sock", self.sock, "--timeout", str(timeout)] + list(args)
        self.errf = tempfile.NamedTemporaryFile("w+", dir=ctx.tmp, suffix=".err", delete=False)
        self.lines, self.cv = [], threading.Condition()
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self.errf, text=True, errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for l in self.p.stdout:
            with self.cv:
                self.lines.append(l.rstrip("\r\n"))
                self.cv.notify_all()

    def _drain(self):
        """After the process is gone: the rest of its console."""
        self.reader.join(10)

    def stderr(self):
        with open(self.errf.name) as f:
            return f.read()

    def text(self):
        """The console so far, one string."""
        with self.cv:
            return "\n".join(self.lines)

    def describe(self):
        return "\n  command: %s\n  --- console ---\n%s\n  --- stderr ---\n%s" % (
            " ".join(self.argv), "\n".join(self.lines[-30:]), self.stderr())

    def call(self, method, path, body=None, timeout=30):
        """call() on this VM's socket: (status, parsed JSON body or None)."""
        return call(self.sock, method, path, body, timeout=timeout)[:2]

    def wait_sock(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(self.sock):
                return
            check(self.p.poll() is None, "myvmm exited %s before creating the socket%s" %
                  (self.p.returncode, self.describe()))
            time.sleep(0.01)
        raise TestFailure("no socket after 20 s" + self.describe())

    def wait_line(self, regex, timeout=30):
        """The first console line matching regex."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for l in self.lines:
                    if re.search(regex, l):
                        return l
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.reader.is_alive()):
                    raise TestFailure("console never matched %r%s" % (regex, self.describe()))
                self.cv.wait(min(left, 0.2))

    def count(self, regex):
        with self.cv:
            return sum(1 for l in self.lines if re.search(regex, l))

    def wait(self, timeout=60):
        """Waits for myvmm to exit (and its console to be read): the exit status."""
        rc = self.p.wait(timeout)
        self._drain()
        return rc

    def finish(self, rc, timeout=60):
        """Waits for myvmm to exit with status rc, its API socket removed."""
        try:
            got = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise TestFailure("myvmm still running after %d s%s" % (timeout, self.describe()))
        time.sleep(0.05)
        check(got == rc, "exit status %s, want %s%s" % (got, rc, self.describe()))
        check(not os.path.exists(self.sock), "the API socket %s was left behind" % self.sock)

    def kill(self):
        """SIGKILL (if still running) and reap; the console is read to its end."""
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self._drain()


def main(tests, tmp_prefix):
    """A driver's main(): --myvmm PATH --elf PATH --only NAME [--keep]; runs
    tests[NAME](ctx) in a temporary directory (removed unless --keep). Fails,
    never skips, without /dev/kvm."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--myvmm", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--only", required=True, choices=sorted(tests))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("FAIL: /dev/kvm is missing or not accessible; these tests need KVM")
        return 1
    ctx = argparse.Namespace(myvmm=a.myvmm, elf=a.elf, tmp=tempfile.mkdtemp(prefix=tmp_prefix))
    try:
        tests[a.only](ctx)
    except TestFailure as e:
        print("FAIL %s: %s" % (a.only, e))
        return 1
    finally:
        if not a.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("PASS %s" % a.only)
    return 0
