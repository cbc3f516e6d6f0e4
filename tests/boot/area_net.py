"""virtio-net with --net user (libslirp): ping the gateway, host loopback policy, hostfwd."""
import re
import subprocess

from framework import TestFailure, check, Live, check_pass, bad, boot_test


@boot_test(60)
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


@boot_test(90)
def test_net_loopback(ctx):
    # Issue 10 finding 6: 10.0.2.2 used to reach every service on the host's
    # 127.0.0.1. A UDP echo server listens there; the guest probes it through
    # the gateway. Default: no answer and nothing arrives. host-loopback=on:
    # the echo comes back.
    import socket
    import threading
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    got, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, src = srv.recvfrom(4096)
            except socket.timeout:
                continue
            got.append(data)
            srv.sendto(data, src)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = ctx.boot("pvh", "net-probe", ["--net", "user", "--mem", "64M"],
                     args="tk.port=%d" % port)
        check_pass(r, "net-probe")
        check(r.has("TK: net probe no reply"), "the guest reached host loopback by default", r)
        check(not got, "%d datagram(s) from the guest reached 127.0.0.1:%d" % (len(got), port), r)
        # 127.0.0.1 itself and the gateway's aliases are no way around it.
        for net, args in (("user", "tk.lo=1"), ("user", "tk.host=77"),
                          ("user,host-loopback=on", "tk.lo=1")):
            r = ctx.boot("pvh", "net-probe", ["--net", net, "--mem", "64M"],
                         args="tk.port=%d %s" % (port, args))
            check_pass(r, "net-probe")
            check(r.has("TK: net probe no reply") and not got,
                  "--net %s, %s: the guest reached 127.0.0.1:%d" % (net, args, port), r)
        r = ctx.boot("pvh", "net-probe", ["--net", "user,host-loopback=on", "--mem", "64M"],
                     args="tk.port=%d" % port)
        check_pass(r, "net-probe")
        check(r.has("TK: net probe reply 20 bytes"),
              "host-loopback=on: no echo from 127.0.0.1:%d" % port, r)
        check(got and got[0] == b"myvmm loopback probe", "the server got %r" % got[:1], r)
    finally:
        stop.set()
        t.join()
        srv.close()
    r = ctx.run(raw_argv=[ctx.myvmm, "--net", "user,host-loopback=maybe", "--kernel", ctx.elf])
    check(r.rc == 2 and "host-loopback" in r.err, "bad host-loopback= not refused clearly", r)


def free_udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@boot_test(60)
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
