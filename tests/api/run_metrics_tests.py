#!/usr/bin/env python3
"""Firecracker-style metrics (PUT /metrics, FlushMetrics, --metrics FILE and
the --config-file "metrics" section) end to end with the test kernel: the
lines parse as JSON, the counters are the workload's (block bytes of the
test kernel's reads and writes, vCPU port exits, API requests) and count
what happened since the line before, as Firecracker's do.

    run_metrics_tests.py --myvmm PATH --elf PATH --only NAME

Nothing is skipped: without /dev/kvm the tests fail and say why.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402
from vmmtest import TestFailure, VMM, check  # noqa: E402
from run_api_tests import expect, run_myvmm  # noqa: E402

TESTS = {}


def metrics_test(fn):
    TESTS[fn.__name__] = fn
    return fn


def read_lines(path):
    """Every line of the metrics file, parsed (each must be one JSON object)."""
    with open(path) as f:
        text = f.read()
    check(text.endswith("\n"), "the metrics file does not end with a newline: %r" % text[-200:])
    out = []
    for i, l in enumerate(text.splitlines()):
        try:
            j = json.loads(l)
        except ValueError as e:
            raise TestFailure("metrics line %d is not JSON (%s): %r" % (i + 1, e, l[:300]))
        check(isinstance(j, dict), "metrics line %d is not an object: %r" % (i + 1, l[:300]))
        check(list(j)[0] == "utc_timestamp_ms" and isinstance(j["utc_timestamp_ms"], int),
              "metrics line %d does not start with utc_timestamp_ms: %r" % (i + 1, l[:300]))
        out.append(j)
    return out


def total(lines, section, key):
    return sum(l.get(section, {}).get(key, 0) for l in lines)


def disk_image(ctx, name, size=1 << 20):
    path = os.path.join(ctx.tmp, name)
    with open(path, "wb") as f:
        f.write(bytes((i * 7) & 0xff for i in range(size)))
    return path


@metrics_test
def metrics_api(ctx):
    """PUT /metrics: the path must exist (never created), be a file or a
    FIFO, and can be set once; FlushMetrics writes exactly one line, whose
    counters are what happened since the line before; the VM's end writes
    the last line."""
    disk = disk_image(ctx, "a.img")
    v = VMM(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=blk-swap tk.count=16 tk.hold=500",
                  "--disk", disk + ",serial=rootfs"])
    try:
        v.wait_sock()
        v.wait_line(r"^TK: blk-swap waiting$")
        s = v.sock
        m = os.path.join(ctx.tmp, "metrics.json")
        missing = os.path.join(ctx.tmp, "missing.json")
        expect(s, "PUT", "/actions", {"action_type": "FlushMetrics"}, 400, "not set up.*PUT /metrics")
        expect(s, "PUT", "/metrics", {"metrics_path": missing}, 400, "does not exist.*create it")
        check(not os.path.exists(missing), "PUT /metrics created %s" % missing)
        expect(s, "PUT", "/metrics", {"metrics_path": ctx.tmp}, 400, "not a regular file or a FIFO")
        expect(s, "PUT", "/metrics", {"metrics_path": "/dev/null"}, 400, "not a regular file or a FIFO")
        expect(s, "PUT", "/metrics", {}, 400, "metrics_path is required")
        expect(s, "PUT", "/metrics", {"metrics_path": 5}, 400, "'metrics_path' must be a string")
        open(m, "w").close()
        expect(s, "PUT", "/metrics", {"metrics_path": m, "period": 1}, 400, "unknown field 'period'")
        expect(s, "PUT", "/metrics", {"metrics_path": m}, 204)
        expect(s, "PUT", "/metrics", {"metrics_path": m}, 400, "already set up")
        check(os.path.getsize(m) == 0, "PUT /metrics wrote a line by itself")
        expect(s, "PUT", "/actions", {"action_type": "FlushMetrics"}, 204)
        lines = read_lines(m)
        check(len(lines) == 1, "FlushMetrics wrote %d lines, want 1" % len(lines))
        l = lines[0]
        # tk=blk-swap read 16 sectors once before waiting
        check(l["block_rootfs"]["read_bytes"] == 16 * 512 and l["block_rootfs"]["read_count"] == 1
              and l["block_rootfs"]["write_bytes"] == 0, "block_rootfs %r" % l.get("block_rootfs"))
        check(l["block"]["read_bytes"] == 16 * 512, "aggregate block %r" % l.get("block"))
        check(l["vcpu"]["exit_io_out"] > 100 and l["vcpu"]["exit_io_in"] > 0,
              "vcpu exits %r" % l.get("vcpu"))
        p = l["put_api_requests"]
        check(p["metrics_count"] == 8 and p["metrics_fails"] == 7,
              "put_api_requests metrics_count/fails %r" % p)
        check(p["actions_count"] == 2 and p["actions_fails"] == 1, "actions %r" % p)
        check(l["myvmm"]["state"] == "Running" and l["myvmm"]["uptime_ms"] > 0, "myvmm %r" % l["myvmm"])
        check(l["logger"]["missed_metrics_count"] == 0, "logger %r" % l["logger"])
        expect(s, "GET", "/machine-config", None, 200)
        expect(s, "PUT", "/actions", {"action_type": "FlushMetrics"}, 204)
        lines = read_lines(m)
        check(len(lines) == 2, "the second FlushMetrics: %d lines, want 2" % len(lines))
        l = lines[1]
        check(l["block_rootfs"]["read_bytes"] == 0, "nothing read since the first line, yet %r"
              % l["block_rootfs"])
        check(l["put_api_requests"]["metrics_count"] == 0 and
              l["put_api_requests"]["actions_count"] == 1 and
              l["get_api_requests"]["machine_cfg_count"] == 1,
              "API counters since the first line %r %r" % (l["put_api_requests"], l["get_api_requests"]))
        # the same file again: a config change, and the guest reads 16 sectors again
        expect(s, "PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": disk}, 204)
        v.wait_line(r"^TK: PASS blk-swap")
        v.finish(1)
        lines = read_lines(m)
        check(len(lines) == 3, "the VM's end wrote no last line: %d lines" % len(lines))
        check(lines[2]["block_rootfs"]["read_bytes"] == 16 * 512,
              "last line block_rootfs %r" % lines[2]["block_rootfs"])
        check(lines[2]["patch_api_requests"]["drive_count"] == 1, "PATCH /drives not counted")
        check(total(lines, "block_rootfs", "read_bytes") == 2 * 16 * 512, "sum of read_bytes")
    finally:
        v.kill()


@metrics_test
def metrics_cli(ctx):
    """--metrics FILE (a FIFO nobody has opened yet, a file) and the
    --config-file "metrics" section: the workload's writes, flush and reads
    are in the lines; a bad path is one line and exit 2."""
    disk = disk_image(ctx, "w.img")
    fifo = os.path.join(ctx.tmp, "m.fifo")
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        p = run_myvmm(ctx, ["--kernel", ctx.elf, "--cmdline", "tk=blk-write tk.count=8 tk.nopoweroff",
                            "--disk", disk, "--metrics", fifo, "--timeout", "30", "--console", "none"])
        check(p.returncode == 1, "exit %d, want 1 (PASS)\n%s" % (p.returncode, p.stderr))
        data = os.read(rfd, 1 << 20).decode()
    finally:
        os.close(rfd)
    with open(os.path.join(ctx.tmp, "fifo.out"), "w") as f:
        f.write(data)
    lines = read_lines(os.path.join(ctx.tmp, "fifo.out"))
    check(len(lines) == 1, "one line at the VM's end, got %d" % len(lines))
    b = lines[0]["block_disk0"]
    check(b["write_bytes"] == 8 * 512 and b["write_count"] == 1 and b["flush_count"] == 1 and
          b["read_bytes"] == 8 * 512 and b["execute_fails"] == 0, "block_disk0 %r" % b)

    m = os.path.join(ctx.tmp, "cfg-metrics.json")
    open(m, "w").close()
    cfg = {"boot-source": {"kernel_image_path": ctx.elf, "boot_args": "tk=blk-read tk.count=32"},
           "drives": [{"drive_id": "rootfs", "path_on_host": disk, "is_root_device": False,
                       "is_read_only": True}],
           "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
           "metrics": {"metrics_path": m}}
    path = os.path.join(ctx.tmp, "vm.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = run_myvmm(ctx, ["--config-file", path, "--timeout", "30", "--console", "none"])
    check(p.returncode == 1, "config file: exit %d\n%s" % (p.returncode, p.stderr))
    lines = read_lines(m)
    check(total(lines, "block_rootfs", "read_bytes") == 32 * 512 and
          total(lines, "block_rootfs", "write_bytes") == 0,
          "config-file metrics: %r" % [l.get("block_rootfs") for l in lines])

    for args, want in ((["--metrics", os.path.join(ctx.tmp, "none.json")], "does not exist"),
                       (["--metrics", ctx.tmp], "not a regular file or a FIFO")):
        p = run_myvmm(ctx, ["--kernel", ctx.elf, "--timeout", "10"] + args, timeout=30)
        err = [l for l in p.stderr.splitlines() if l.strip()]
        check(p.returncode == 2 and len(err) == 1 and "--metrics" in err[0] and want in err[0],
              "%r: exit %d stderr %r" % (args, p.returncode, p.stderr))
    with open(path, "w") as f:
        json.dump({"boot-source": {"kernel_image_path": ctx.elf},
                   "metrics": {"metrics_path": m, "x": 1}}, f)
    p = run_myvmm(ctx, ["--config-file", path, "--timeout", "10"], timeout=30)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2 and len(err) == 1 and "metrics: unknown field 'x'" in err[0],
          "bad metrics section: exit %d stderr %r" % (p.returncode, p.stderr))


@metrics_test
def metrics_net(ctx):
    """net_eth0 / net count the frames of a UDP echo through --net user
    (tk=net-echo, hostfwd): at least the datagrams' frames, each way, and
    little more (the ARP exchange)."""
    import socket
    import subprocess
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    m = os.path.join(ctx.tmp, "net.json")
    open(m, "w").close()
    p = subprocess.Popen([ctx.myvmm, "--kernel", ctx.elf, "--cmdline", "tk=net-echo", "--mem", "64M",
                          "--net", "user,hostfwd=udp:127.0.0.1:%d-:7" % port, "--metrics", m,
                          "--timeout", "40"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    sizes = (19, 1024, 4)
    try:
        line = ""
        while "TK: net echo ready" not in line:
            line = p.stdout.readline()
            check(line, "the guest never said 'net echo ready' (exit %s)" % p.poll())
        for n in sizes:
            msg = (b"quit" if n == 4 else bytes(range(256)) * 4)[:n]
            c.sendto(msg, ("127.0.0.1", port))
            data, _ = c.recvfrom(4096)
            check(data == msg, "echo of %d bytes differs" % n)
        out, err = p.communicate(timeout=40)
    finally:
        c.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, "exit %s, want 1 (PASS)\n%s" % (p.returncode, err))
    lines = read_lines(m)
    frames = sum(n + 42 for n in sizes)  # Ethernet 14 + IPv4 20 + UDP 8
    for key in ("rx_bytes_count", "tx_bytes_count"):
        got = total(lines, "net_eth0", key)
        check(frames <= got <= frames + 256, "net_eth0.%s %d, want %d..%d" % (key, got, frames,
                                                                             frames + 256))
        check(total(lines, "net", key) == got, "the net aggregate differs for %s" % key)
    for key in ("rx_packets_count", "tx_packets_count"):
        got = total(lines, "net_eth0", key)
        check(len(sizes) <= got <= len(sizes) + 3, "net_eth0.%s %d" % (key, got))


if __name__ == "__main__":
    sys.exit(vmmtest.main(TESTS, "myvmm-metrics-"))
