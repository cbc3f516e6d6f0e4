#!/usr/bin/env python3
"""The control API (--api-sock) end to end: myvmm runs in the background,
the tests talk HTTP/1.1 to its unix socket with a small client (and curl
--unix-socket for one test) and watch the test kernel's console.

    run_api_tests.py --myvmm PATH --elf PATH --only NAME

Nothing is skipped: without /dev/kvm (or curl) the tests fail and say why.
"""
import argparse
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

PROC_TIMEOUT = 60


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


def expect(sock, method, path, body, status, fault=None, raw=None):
    st, j, _ = call(sock, method, path, body, raw)
    check(st == status, "%s %s %r: status %d, want %d (%r)" % (method, path, body, st, status, j))
    if status >= 400:
        check(isinstance(j, dict) and set(j) == {"fault_message"} and j["fault_message"],
              "%s %s: error body must be {\"fault_message\": ...}, got %r" % (method, path, j))
        if fault:
            check(re.search(fault, j["fault_message"]),
                  "%s %s: fault_message %r does not match %r" % (method, path, j["fault_message"], fault))
    elif status == 204:
        check(j is None, "%s %s: 204 with a body %r" % (method, path, j))
    return j


class VMM:
    """myvmm with --api-sock in the background; stdout (the guest console)
    read line by line on a thread."""

    def __init__(self, ctx, args=(), sock=None):
        self.sock = sock or os.path.join(ctx.tmp, "api-%d.sock" % time.monotonic_ns())
        self.argv = [ctx.myvmm, "--api-sock", self.sock, "--timeout", "45"] + list(args)
        self.errf = tempfile.NamedTemporaryFile("w+", dir=ctx.tmp, suffix=".err", delete=False)
        self.lines, self.cv = [], threading.Condition()
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self.errf, text=True, errors="replace")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for l in self.p.stdout:
            with self.cv:
                self.lines.append(l.rstrip("\r\n"))
                self.cv.notify_all()

    def stderr(self):
        with open(self.errf.name) as f:
            return f.read()

    def describe(self):
        return "\n  command: %s\n  --- console ---\n%s\n  --- stderr ---\n%s" % (
            " ".join(self.argv), "\n".join(self.lines[-30:]), self.stderr())

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
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for l in self.lines:
                    if re.search(regex, l):
                        return l
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self._more()):
                    raise TestFailure("console never matched %r%s" % (regex, self.describe()))
                self.cv.wait(min(left, 0.2))

    def _more(self):
        return False

    def count(self, regex):
        with self.cv:
            return sum(1 for l in self.lines if re.search(regex, l))

    def finish(self, rc, timeout=PROC_TIMEOUT):
        try:
            got = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise TestFailure("myvmm still running after %d s%s" % (timeout, self.describe()))
        time.sleep(0.05)
        check(got == rc, "exit status %s, want %s%s" % (got, rc, self.describe()))
        check(not os.path.exists(self.sock), "the API socket %s was left behind" % self.sock)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


TESTS = {}


def api_test(fn):
    TESTS[fn.__name__] = fn
    return fn


def boot_source(ctx, args):
    return {"kernel_image_path": ctx.elf, "boot_args": args}


@api_test
def preboot_calls(ctx):
    """Every pre-boot call with good and bad bodies, then start and check
    that pre-boot calls are refused afterwards."""
    v = VMM(ctx)
    try:
        v.wait_sock()
        s = v.sock
        j = expect(s, "GET", "/", None, 200)
        check(j["state"] == "Not started" and j["id"] == "anonymous-instance", "GET / %r" % j)
        j = expect(s, "GET", "/version", None, 200)
        check(re.match(r"\d+\.\d+", j.get("firecracker_version", "")), "GET /version %r" % j)
        # machine-config
        expect(s, "PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 256}, 204)
        j = expect(s, "GET", "/machine-config", None, 200)
        check(j["vcpu_count"] == 2 and j["mem_size_mib"] == 256, "GET /machine-config %r" % j)
        expect(s, "PATCH", "/machine-config", {"mem_size_mib": 128}, 204)
        expect(s, "PUT", "/machine-config", {"vcpu_count": 0, "mem_size_mib": 128}, 400, "vcpu_count")
        expect(s, "PUT", "/machine-config", {"vcpu_count": "2", "mem_size_mib": 128}, 400, "vcpu_count")
        expect(s, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 128, "bogus": 1}, 400, "bogus")
        expect(s, "PUT", "/machine-config", None, 400, raw=b"{\"vcpu_count\": 1,")
        expect(s, "PUT", "/machine-config", None, 400, raw=b"[1, 2]")
        expect(s, "PUT", "/machine-config", None, 400)
        # boot-source
        expect(s, "PUT", "/boot-source", {"boot_args": "x"}, 400, "kernel_image_path")
        expect(s, "PUT", "/boot-source", {"kernel_image_path": 5}, 400, "kernel_image_path")
        expect(s, "PUT", "/actions", {"action_type": "InstanceStart"}, 400, "boot")
        expect(s, "PUT", "/boot-source", boot_source(ctx, "tk=ticks tk.ticks=5"), 204)
        # drives and network
        disk = os.path.join(ctx.tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        expect(s, "PUT", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk,
                                            "is_root_device": False, "is_read_only": True}, 204)
        expect(s, "PUT", "/drives/rootfs", {"drive_id": "other", "path_on_host": disk,
                                            "is_root_device": False}, 400)
        expect(s, "PUT", "/drives/x", {"drive_id": "x", "path_on_host": 7, "is_root_device": False}, 400)
        expect(s, "PUT", "/drives/bad%20id", {"drive_id": "bad id"}, 400, "id")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk}, 400)
        expect(s, "PUT", "/network-interfaces/eth0", {"iface_id": "eth0", "host_dev_name": "tap0",
                                                      "guest_mac": "zz"}, 400)
        # what is not there, and actions that need a running VM
        expect(s, "PUT", "/snapshot/create", {"snapshot_path": "a", "mem_file_path": "b"}, 400, "not allowed in state Not started")
        vs = os.path.join(ctx.tmp, "v.sock")
        expect(s, "PUT", "/vsock", {"guest_cid": 2, "uds_path": vs}, 400, "guest_cid")
        expect(s, "PUT", "/vsock", {"guest_cid": 3}, 400, "uds_path")
        expect(s, "PUT", "/vsock", {"guest_cid": 3, "uds_path": vs, "x": 1}, 400, "x")
        expect(s, "PUT", "/vsock", {"guest_cid": 3, "uds_path": vs}, 204)
        expect(s, "GET", "/nope", None, 400, "path")
        expect(s, "DELETE", "/machine-config", None, 400)
        expect(s, "PUT", "/actions", {"action_type": "Explode"}, 400, "action_type")
        expect(s, "PUT", "/actions", {"action_type": "SendCtrlAltDel"}, 400)
        expect(s, "PATCH", "/vm", {"state": "Paused"}, 400)
        expect(s, "PATCH", "/vm", {"state": "Sleeping"}, 400, "Paused")
        expect(s, "PUT", "/myvmm/power-button", None, 400)
        j = expect(s, "GET", "/myvmm/status", None, 200)
        check(j["state"] == "Not started", "status before start %r" % j)
        j = expect(s, "GET", "/vm/config", None, 200)
        check(j["boot-source"]["kernel_image_path"] == ctx.elf and
              j["machine-config"]["mem_size_mib"] == 128 and len(j["drives"]) == 1,
              "GET /vm/config %r" % j)
        # start: the configuration built above runs (2 vCPUs... set before)
        expect(s, "PUT", "/actions", {"action_type": "InstanceStart"}, 204)
        expect(s, "PUT", "/actions", {"action_type": "InstanceStart"}, 400, "before InstanceStart")
        expect(s, "PUT", "/boot-source", boot_source(ctx, "tk=exit"), 400, "before InstanceStart")
        expect(s, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}, 400)
        j = expect(s, "GET", "/vm/config", None, 200)
        check(j.get("vsock") == {"guest_cid": 3, "uds_path": vs}, "GET /vm/config vsock %r" % j)
        check(os.path.exists(vs), "PUT /vsock: no vsock socket at %s after start" % vs)
        v.wait_line(r"^TK: PASS ticks")
        v.finish(1)
        check(not os.path.exists(vs), "the vsock socket %s was left behind" % vs)
    finally:
        v.kill()


@api_test
def boot_via_api(ctx):
    """Firecracker's flow with curl --unix-socket: machine-config,
    boot-source, InstanceStart; the guest's e820 shows the API's RAM size."""
    v = VMM(ctx, ["--name", "fc"])
    try:
        v.wait_sock()
        t0 = time.monotonic()
        def curl(method, path, body):
            p = subprocess.run(["curl", "-sS", "--unix-socket", v.sock, "-X", method,
                                "-H", "Content-Type: application/json", "-d", json.dumps(body),
                                "-w", "%{http_code}", "http://localhost" + path],
                               capture_output=True, text=True, timeout=20)
            check(p.returncode == 0 and p.stdout.endswith("204"),
                  "curl %s %s: rc %d, %r %r" % (method, path, p.returncode, p.stdout, p.stderr))
        curl("PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 96})
        curl("PUT", "/boot-source", boot_source(ctx, "tk=smp"))
        curl("PUT", "/actions", {"action_type": "InstanceStart"})
        v.wait_line(r"^TK: PASS smp")
        boot_ms = (time.monotonic() - t0) * 1000
        v.finish(1)
        check("TK: cpus online 2" in v.lines, "the guest did not see 2 vCPUs" + v.describe())
        print("boot via API (3 calls + boot to PASS): %.0f ms" % boot_ms)
    finally:
        v.kill()


@api_test
def pause_resume(ctx):
    """PATCH /vm Paused stops the guest (no ticks for 1 s), Resumed continues."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=60 tk.period=20"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: tick 5$")
        _, _, ms = call(v.sock, "PATCH", "/vm", {"state": "Paused"})
        print("PATCH /vm Paused: %.1f ms" % ms)
        j = expect(v.sock, "GET", "/myvmm/status", None, 200)
        check(j["state"] == "Paused", "status while paused %r" % j)
        time.sleep(0.2)
        n0 = v.count(r"^TK: tick ")
        time.sleep(1.0)
        n1 = v.count(r"^TK: tick ")
        check(n1 == n0, "the guest printed %d ticks while paused%s" % (n1 - n0, v.describe()))
        check(n0 < 60, "the guest finished before the pause took effect")
        expect(v.sock, "PATCH", "/vm", {"state": "Paused"}, 204)   # idempotent
        expect(v.sock, "PATCH", "/vm", {"state": "Resumed"}, 204)
        v.wait_line(r"^TK: tick %d$" % (n1 + 1))
        j = expect(v.sock, "GET", "/myvmm/status", None, 200)
        check(j["state"] == "Running", "status after resume %r" % j)
        v.wait_line(r"^TK: PASS ticks")
        v.finish(1)
    finally:
        v.kill()


@api_test
def power_button(ctx):
    """PUT /myvmm/power-button: the pwrbtn scenario powers off, exit 0."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=pwrbtn"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: pwrbtn armed")
        expect(v.sock, "PUT", "/myvmm/power-button", None, 204)
        v.wait_line(r"^TK: pwrbtn pressed")
        v.finish(0)
    finally:
        v.kill()


@api_test
def ctrl_alt_del(ctx):
    """SendCtrlAltDel: the guest's i8042 delivers Ctrl, Alt, Del make and
    break codes (set 1, the controller translating as after reset)."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=40 tk.period=20"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: tick 2$")
        expect(v.sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"}, 204)
        want = ["0x1d", "0x38", "0xe0", "0x53", "0xe0", "0xd3", "0xb8", "0x9d"]
        v.wait_line(r"^TK: key 0x9d$")
        got = [l.split()[2] for l in v.lines if l.startswith("TK: key ")]
        check(got == want, "key bytes %r, want %r%s" % (got, want, v.describe()))
        v.wait_line(r"^TK: PASS ticks")
        v.finish(1)
    finally:
        v.kill()


@api_test
def status(ctx):
    """GET /myvmm/status: state, uptime, boot marker, CPUs, memory, name."""
    v2 = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=1000 tk.period=20",
                   "--name", "st2", "--cpus", "2", "--mem", "64M"])
    try:
        v2.wait_sock()
        v2.wait_line(r"^TK: tick 1$")   # after the scenario's boot marker
        j = expect(v2.sock, "GET", "/myvmm/status", None, 200)
        check(j["state"] == "Running" and j["name"] == "st2" and j["vcpu_count"] == 2 and
              j["mem_size_mib"] == 64 and j["uptime_ms"] > 0 and j["resets"] == 0 and
              isinstance(j["boot_marker_ms"], int) and 0 < j["boot_marker_ms"] <= j["uptime_ms"],
              "status %r" % j)
        j2 = expect(v2.sock, "GET", "/", None, 200)
        check(j2["id"] == "st2" and j2["state"] == "Running", "GET / %r" % j2)
        lat = sorted(call(v2.sock, "GET", "/myvmm/status")[2] for _ in range(50))
        print("GET /myvmm/status latency: median %.2f ms, max %.2f ms" % (lat[25], lat[-1]))
        v2.p.send_signal(signal.SIGINT)
        v2.finish(128 + signal.SIGINT)
    finally:
        v2.kill()


@api_test
def socket_file(ctx):
    """The socket is 0600 and removed at exit (signal, timeout while waiting);
    an existing file is refused and left alone."""
    v = VMM(ctx)
    try:
        v.wait_sock()
        mode = stat.S_IMODE(os.stat(v.sock).st_mode)
        check(stat.S_ISSOCK(os.stat(v.sock).st_mode) and mode == 0o600,
              "socket mode %o, want 0600" % mode)
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()
    v = VMM(ctx, ["--timeout", "1"])
    try:
        v.finish(124)
    finally:
        v.kill()
    path = os.path.join(ctx.tmp, "existing")
    with open(path, "w") as f:
        f.write("keep me")
    p = subprocess.run([ctx.myvmm, "--api-sock", path, "--kernel", ctx.elf, "--timeout", "10"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, "an existing file: exit %d, want 2 (%r)" % (p.returncode, p.stderr))
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(len(lines) == 1 and path in lines[0], "want one line naming %s: %r" % (path, p.stderr))
    with open(path) as f:
        check(f.read() == "keep me", "the existing file was changed")


@api_test
def vsock_echo(ctx):
    """--vsock: the test kernel connects to PATH_5000 (guest-initiated) and
    echoes 256 KiB of random bytes in 16 KiB rounds; bytes and sum checked
    on both sides, then the host's shutdown ends the guest's loop."""
    import hashlib
    base = os.path.join(ctx.tmp, "v.sock")
    l = socket.socket(socket.AF_UNIX)
    l.bind(base + "_5000")
    l.listen(1)
    l.settimeout(20)
    total = 256 * 1024
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=vsock-echo tk.port=5000",
                  "--vsock", "3," + base])
    try:
        c, _ = l.accept()
        c.settimeout(20)
        data, got = os.urandom(total), bytearray()
        t0 = time.monotonic()
        for off in range(0, total, 16384):
            c.sendall(data[off:off + 16384])
            while len(got) < min(off + 16384, total):
                chunk = c.recv(65536)
                check(chunk, "vsock connection closed after %d bytes%s" % (len(got), v.describe()))
                got += chunk
        dt = time.monotonic() - t0
        check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
              "echoed bytes differ")
        c.shutdown(socket.SHUT_WR)
        v.wait_line(r"^TK: vsock echoed %d bytes sum %d$" % (total, sum(data) & 0xffffffff))
        v.wait_line(r"^TK: PASS vsock-echo")
        v.finish(1)
        check(not os.path.exists(base), "the vsock socket was left behind")
        print("vsock echo: %d KiB both ways in %.2f s" % (total >> 10, dt))
    finally:
        v.kill()
        l.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--myvmm", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--only", required=True, choices=sorted(TESTS))
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("FAIL: /dev/kvm is missing or not accessible")
        return 1
    ctx = argparse.Namespace(myvmm=a.myvmm, elf=a.elf, tmp=tempfile.mkdtemp(prefix="myvmm-api-"))
    try:
        TESTS[a.only](ctx)
    except TestFailure as e:
        print("FAIL %s: %s" % (a.only, e))
        return 1
    print("PASS %s" % a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
