#!/usr/bin/env python3
"""l1-monitor.py SOCKET CMD...: sends each CMD to a QEMU human monitor on the
unix socket SOCKET and prints what it answers (run-nested.sh uses it to save
a wedged L1's CPU state). Gives up on a command after 10 s of silence."""
import re
import socket
import sys
import time


def read_until_prompt(s, limit=10.0):
    buf = b""
    end = time.monotonic() + limit
    while not buf.endswith(b"(qemu) "):
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace")


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    read_until_prompt(s)
    for cmd in sys.argv[2:]:
        s.sendall(cmd.encode() + b"\n")
        print("### " + cmd)
        text = read_until_prompt(s).replace("\r", "").removesuffix("(qemu) ")
        # the monitor echoes the command with line-editing escapes first
        text = text.split("\n", 1)[1] if "\n" in text else ""
        print(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
