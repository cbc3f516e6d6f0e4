#!/usr/bin/env python3
"""The control API (--api-sock) end to end: myvmm runs in the background,
the tests talk HTTP/1.1 to its unix socket with a small client (and curl
--unix-socket for one test) and watch the test kernel's console.

    run_api_tests.py --myvmm PATH --elf PATH --only NAME

Nothing is skipped: without /dev/kvm (or curl) the tests fail and say why.
"""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402
from vmmtest import TestFailure, VMM, call, check  # noqa: E402,F401


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
        # huge_pages: "2M" is --hugepages (reported back), "None" turns it off, other sizes 400
        expect(s, "PATCH", "/machine-config", {"huge_pages": "2M"}, 204)
        j = expect(s, "GET", "/machine-config", None, 200)
        check(j["huge_pages"] == "2M", "huge_pages after PATCH 2M: %r" % j)
        expect(s, "PATCH", "/machine-config", {"huge_pages": "1G"}, 400, "huge_pages")
        expect(s, "PATCH", "/machine-config", {"huge_pages": "None"}, 204)
        j = expect(s, "GET", "/machine-config", None, 200)
        check(j["huge_pages"] == "None", "huge_pages after PATCH None: %r" % j)
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
        expect(s, "PUT", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk,
                                            "is_root_device": True, "is_read_only": True}, 204)
        expect(s, "PUT", "/drives/rootfs", {"drive_id": "other", "path_on_host": disk,
                                            "is_root_device": False}, 400)
        expect(s, "PUT", "/drives/x", {"drive_id": "x", "path_on_host": 7, "is_root_device": False}, 400)
        expect(s, "PUT", "/drives/bad%20id", {"drive_id": "bad id"}, 400, "id")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk}, 400,
               "after InstanceStart")
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
              j["machine-config"]["mem_size_mib"] == 128 and len(j["drives"]) == 1 and
              j["drives"][0]["is_root_device"] is True,
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
    # The socket appears only once it accepts: clients (Firecracker's SDKs)
    # poll for the file and connect at once. It used to be bound first and
    # listened on after, and a connect in between was refused (seen in CI).
    for i in range(15):
        v = VMM(ctx)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(v.sock):
                check(time.monotonic() < deadline and v.p.poll() is None,
                      "round %d: no socket%s" % (i, v.describe()))
                time.sleep(0.0005)
            try:
                st, _, _ = call(v.sock, "GET", "/")
            except ConnectionRefusedError:
                raise TestFailure("round %d: the socket existed but refused a connection" % i)
            check(st == 200, "round %d: GET / answered %d" % (i, st))
            v.p.send_signal(signal.SIGTERM)
            v.finish(128 + signal.SIGTERM)
        finally:
            v.kill()
        left = [f for f in os.listdir(os.path.dirname(v.sock))
                if f.startswith(os.path.basename(v.sock))]
        check(not left, "round %d: files left beside the socket: %r" % (i, left))
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


def byte_sum(data):
    return sum(data) & 0xffffffff


def run_myvmm(ctx, args, timeout=60):
    return subprocess.run([ctx.myvmm] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


@api_test
def config_file(ctx):
    """--config-file in Firecracker's JSON format boots the test kernel with
    the file's drive, vCPUs and logger; bad files are one line + exit 2."""
    disk = os.path.join(ctx.tmp, "root.img")
    data = bytes((i * 7) & 0xff for i in range(1 << 20))
    with open(disk, "wb") as f:
        f.write(data)
    log = os.path.join(ctx.tmp, "fc.log")
    open(log, "w").close()
    cfg = {
        "boot-source": {"kernel_image_path": ctx.elf, "boot_args": "tk=blk-read tk.count=16",
                        "initrd_path": None},
        "drives": [{"drive_id": "rootfs", "path_on_host": disk, "is_root_device": True,
                    "is_read_only": False, "partuuid": None, "cache_type": "Unsafe",
                    "io_engine": "Sync", "rate_limiter": None}],
        "machine-config": {"vcpu_count": 2, "mem_size_mib": 128, "smt": False,
                           "track_dirty_pages": False},
        "network-interfaces": [],
        "logger": {"log_path": log, "level": "Debug", "show_level": True,
                   "show_log_origin": True},
    }
    path = os.path.join(ctx.tmp, "vm.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    p = run_myvmm(ctx, ["--config-file", path, "--timeout", "30"])
    out = p.stdout.splitlines()
    check(p.returncode == 1, "exit %d, want 1 (PASS)\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
    check("TK: blk0 capacity 2048 ro 0 serial rootfs" in out, "drive not seen: %r" % out)
    check("TK: blk read 0 16 sum %08x" % byte_sum(data[:16 * 512]) in out, "data: %r" % out)
    check("TK: PASS blk-read" in out, "no PASS: %r" % out)
    with open(log) as f:
        text = f.read()
    check(re.search(r"^\[ *[0-9.]+\] info: src/main\.c:\d+: VM stopped", text, re.M),
          "logger level/show_level/show_log_origin not applied: %r" % text)
    # the same file through --config (content decides) with --api-sock: GET /vm/config
    v = VMM(ctx, ["--config", path, "--cmdline", "tk=ticks tk.ticks=400 tk.period=20"])
    try:
        v.wait_sock()
        j = expect(v.sock, "GET", "/vm/config", None, 200)
        check(j["machine-config"]["vcpu_count"] == 2 and j["machine-config"]["mem_size_mib"] == 128
              and j["drives"][0]["drive_id"] == "rootfs" and j["drives"][0]["path_on_host"] == disk,
              "GET /vm/config %r" % j)
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()
    bad = [
        ('{"boot-source": {"kernel_image_path": "%s", "bogus": 1}}' % ctx.elf, r"boot-source: unknown field 'bogus'"),
        ('{"boot-source": {"kernel_image_path": 5}}', r"boot-source: field 'kernel_image_path' must be a string"),
        ('{"drives": [{"drive_id": "d", "is_root_device": false}]}', r"drives\[0\]: path_on_host is required"),
        ('{"drives": {"drive_id": "d"}}', r"\"drives\" must be an array"),
        ('{"drives": [{"path_on_host": "x"}]}', r"drives\[0\]: .*'drive_id'"),
        ('{"machine-config": {"vcpu_count": 0, "mem_size_mib": 64}}', r"machine-config: field 'vcpu_count'"),
        ('{"machine-config": {"vcpu_count": 1}}', r"machine-config: vcpu_count and mem_size_mib are required"),
        ('{"network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap0"}]}', r"network-interfaces\[0\]: host_dev_name 'tap0'"),
        ('{"vsock": {"guest_cid": 2, "uds_path": "/tmp/x"}}', r"vsock: field 'guest_cid'"),
        ('{"boot-source": {"kernel_image_path": "%s"}, "logger": {"log_path": "%s/missing.log"}}'
         % (ctx.elf, ctx.tmp), r"logger.log_path .*missing.log: No such file"),
        ('{"logger": {"log_path": "%s", "level": "Loud"}}' % log, r"logger: level 'Loud'"),
        ('{"balloon": {"amount_mib": 1}}', r'unknown section "balloon"'),
        ('{"boot-source": {"kernel_image_path": "a"}, "boot-source": {}}', r"invalid JSON.*duplicate"),
        ('{"boot-source": ', r"invalid JSON at line 1"),
        ('[{"boot-source": {}}]', r"top level must be a JSON object"),
    ]
    for text, want in bad:
        with open(path, "w") as f:
            f.write(text)
        p = run_myvmm(ctx, ["--config-file", path, "--timeout", "10"], timeout=30)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        check(p.returncode == 2 and len(lines) == 1 and re.search(want, lines[0]),
              "config %s: exit %d, stderr %r; want exit 2 and one line matching %r" %
              (text, p.returncode, p.stderr, want))


def lock_free(path):
    """True when no other process holds a lock on path (POSIX and OFD locks conflict)."""
    import fcntl
    with open(path, "r+b") as f:
        try:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.lockf(f, fcntl.LOCK_UN)
        return True


@api_test
def drive_swap(ctx):
    """PATCH /drives/{id} on a running VM: bad requests leave the disk alone;
    a good one swaps the backing file (the old file's lock released, the new
    one locked), and the guest sees the config change, the new capacity and
    the new file's bytes."""
    a, b = os.path.join(ctx.tmp, "a.img"), os.path.join(ctx.tmp, "b.img")
    da = bytes((i * 3) & 0xff for i in range(1 << 20))
    db = bytes((i * 5 + 1) & 0xff for i in range(2 << 20))
    for path, data in ((a, da), (b, db)):
        with open(path, "wb") as f:
            f.write(data)
    qcow = os.path.join(ctx.tmp, "q.img")
    with open(qcow, "wb") as f:
        f.write(b"QFI\xfb\x00\x00\x00\x03" + bytes(1 << 20))
    held = os.path.join(ctx.tmp, "held.img")
    with open(held, "wb") as f:
        f.write(bytes(1 << 20))
    odd = os.path.join(ctx.tmp, "odd.img")
    with open(odd, "wb") as f:
        f.write(bytes(1000))
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=blk-swap tk.count=16 tk.hold=2000",
                  "--disk", a + ",serial=rootfs"])
    import fcntl
    hf = open(held, "r+b")
    fcntl.lockf(hf, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        v.wait_sock()
        v.wait_line(r"^TK: blk-swap waiting$")
        check("TK: blk-swap before capacity 2048 sum %08x" % byte_sum(da[:8192]) in v.lines,
              "before: %s" % v.describe())
        check(not lock_free(a), "the running disk %s is not locked" % a)
        s = v.sock
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "other", "path_on_host": b}, 400, "same")
        expect(s, "PATCH", "/drives/nodisk", {"drive_id": "nodisk", "path_on_host": b}, 400, "no drive")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs"}, 400, "path_on_host")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": b, "x": 1}, 400, "'x'")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": b,
                                               "rate_limiter": {"bandwidth": {}}}, 400, "rate_limiter")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": b + ".none"}, 400,
               "No such file|not exist|cannot")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": qcow}, 400, "qcow2")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": held}, 400, "lock|in use")
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": odd}, 400, "512")
        time.sleep(0.3)
        check(v.count(r"^TK: blk-swap after") == 0, "a refused PATCH changed the disk" + v.describe())
        check(not lock_free(a), "a refused PATCH released the lock on %s" % a)
        _, _, ms = call(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": b})
        v.wait_line(r"^TK: blk-swap after ")
        want = "TK: blk-swap after capacity 4096 sum %08x" % byte_sum(db[:8192])
        check(want in v.lines, "want %r%s" % (want, v.describe()))
        check(lock_free(a), "the old image %s is still locked after the swap" % a)
        check(not lock_free(b), "the new image %s is not locked" % b)
        j = expect(s, "GET", "/vm/config", None, 200)
        check(j["drives"][0]["path_on_host"] == b, "GET /vm/config after the swap %r" % j)
        v.wait_line(r"^TK: PASS blk-swap")
        v.finish(1)
        print("PATCH /drives swap: %.1f ms" % ms)
    finally:
        hf.close()
        v.kill()


@api_test
def logger(ctx):
    """PUT /logger: the path must exist (file or FIFO, never created); the
    level and show_level/show_log_origin shape the lines; bad bodies 400."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=1000 tk.period=20"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: tick 1$")
        s = v.sock
        f = os.path.join(ctx.tmp, "vmm.log")
        missing = os.path.join(ctx.tmp, "missing.log")
        expect(s, "PUT", "/logger", {"log_path": missing}, 400, "does not exist")
        check(not os.path.exists(missing), "PUT /logger created %s" % missing)
        expect(s, "PUT", "/logger", {"log_path": ctx.tmp}, 400, "Is a directory")
        expect(s, "PUT", "/logger", {"log_path": "/dev/null"}, 400, "not a regular file or a FIFO")
        open(f, "w").close()
        expect(s, "PUT", "/logger", {}, 400, "log_path")
        expect(s, "PUT", "/logger", {"log_path": f, "level": "Loud"}, 400, "level")
        expect(s, "PUT", "/logger", {"log_path": f, "level": 3}, 400, "level")
        expect(s, "PUT", "/logger", {"log_path": f, "show_level": "yes"}, 400, "show_level")
        expect(s, "PUT", "/logger", {"log_path": f, "module": "api"}, 400, "module")
        expect(s, "PUT", "/logger", {"log_path": f, "colour": True}, 400, "colour")
        expect(s, "PUT", "/logger", {"log_path": f, "level": "info", "show_level": True,
                                     "show_log_origin": True}, 204)
        fifo = os.path.join(ctx.tmp, "log.fifo")
        os.mkfifo(fifo)
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        expect(s, "PUT", "/logger", {"log_path": fifo, "level": "Debug"}, 204)
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
        with open(f) as fh:
            text = fh.read()
        check(re.search(r"^\[ *[0-9.]+\] info: src/api/backend\.c:\d+: logging to %s" % re.escape(f),
                        text, re.M), "file log (level, origin): %r" % text)
        fifo_text = os.read(rfd, 65536).decode()
        os.close(rfd)
        check(re.search(r"^\[ *[0-9.]+\] logging to %s \(PUT /logger\)$" % re.escape(fifo), fifo_text, re.M)
              and "info:" not in fifo_text and re.search(r"VM stopped", fifo_text),
              "FIFO log (no level, no origin by default): %r" % fifo_text)
    finally:
        v.kill()


def png_rgb(path):
    """(width, height, rows of RGB bytes) of myvmm's PNGs (8-bit RGB, filter 0)."""
    import struct, zlib
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype == 2, "PNG depth %d colour type %d" % (depth, ctype))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows = []
    for y in range(h):
        row = raw[y * (3 * w + 1):(y + 1) * (3 * w + 1)]
        check(row[0] == 0, "row %d filter %d" % (y, row[0]))
        rows.append(row[1:])
    return w, h, rows


@api_test
def screenshot(ctx):
    """PUT /myvmm/screenshot: a PNG of the framebuffer (the fb scenario's bars);
    400 without a display device, before start, or for a bad path."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=1000 tk.period=20"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: tick 1$")
        expect(v.sock, "PUT", "/myvmm/screenshot", {"path": os.path.join(ctx.tmp, "n.png")}, 400,
               "no display device")
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()
    v = VMM(ctx)
    try:
        v.wait_sock()
        expect(v.sock, "PUT", "/myvmm/screenshot", {"path": "x.png"}, 400, "after InstanceStart")
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=fb tk.hold=30",
                  "--screenshot", os.path.join(ctx.tmp, "exit.png")])
    try:
        v.wait_sock()
        s = v.sock
        v.wait_line(r"^TK: fb 1024x768 drawn$")
        shot = os.path.join(ctx.tmp, "shot.png")
        expect(s, "PUT", "/myvmm/screenshot", {}, 400, "path")
        expect(s, "PUT", "/myvmm/screenshot", {"path": 1}, 400, "path")
        expect(s, "PUT", "/myvmm/screenshot", {"path": os.path.join(ctx.tmp, "no/dir/x.png")}, 400,
               "No such file")
        _, _, ms = call(s, "PUT", "/myvmm/screenshot", {"path": shot})
        w, h, rows = png_rgb(shot)
        check((w, h) == (1024, 768), "screenshot %dx%d" % (w, h))
        bars = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000]
        for b, rgb in enumerate(bars):
            x = b * 128 + 64
            got = tuple(rows[100][3 * x:3 * x + 3])
            check(got == ((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255),
                  "bar %d pixel %r, want %06x" % (b, got, rgb))
        check(tuple(rows[700][0:3]) == (0x40, 0x40, 0x40), "grey half %r" % (rows[700][0:3],))
        check(not os.path.exists(shot + ".tmp"), "temporary file left behind")
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
        print("PUT /myvmm/screenshot (1024x768): %.1f ms" % ms)
    finally:
        v.kill()


@api_test
def console(ctx):
    """GET /myvmm/console names the unix socket of --console unix:PATH; a
    client attached there reads the guest's console. 400 with stdio."""
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=40 tk.period=20"])
    try:
        v.wait_sock()
        expect(v.sock, "GET", "/myvmm/console", None, 400, "--console unix")
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()
    con = os.path.join(ctx.tmp, "con.sock")
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=1000 tk.period=20",
                  "--console", "unix:" + con])
    try:
        v.wait_sock()
        j = expect(v.sock, "GET", "/myvmm/console", None, 200)
        check(j == {"type": "unix", "path": con}, "GET /myvmm/console %r" % j)
        expect(v.sock, "PUT", "/myvmm/console", {}, 400, "method")
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(20)
        c.connect(j["path"])
        buf = b""
        while not re.search(rb"TK: tick \d+\r?\n", buf):
            chunk = c.recv(4096)
            check(chunk, "console socket closed: %r" % buf)
            buf += chunk
        c.close()
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()


def vsock_stream(ctx, c, total, v):
    """Streams total random bytes into c while reading the echo back;
    returns (seconds, data, echoed)."""
    data, got = os.urandom(total), bytearray()
    err = []

    def send():
        try:
            c.sendall(data)
        except OSError as e:
            err.append(e)
    t0 = time.monotonic()
    th = threading.Thread(target=send, daemon=True)
    th.start()
    while len(got) < total:
        try:
            chunk = c.recv(1 << 20)
        except OSError as e:
            raise TestFailure("vsock recv after %d of %d bytes: %s%s" % (len(got), total, e, v.describe()))
        check(chunk, "vsock connection closed after %d of %d bytes%s" % (len(got), total, v.describe()))
        got += chunk
    dt = time.monotonic() - t0
    th.join(10)
    check(not err, "sending: %r" % err)
    return dt, data, bytes(got)


@api_test
def vsock_host_connect(ctx):
    """Host-initiated vsock: connect to the hybrid socket, "CONNECT 5001\\n",
    "OK <port>\\n", then VSOCK_MIB (default 16) MiB of random bytes streamed to
    the guest's listener and echoed back, checked by sha256 on the host (the
    guest's byte sum, ~6 s/MiB under kvm_pvm's emulator, only for VSOCK_MIB
    <= 1; vsock_echo checks it on 256 KiB). A CONNECT to a port nobody
    listens on is closed."""
    import hashlib
    total = int(float(os.environ.get("VSOCK_MIB", "16")) * (1 << 20))
    gsum = total <= (1 << 20)
    base = os.path.join(ctx.tmp, "hv.sock")
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=vsock-listen tk.port=5001 tk.sum=%d" % gsum,
                  "--vsock", "3," + base])
    try:
        v.wait_line(r"^TK: vsock cid 3 listening on port 5001$")
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(30)
        c.connect(base)
        c.sendall(b"CONNECT 5001\n")
        line = b""
        while not line.endswith(b"\n"):
            ch = c.recv(1)
            check(ch, "no OK line: %r%s" % (line, v.describe()))
            line += ch
        m = re.match(rb"^OK (\d+)\n$", line)
        check(m, "want 'OK <port>', got %r" % line)
        v.wait_line(r"^TK: vsock accepted host port %s$" % m.group(1).decode())
        dt, data, got = vsock_stream(ctx, c, total, v)
        check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
              "echoed bytes differ (sha256)")
        c.shutdown(socket.SHUT_WR)
        v.wait_line(r"^TK: vsock echoed %d bytes sum %d$" % (total, byte_sum(data) if gsum else 0),
                    timeout=60)
        v.wait_line(r"^TK: PASS vsock-listen")
        c.close()
        v.finish(1)
        print("vsock host-initiated: %.1f MiB each way in %.2f s (%.2f MiB/s)" %
              (total / (1 << 20), dt, total / (1 << 20) / dt))
    finally:
        v.kill()
    # nobody listens on 6000: the device's REQUEST gets a RST, the client EOF
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=ticks tk.ticks=1000 tk.period=20",
                  "--vsock", "3," + base])
    try:
        v.wait_line(r"^TK: tick 1$")
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(20)
        c.connect(base)
        c.sendall(b"CONNECT 6000\n")
        check(c.recv(64) == b"", "a CONNECT nobody accepts must end in EOF")
        c.close()
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()


def curl_call(sock, method, path, body=None):
    """curl --unix-socket: (status, parsed body or None, content type)."""
    args = ["curl", "-sS", "--unix-socket", sock, "-X", method, "-o", "-", "-w",
            "\\n%{http_code} %{content_type}", "http://localhost" + path]
    if body is not None:
        args[4:4] = ["-H", "Content-Type: application/json", "--data-binary",
                     body if isinstance(body, str) else json.dumps(body)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=20)
    check(p.returncode == 0, "curl %s %s: rc %d %r" % (method, path, p.returncode, p.stderr))
    text, _, tail = p.stdout.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), (json.loads(text) if text else None), ctype


@api_test
def swagger(ctx):
    """Every call through curl --unix-socket, as Firecracker's swagger has
    them: bodies that are not JSON, not an object, or carry an unknown field
    are 400 with exactly {"fault_message"}; GETs are 200 application/json;
    unknown paths and methods 400. Before and after InstanceStart."""
    disk = os.path.join(ctx.tmp, "d.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    log = os.path.join(ctx.tmp, "s.log")
    open(log, "w").close()
    good = {
        ("PUT", "/machine-config"): {"vcpu_count": 1, "mem_size_mib": 64},
        ("PATCH", "/machine-config"): {"mem_size_mib": 64},
        ("PUT", "/boot-source"): {"kernel_image_path": ctx.elf,
                                  "boot_args": "tk=ticks tk.ticks=2000 tk.period=20"},
        ("PUT", "/drives/d0"): {"drive_id": "d0", "path_on_host": disk, "is_root_device": False},
        ("PUT", "/network-interfaces/eth0"): {"iface_id": "eth0"},
        ("PUT", "/vsock"): {"guest_cid": 3, "uds_path": os.path.join(ctx.tmp, "sw.sock")},
        ("PUT", "/logger"): {"log_path": log, "level": "Info"},
    }
    after = [("PATCH", "/vm"), ("PATCH", "/drives/d0"), ("PUT", "/myvmm/screenshot")]
    v = VMM(ctx)

    def bad_bodies(method, path):
        for body, why in (("{\"a\":", "invalid JSON"), ("[1]", "JSON object"), ("7", "JSON object|expected"),
                          ({"no_such_field": 1}, "unknown field 'no_such_field'"),
                          ("{\"k\":1,\"k\":2}", "duplicate")):
            st, j, ctype = curl_call(v.sock, method, path, body)
            check(st == 400 and isinstance(j, dict) and set(j) == {"fault_message"} and
                  re.search(why, j["fault_message"]) and ctype.startswith("application/json"),
                  "%s %s %r: %d %r %s, want 400 fault_message ~ %r" % (method, path, body, st, j,
                                                                       ctype, why))
    try:
        v.wait_sock()
        for (method, path) in list(good) + [("PUT", "/actions")]:
            bad_bodies(method, path)
        for (method, path), body in good.items():
            st, j, _ = curl_call(v.sock, method, path, body)
            check(st == 204 and j is None, "%s %s: %d %r, want 204" % (method, path, st, j))
        for method, path in after:
            st, j, _ = curl_call(v.sock, method, path, {})
            check(st == 400 and "fault_message" in j, "%s %s before start: %d %r" % (method, path, st, j))
        for path in ("/", "/version", "/machine-config", "/vm/config", "/myvmm/status"):
            st, j, ctype = curl_call(v.sock, "GET", path)
            check(st == 200 and isinstance(j, dict) and ctype == "application/json",
                  "GET %s: %d %r %s" % (path, st, j, ctype))
        for method, path in (("GET", "/balloon"), ("PUT", "/mmds"), ("PUT", "/metrics"),
                             ("PUT", "/entropy"), ("DELETE", "/vm"), ("POST", "/actions"),
                             ("GET", "/drives/d0"), ("PUT", "/drives/"), ("PUT", "/drives/a-b")):
            st, j, _ = curl_call(v.sock, method, path, {} if method != "GET" else None)
            check(st == 400 and set(j) == {"fault_message"}, "%s %s: %d %r" % (method, path, st, j))
        st, j, _ = curl_call(v.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        check(st == 204, "InstanceStart: %d %r" % (st, j))
        v.wait_line(r"^TK: tick 1$")
        for method, path in after:
            bad_bodies(method, path)
        for (method, path) in good:
            if path != "/logger":
                st, j, _ = curl_call(v.sock, method, path, good[(method, path)])
                check(st == 400 and "InstanceStart" in j["fault_message"],
                      "%s %s after start: %d %r" % (method, path, st, j))
        for body in ({"state": "Paused"}, {"state": "Resumed"}):
            st, j, _ = curl_call(v.sock, "PATCH", "/vm", body)
            check(st == 204, "PATCH /vm %r: %d %r" % (body, st, j))
        st, j, _ = curl_call(v.sock, "PATCH", "/drives/d0", {"drive_id": "d0", "path_on_host": disk})
        check(st == 204, "PATCH /drives/d0 (same file: size re-read): %d %r" % (st, j))
        st, j, _ = curl_call(v.sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"})
        check(st == 204, "SendCtrlAltDel: %d %r" % (st, j))
        v.p.send_signal(signal.SIGTERM)
        v.finish(128 + signal.SIGTERM)
    finally:
        v.kill()


if __name__ == "__main__":
    sys.exit(vmmtest.main(TESTS, "myvmm-api-"))
