#!/usr/bin/env python3
"""The control socket's HTTP transport errors end to end: every request the
parser refuses gets its status (400 for malformed requests, as Firecracker;
411/413/414/431/505 where HTTP has a precise one) with the API's error body,
{"fault_message": "..."} naming the problem, as application/json; the
connection then closes and the server keeps serving new ones.

    run_http_tests.py --myvmm PATH --elf PATH --only NAME
"""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmmtest  # noqa: E402
from vmmtest import VMM, call, check  # noqa: E402

TESTS = {}


def http_test(fn):
    TESTS[fn.__name__] = fn
    return fn


def raw_exchange(sock, data, timeout=10):
    """Sends data, reads until the server closes: (status, headers dict, body bytes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before it read everything
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    s.close()
    check(b"\r\n\r\n" in buf, "no complete response to %r: %r" % (data[:80], buf))
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) [A-Za-z ]+$", lines[0])
    check(m, "bad status line %r" % lines[0])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(m.group(1)), hdrs, body


@http_test
def http_errors(ctx):
    v = VMM(ctx, [])  # no kernel: waits for the configuration, serving the API
    try:
        v.wait_sock()
        s = v.sock
        long_path = "/" + "a" * 300
        many = "".join("X-%d: y\r\n" % i for i in range(40))
        cases = [
            (b"GARBAGE\r\n\r\n", 400, r"malformed request line"),
            (b"GET / HTTP/1.1\nHost: x\n\n", 400, r"CRLF"),
            (b"GET noslash HTTP/1.1\r\n\r\n", 400, r"path must start with '/'"),
            (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, r"header field"),
            (b"PUT /vsock HTTP/1.1\r\nContent-Length: x1\r\n\r\n", 400, r"Content-Length must be"),
            (b"PUT /vsock HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
             r"disagree"),
            (("PUT /vsock HTTP/1.1\r\nContent-Length: 70000\r\n\r\n" + "x" * 70000).encode(), 413,
             r"Content-Length 70000\) is larger than the limit of 65536 bytes"),
            (("GET %s HTTP/1.1\r\n\r\n" % long_path).encode(), 414,
             r"path is 301 bytes; the limit is 256"),
            (("GET / HTTP/1.1\r\n%s\r\n" % many).encode(), 431, r"more than 32 header fields"),
            (b"GET / HTTP/1.1\r\nX: " + b"z" * 9000 + b"\r\n\r\n", 431, r"head is larger than 8192"),
            (b"PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
             r"Transfer-Encoding .* Content-Length"),
            (b"GET / HTTP/1.2\r\n\r\n", 505, r"HTTP/1.2 is not supported"),
        ]
        for data, status, want in cases:
            st, hdrs, body = raw_exchange(s, data)
            check(st == status, "%r...: status %d, want %d (%r)" % (data[:60], st, status, body))
            check(hdrs.get("content-type") == "application/json" and
                  hdrs.get("connection") == "close" and
                  int(hdrs.get("content-length", -1)) == len(body),
                  "%r...: headers %r body %r" % (data[:60], hdrs, body))
            j = json.loads(body)
            check(isinstance(j, dict) and set(j) == {"fault_message"} and
                  re.search(want, j["fault_message"]),
                  "%r...: body %r, want fault_message matching %r" % (data[:60], j, want))
            # the server is still there for the next client
            st, j, _ = call(s, "GET", "/")
            check(st == 200 and j["state"] == "Not started", "GET / after %r: %d %r" % (data[:40], st, j))
        # a ninth connection while eight are open: 503 with the same body shape
        held = []
        for _ in range(8):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(s)
            held.append(c)
        time.sleep(0.2)
        st, hdrs, body = raw_exchange(s, b"GET / HTTP/1.1\r\n\r\n")
        check(st == 503 and hdrs.get("content-type") == "application/json" and
              json.loads(body) == {"fault_message": "too many API connections open (8 max)"},
              "ninth connection: %d %r %r" % (st, hdrs, body))
        for c in held:
            c.close()
        time.sleep(0.2)
        st, j, _ = call(s, "GET", "/")
        check(st == 200, "GET / after the connections closed: %d" % st)
        # the refused requests are counted (myvmm_api_requests.http_errors)
        m = os.path.join(ctx.tmp, "m.json")
        open(m, "w").close()
        st, j, _ = call(s, "PUT", "/metrics", {"metrics_path": m})
        check(st == 204, "PUT /metrics %d %r" % (st, j))
        st, j, _ = call(s, "PUT", "/actions", {"action_type": "FlushMetrics"})
        check(st == 204, "FlushMetrics %d %r" % (st, j))
        with open(m) as f:
            line = json.loads(f.readline())
        check(line["myvmm_api_requests"]["http_errors"] == len(cases),
              "http_errors %r, want %d" % (line["myvmm_api_requests"], len(cases)))
        v.p.terminate()
        v.p.wait(20)
    finally:
        v.kill()


if __name__ == "__main__":
    sys.exit(vmmtest.main(TESTS, "myvmm-http-"))
